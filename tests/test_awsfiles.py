"""The AWS shared files reader (launcher/core/awsfiles.py) against botocore's own reading of the same files
(boto3 1.44.8, test-only), and the cases where botocore fails as bad-input rows of a real start.
The golden cases recorded from the toolkit are tests/golden/region_*.json (tests/test_golden.py)."""

import json
import os

import botocore.exceptions
import botocore.session
import pytest
from conftest import clean_env, make_tree, run_pyz
from test_bad_input import error_lines, snapshot

from launcher.core import awsfiles
from launcher.errors import JobError

CFG = ".aws/config"
CREDS = ".aws/credentials"

# (id, files under HOME, environment) for which sm-train must find what botocore finds, or fail where it fails.
PARITY = [
    ("default", {CFG: "[default]\nregion = us-east-2\n"}, {}),
    ("profile", {CFG: "[default]\nregion=us-east-2\n[profile p]\nregion=ap-south-1\n"}, {"AWS_PROFILE": "p"}),
    ("default_profile_var", {CFG: "[profile p]\nregion=ap-south-1\n[profile q]\nregion=eu-west-1\n"},
     {"AWS_PROFILE": "q", "AWS_DEFAULT_PROFILE": "p"}),
    ("empty_default_profile_var", {CFG: "[profile q]\nregion=eu-west-1\n"},
     {"AWS_PROFILE": "q", "AWS_DEFAULT_PROFILE": ""}),
    ("env_region", {CFG: "[default]\nregion=us-east-2\n"}, {"AWS_DEFAULT_REGION": "eu-west-2"}),
    ("env_region_empty", {CFG: "[default]\nregion=us-east-2\n"}, {"AWS_DEFAULT_REGION": ""}),
    ("aws_region_ignored", {}, {"AWS_REGION": "eu-west-1"}),
    ("no_files", {}, {}),
    ("empty_region", {CFG: "[default]\nregion =\n"}, {}),
    ("single_quotes", {CFG: "[profile 'a b']\nregion=eu-west-1\n"}, {"AWS_PROFILE": "a b"}),
    ("profile_prefix_word", {CFG: "[profilex dev]\nregion=eu-west-1\n"}, {"AWS_PROFILE": "dev"}),
    ("three_words", {CFG: "[profile dev extra]\nregion=eu-west-1\n"}, {"AWS_PROFILE": "dev"}),
    ("unterminated_quote", {CFG: '[profile "dev]\nregion=eu-west-1\n'}, {"AWS_PROFILE": '"dev'}),
    ("capital_default", {CFG: "[Default]\nregion=eu-west-1\n"}, {}),
    ("capital_key", {CFG: "[default]\nREGION=eu-west-1\n"}, {}),
    ("inline_hash_kept", {CFG: "[default]\nregion = eu-west-1 # mine\n"}, {}),
    ("comments", {CFG: "# top\n[default]\n; note\nregion=eu-west-1\n"}, {}),
    ("colon", {CFG: "[default]\nregion: eu-west-1\n"}, {}),
    ("sub_section_elsewhere", {CFG: "[default]\ns3 =\n  addressing_style = path\nregion=eu-west-1\n"}, {}),
    ("sso_session_not_profile", {CFG: "[sso-session dev]\nregion=eu-west-1\n"}, {"AWS_PROFILE": "dev"}),
    ("credentials_wins_by_key", {CFG: "[profile d]\nregion=us-east-2\noutput=json\n",
                                 CREDS: "[d]\naws_access_key_id=AKIDEXAMPLE\n"}, {"AWS_PROFILE": "d"}),
    ("credentials_profile_prefix", {CREDS: "[profile d]\nregion=us-east-2\n"}, {"AWS_PROFILE": "profile d"}),
    ("credentials_empty_var", {CREDS: "[default]\nregion=us-east-2\n"}, {"AWS_SHARED_CREDENTIALS_FILE": ""}),
    ("config_is_directory", {"cfgdir/x": ""}, {"AWS_CONFIG_FILE": "<home>/cfgdir"}),
    ("unknown_var_kept", {"$NOPE/config": "[default]\nregion=eu-west-1\n"}, {"AWS_CONFIG_FILE": "<home>/$NOPE/config"}),
    ("unknown_profile", {}, {"AWS_PROFILE": "nope"}),
    ("missing_header", {CFG: "region=x\n"}, {}),
    ("duplicate_key", {CFG: "[default]\nregion=a\nregion=b\n"}, {}),
    ("bad_sub_section", {CFG: "[default]\ns3 =\n  nonsense\n"}, {}),
    ("bad_credentials_file", {CREDS: "[default\n"}, {}),
    ("not_utf8", {CFG: "[default]\nregion=\udcff\n"}, {}),
]


def write(home, files):
    for rel, text in files.items():
        path = os.path.join(home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))


def environ(home, env):
    out = {"HOME": home, "LANG": "C.UTF-8"}
    out.update((k, v.replace("<home>", home)) for k, v in env.items())
    return out


def ours(env):
    try:
        return awsfiles.region(env)
    except JobError:
        return "<error>"


def botocores(env, monkeypatch):
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        return botocore.session.Session().get_config_variable("region")
    except (botocore.exceptions.ProfileNotFound, botocore.exceptions.ConfigParseError):
        return "<error>"


@pytest.mark.parametrize("files,env", [c[1:] for c in PARITY], ids=[c[0] for c in PARITY])
def test_region_as_botocore_finds_it(tmp_path, monkeypatch, files, env):
    home = str(tmp_path)
    write(home, files)
    env = environ(home, env)
    assert ours(env) == botocores(env, monkeypatch)


def test_profiles_merge_as_botocore_merges_them(tmp_path, monkeypatch):
    home = str(tmp_path)
    write(home, {CFG: "[profile a]\nregion=r1\nx=1\n[profile b]\ny=2\n[default]\nz=3\n[c]\nw=4\n",
                 CREDS: "[a]\nx=override\n[new]\nk=v\n[profile b]\nq=1\n"})
    env = environ(home, {})
    files = awsfiles.Files(env)
    for name in list(os.environ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", home)
    assert files.profiles == botocore.session.Session().full_config["profiles"]
    assert files.config["a"] == {"region": "r1", "x": "1"}
    assert files.credentials["a"] == {"x": "override"}


@pytest.mark.parametrize("value,expected", [
    ("~/x", "/h/x"), ("~", "/h"), ("$A/x", "/a/x"), ("${A}x", "/ax"), ("$NOPE/x", "$NOPE/x"), ("a$", "a$"),
    ("${NOPE}", "${NOPE}"), ("$A$A", "/a/a"), ("x~", "x~"), ("~nosuchuser-xyz/c", "~nosuchuser-xyz/c"),
])
def test_paths_expand_as_posixpath(value, expected):
    env = {"HOME": "/h/", "A": "/a"}
    assert awsfiles.file_path(dict(env, AWS_CONFIG_FILE=value), awsfiles.CONFIG) == expected


def test_continued_value_is_refused_naming_the_file_and_profile(tmp_path):
    write(str(tmp_path), {CREDS: "[dev]\nregion = us-east-1\n  eu-west-1\n"})
    with pytest.raises(JobError) as e:
        awsfiles.region(environ(str(tmp_path), {"AWS_PROFILE": "dev"}))
    assert str(e.value) == ("%s/.aws/credentials: profile 'dev': 'region' is continued on an indented line; put "
                            "its value on one line" % tmp_path)


def test_parse_errors_never_show_the_lines(tmp_path):
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    for text in ("%s\n[default]\n" % secret, "[default]\nregion=x\n%s\n" % secret,
                 "[default]\naws_secret_access_key =\n  %s\n" % secret):
        write(str(tmp_path), {CFG: text})
        with pytest.raises(JobError) as e:
            awsfiles.region(environ(str(tmp_path), {}))
        assert secret not in str(e.value) and CFG in str(e.value)


# Real starts where botocore fails: (id, files under HOME, environment, words of the one error line).
BAD = [
    ("continued_line", {CFG: "[default]\nregion = us-east-1\n  eu-west-1\n"}, {},
     ["<home>/.aws/config", "profile 'default'", "'region'", "indented line"]),
    ("unknown_profile", {CFG: "[default]\nregion=us-east-1\n"}, {"AWS_PROFILE": "nope"},
     ["'nope'", "AWS_PROFILE", "<home>/.aws/config"]),
    ("empty_profile", {}, {"AWS_DEFAULT_PROFILE": ""}, ["''", "AWS_DEFAULT_PROFILE"]),
    ("bare_section", {CFG: "[dev]\nregion=eu-west-1\n"}, {"AWS_PROFILE": "dev"}, ["[dev]", "[profile dev]"]),
    ("unparsable", {CFG: "region=us-east-1\n[default\n"}, {}, ["<home>/.aws/config", "cannot parse", "line 1"]),
    ("credentials_unparsable", {"c": "[a]\n[a]\n"}, {"AWS_SHARED_CREDENTIALS_FILE": "<home>/c"},
     ["<home>/c", "[a] appears twice"]),
]


@pytest.mark.parametrize("files,env,words", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_where_botocore_fails_a_start_fails_in_one_line(pyz, tmp_path, files, env, words):
    home = str(tmp_path / "home")
    write(home, files)
    root = make_tree(tmp_path / "ml", {"sagemaker_program": '"train.py"', "sagemaker_region": '"us-west-2"'}, {},
                     {"current_host": "algo-1", "hosts": ["algo-1"]}, {"train.py": "print('ran')\n"})
    os.makedirs(os.path.join(root, "output"))
    env = clean_env(**environ(home, env))
    before = snapshot(root)
    dry = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", env=env)
    assert dry.returncode == 1 and json.loads(dry.stdout.decode())["error"]
    real = run_pyz(pyz, "--root", root, env=env)
    stderr = real.stderr.decode()
    assert real.returncode == 1 and "Traceback" not in stderr and "ran" not in real.stdout.decode()
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    for word in words:
        assert word.replace("<home>", home) in lines[0]
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read() in lines[0]
    assert snapshot(root) == dict(before)

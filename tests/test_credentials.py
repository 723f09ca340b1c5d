"""launcher.aws.credentials: botocore's chain, each source against a loopback stub (tests/support/credential_stubs.py)
or moto, compared with botocore's own choice (boto3 1.44.8, test-only) for the same files and variables.
No test sends anything to 169.254.x: a guard on socket connect refuses it."""

import os
import socket
import sys

import botocore.exceptions
import botocore.session
import moto_server
import pytest
from credential_stubs import Stub, creds_doc, form, iso

from launcher import log
from launcher.aws import credentials, metadata
from launcher.errors import JobError

SECRETS = ("SECRETKEY-", "TOKEN-", "CONTAINER-AUTH-", "WEB-IDENTITY-JWT")
CFG, CREDS = ".aws/config", ".aws/credentials"
PROC = "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'AKPROC', 'SecretAccessKey': 'SECRETKEY-P'%s}))\n"


@pytest.fixture(autouse=True)
def no_link_local(monkeypatch):
    real = socket.socket.connect

    def connect(self, address):
        host = str(address[0])
        assert not host.startswith("169.254.") and not host.startswith("fd00:ec2"), address
        return real(self, address)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(metadata, "CONTAINER_SLEEP", 0.0)


@pytest.fixture
def stub():
    s = Stub()
    yield s
    s.close()


def write(home, files):
    for rel, text in files.items():
        path = os.path.join(home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def environ(home, stub, env):
    out = {"HOME": home, "PATH": os.environ["PATH"], "BOTO_CONFIG": "", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_DEFAULT_REGION": "us-west-2"}
    for k, v in env.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v.replace("<home>", home).replace("<stub>", stub.url).replace("<python>", sys.executable)
    return out


def ours(env):
    """(botocore's method name for the source we chose, access key, token), or the kind of error."""
    try:
        source = credentials.resolve(env)
    except credentials.NoCredentials:
        return None
    except JobError as e:
        for words, method in (("assume-role", "assume-role"), ("(SSO)", "sso"), ("aws login", "login")):
            if words in str(e):
                return method
        return "<error>"
    name = source.source
    kinds = (("environment variables", "env"), ("web identity", "assume-role-with-web-identity"),
             ("credential_process", "custom-process"), ("AWS_CREDENTIAL_FILE", "ec2-credentials-file"),
             ("boto config", "boto-config"), ("container endpoint", "container-role"),
             ("instance metadata", "iam-role"))
    method = [m for prefix, m in kinds if name.startswith(prefix)]
    if not method:
        method = ["shared-credentials-file" if name.endswith("credentials") else "config-file"]
    creds = source.get()
    return method[0], creds.access_key, creds.token


def set_environ(monkeypatch, env):
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def botocores(env, monkeypatch):
    set_environ(monkeypatch, env)
    try:
        creds = botocore.session.Session().get_credentials()
    except botocore.exceptions.BotoCoreError:
        return "<error>"
    if creds is None:
        return None
    if creds.method in ("assume-role", "sso", "login"):
        return creds.method
    frozen = creds.get_frozen_credentials()
    return creds.method, frozen.access_key, frozen.token


ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "SECRETKEY-ENV"}
WEB = {"AWS_WEB_IDENTITY_TOKEN_FILE": "<home>/jwt", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r",
       "AWS_ENDPOINT_URL_STS": "<stub>"}
FULL = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "<stub>/creds"}
FILE_KEYS = "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = SECRETKEY-FILE\n"

# (id, files under HOME, variables, what wins: botocore's method name, None for none, or "<error>")
PRECEDENCE = [
    ("env", {}, ENV_KEYS, "env"),
    ("env_over_all", {CREDS: FILE_KEYS, "jwt": "WEB-IDENTITY-JWT"}, dict(ENV_KEYS, **dict(WEB, **FULL)), "env"),
    ("env_security_token_first", {}, dict(ENV_KEYS, AWS_SECURITY_TOKEN="TOKEN-OLD", AWS_SESSION_TOKEN="TOKEN-NEW"),
     "env"),
    ("env_without_secret", {CREDS: FILE_KEYS}, {"AWS_ACCESS_KEY_ID": "AKENV"}, "<error>"),
    ("env_empty_key_is_unset", {CREDS: FILE_KEYS}, {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "x"},
     "shared-credentials-file"),
    ("web_identity", {CREDS: FILE_KEYS, "jwt": "WEB-IDENTITY-JWT"}, dict(WEB, **FULL),
     "assume-role-with-web-identity"),
    ("web_identity_profile", {CFG: "[default]\nweb_identity_token_file = <home>/jwt\n"
                                   "role_arn = arn:aws:iam::1:role/r\n", "jwt": "WEB-IDENTITY-JWT"},
     {"AWS_ENDPOINT_URL_STS": "<stub>"}, "assume-role-with-web-identity"),
    ("web_identity_empty_variable", {CFG: "[default]\nweb_identity_token_file = <home>/jwt\n", CREDS: FILE_KEYS},
     {"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ENDPOINT_URL_STS": "<stub>"}, "shared-credentials-file"),
    ("web_identity_without_role", {"jwt": "WEB-IDENTITY-JWT"}, {"AWS_WEB_IDENTITY_TOKEN_FILE": "<home>/jwt"},
     "<error>"),
    ("shared_file", {CREDS: FILE_KEYS}, FULL, "shared-credentials-file"),
    ("shared_file_profile", {CREDS: FILE_KEYS.replace("default", "dev"),
                             CFG: "[profile dev]\naws_access_key_id = AKCFG\naws_secret_access_key = SECRETKEY-C\n"},
     {"AWS_PROFILE": "dev"}, "shared-credentials-file"),
    ("shared_file_tokens", {CREDS: FILE_KEYS + "aws_session_token = TOKEN-S\naws_security_token = TOKEN-OLD\n"}, {},
     "shared-credentials-file"),
    ("shared_over_process", {CREDS: FILE_KEYS, CFG: "[default]\ncredential_process = <python> <home>/p.py\n",
                             "p.py": PROC % ""}, {}, "shared-credentials-file"),
    ("process_over_config_keys", {CFG: "[default]\ncredential_process = <python> <home>/p.py\naws_access_key_id = A"
                                       "\naws_secret_access_key = SECRETKEY-C\n", "p.py": PROC % ""}, {},
     "custom-process"),
    ("process_in_credentials_file", {CREDS: "[dev]\ncredential_process = <python> <home>/p.py\n",
                                     "p.py": PROC % ", 'SessionToken': 'TOKEN-P'"}, {"AWS_PROFILE": "dev"},
     "custom-process"),
    ("config_file", {CFG: "[profile dev]\naws_access_key_id = AKCFG\naws_secret_access_key = SECRETKEY-C\n"},
     dict(FULL, AWS_DEFAULT_PROFILE="dev", AWS_PROFILE="other"), "config-file"),
    ("config_file_partial", {CFG: "[default]\naws_access_key_id = AKCFG\n"}, FULL, "<error>"),
    ("ec2_credential_file", {"ec2": "AWSAccessKeyId=AKEC2\nAWSSecretKey=SECRETKEY-E\n"},
     dict(FULL, AWS_CREDENTIAL_FILE="<home>/ec2"), "ec2-credentials-file"),
    ("boto_config", {"boto": "[Credentials]\naws_access_key_id = AKBOTO\naws_secret_access_key = SECRETKEY-B\n"},
     dict(FULL, BOTO_CONFIG="<home>/boto"), "boto-config"),
    ("container_full_uri", {}, FULL, "container-role"),
    ("container_over_imds", {}, dict(FULL, AWS_EC2_METADATA_DISABLED="false",
                                     AWS_EC2_METADATA_SERVICE_ENDPOINT="<stub>"), "container-role"),
    ("imds", {}, {"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "<stub>"}, "iam-role"),
    ("nothing", {}, {}, None),
    ("assume_role_profile", {CFG: "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
                                  "[profile base]\naws_access_key_id = A\naws_secret_access_key = SECRETKEY-A\n"},
     {}, "assume-role"),
    ("sso_profile", {CFG: "[default]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
                          "sso_account_id = 123456789012\nsso_role_name = r\n", CREDS: FILE_KEYS}, {}, "sso"),
]


@pytest.mark.parametrize("files,env,expected", [c[1:] for c in PRECEDENCE], ids=[c[0] for c in PRECEDENCE])
def test_precedence_is_botocores(tmp_path, monkeypatch, stub, files, env, expected):
    home = str(tmp_path)
    write(home, {k: v.replace("<home>", home).replace("<python>", sys.executable) for k, v in files.items()})
    stub.container("/creds", [creds_doc("AKCONTAINER")])
    stub.imds("v2", creds_doc("AKIMDS"))
    stub.sts(key="ASIAWEB")
    env = environ(home, stub, env)
    mine = ours(env)
    assert (mine if mine is None or isinstance(mine, str) else mine[0]) == expected
    assert mine == botocores(env, monkeypatch)


def test_container_relative_uri_with_a_token_file_that_wins(tmp_path, stub):
    stub.container("/v2/credentials/abc", [creds_doc("AKREL")])
    (tmp_path / "token").write_text("CONTAINER-AUTH-FILE")
    env = environ(str(tmp_path), stub, {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
                                        metadata.CONTAINER_HOST_OVERRIDE: "127.0.0.1:%d" % stub.port,
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "CONTAINER-AUTH-VAR",
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(tmp_path / "token")})
    source = credentials.resolve(env)
    assert source.get().access_key == "AKREL" and source.get().token == "TOKEN-CONTAINER"
    (request,) = stub.calls("GET", "/v2/credentials/abc")
    assert request["headers"]["authorization"] == "CONTAINER-AUTH-FILE"
    assert request["headers"]["accept"] == "application/json"
    assert "container endpoint" in source.source and "CONTAINER-AUTH" not in source.source


def test_container_full_uri_with_a_token(tmp_path, stub):
    stub.container("/creds", [creds_doc("AKFULL")])
    env = environ(str(tmp_path), stub, dict(FULL, AWS_CONTAINER_AUTHORIZATION_TOKEN="CONTAINER-AUTH-VAR"))
    assert credentials.resolve(env).get().access_key == "AKFULL"
    assert [r["headers"]["authorization"] for r in stub.calls("GET", "/creds")] == ["CONTAINER-AUTH-VAR"]


@pytest.mark.parametrize("uri,words", [
    ("http://example.com/creds", ["unsupported host 'example.com'", "loopback"]),
    ("http://10.0.0.1/creds", ["unsupported host '10.0.0.1'"]),
])
def test_container_full_uri_host_rules(tmp_path, stub, uri, words):
    env = environ(str(tmp_path), stub, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": uri})
    with pytest.raises(JobError) as e:
        credentials.resolve(env)
    for word in words:
        assert word in str(e.value)
    assert not stub.seen


def test_container_failures_name_the_endpoint_and_no_token(tmp_path, stub):
    stub.container("/creds", [(500, "CONTAINER-AUTH-VAR is wrong")])
    env = environ(str(tmp_path), stub, dict(FULL, AWS_CONTAINER_AUTHORIZATION_TOKEN="CONTAINER-AUTH-VAR"))
    with pytest.raises(JobError) as e:
        credentials.resolve(env)
    assert "container endpoint" in str(e.value) and "HTTP 500" in str(e.value) and "3 attempts" in str(e.value)
    assert len(stub.calls("GET", "/creds")) == 3
    assert_no_secret(str(e.value))
    env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "CONTAINER-AUTH-VAR\n"
    with pytest.raises(JobError) as e:
        credentials.resolve(env)
    assert "CR or LF" in str(e.value)
    assert_no_secret(str(e.value))


@pytest.mark.parametrize("mode", ["v2", 403, 404, 405])
def test_imds_v2_and_the_v1_fallback(tmp_path, monkeypatch, stub, mode):
    stub.imds(mode, creds_doc("AKIMDS"))
    env = environ(str(tmp_path), stub, {"AWS_EC2_METADATA_DISABLED": None,
                                        "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url + "/"})
    mine = ours(env)
    assert mine == ("iam-role", "AKIMDS", "TOKEN-CONTAINER")
    token = [r["headers"].get("x-aws-ec2-metadata-token") for r in stub.seen if r["method"] == "GET"]
    assert token == (["IMDS-SESSION-TOKEN"] * 2 if mode == "v2" else [None, None])
    assert mine == botocores(env, monkeypatch)


def test_imds_v1_disabled_without_a_token_is_an_error(tmp_path, monkeypatch, stub):
    stub.imds(404, creds_doc("AKIMDS"))
    env = environ(str(tmp_path), stub, {"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_V1_DISABLED": "true",
                                        "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url})
    with pytest.raises(JobError) as e:
        credentials.resolve(env)
    assert "IMDSv1 is disabled" in str(e.value)
    assert not stub.calls("GET", "/latest/meta-data/iam/security-credentials/")
    assert botocores(env, monkeypatch) == "<error>"


@pytest.mark.parametrize("how", ["bad_request", "incomplete", "no_server"])
def test_imds_without_credentials_ends_the_chain(tmp_path, stub, how):
    doc = creds_doc("AKIMDS")
    if how == "incomplete":
        del doc["Token"]
    stub.imds(400 if how == "bad_request" else "v2", doc)
    url = stub.url if how != "no_server" else "http://127.0.0.1:1"
    env = environ(str(tmp_path), stub, {"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": url})
    with pytest.raises(credentials.NoCredentials) as e:
        credentials.resolve(env)
    assert "instance metadata service (%s)" % url in str(e.value) and "environment variables" in str(e.value)


def test_web_identity_against_the_stub(tmp_path, stub):
    stub.sts(key="ASIAWEB", lifetime=3600)
    (tmp_path / "jwt").write_text("WEB-IDENTITY-JWT-1")
    env = environ(str(tmp_path), stub, dict(WEB, AWS_ROLE_SESSION_NAME="my-session"))
    source = credentials.resolve(env)
    assert not stub.seen  # deferred, as botocore defers it, until the credentials are needed
    creds = source.get()
    assert (creds.access_key, creds.secret_key, creds.token) == ("ASIAWEB", "SECRETKEY-STS", "TOKEN-STS")
    (request,) = stub.calls("POST", "/")
    assert "authorization" not in request["headers"]
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert form(request["body"]) == {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                                     "RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "my-session",
                                     "WebIdentityToken": "WEB-IDENTITY-JWT-1"}


def test_web_identity_errors_name_the_role_and_never_the_token(tmp_path, stub):
    stub.sts(error=(400, "InvalidIdentityToken", "WEB-IDENTITY-JWT is not valid"))
    (tmp_path / "jwt").write_text("WEB-IDENTITY-JWT")
    source = credentials.resolve(environ(str(tmp_path), stub, WEB))
    with pytest.raises(JobError) as e:
        source.get()
    assert "InvalidIdentityToken" in str(e.value) and "arn:aws:iam::123456789012:role/r" in str(e.value)
    assert len(stub.calls("POST", "/")) == 1  # a client error is not retried
    assert_no_secret(str(e.value))


@pytest.fixture
def motos_sts():
    """A moto server of the test's own, its authentication off while the test runs (AssumeRoleWithWebIdentity
    is unsigned), whatever the S3 tests' moto_server.start() switched on earlier in the process."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    endpoint = "http://127.0.0.1:%d" % server._server.server_port
    try:
        with moto_server.authentication_off(endpoint):
            yield endpoint
    finally:
        server.stop()


def test_web_identity_against_motos_sts(tmp_path, motos_sts):
    (tmp_path / "jwt").write_text("WEB-IDENTITY-JWT")
    env = {"HOME": str(tmp_path), "AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "jwt"),
           "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r", "BOTO_CONFIG": "",
           "AWS_ENDPOINT_URL": motos_sts, "AWS_EC2_METADATA_DISABLED": "true"}
    creds = credentials.resolve(env, region="us-west-2").get()
    assert creds.access_key.startswith("ASIA") and creds.token and creds.expiry


def test_credential_process_errors(tmp_path, stub):
    home = str(tmp_path)
    cases = [("import sys\nsys.stderr.write('SECRETKEY-X denied\\nno luck\\n')\nsys.exit(3)\n", "status 3: no luck"),
             ("print('{\"Version\": 2}')\n", "Version 2"),
             ("print('not json')\n", "not JSON"),
             ("print('{\"Version\": 1, \"AccessKeyId\": \"A\"}')\n", "no SecretAccessKey")]
    for script, words in cases:
        write(home, {"p.py": script, CFG: "[default]\ncredential_process = %s %s/p.py\n" % (sys.executable, home)})
        with pytest.raises(JobError) as e:
            credentials.resolve(environ(home, stub, {}))
        assert words in str(e.value) and "credential_process of profile 'default'" in str(e.value)
        assert_no_secret(str(e.value))


@pytest.mark.parametrize("profile", [
    "login_session = arn:aws:sts::1:assumed-role/r/s\n",
    "role_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n",
    "sso_account_id = 1\nsso_role_name = r\n",
])
def test_unsupported_sources_are_named_not_skipped(tmp_path, stub, profile):
    write(str(tmp_path), {CFG: "[default]\n" + profile})
    with pytest.raises(JobError) as e:
        credentials.resolve(environ(str(tmp_path), stub, {}))
    assert "does not implement" in str(e.value) and "profile 'default'" in str(e.value)


# Refresh, as botocore's RefreshableCredentials does it: (lifetime of each answer in s, gets, fetches expected)
REFRESH = [
    ("fresh", [3600], 3, 1),
    ("advisory_window", [12 * 60], 3, 4),  # every use in the last 15 minutes asks again
    ("mandatory_window", [5 * 60, 3600], 3, 2),
]


@pytest.mark.parametrize("lifetimes,gets,fetches", [c[1:] for c in REFRESH], ids=[c[0] for c in REFRESH])
def test_refresh_before_expiry_counts_as_botocore(tmp_path, monkeypatch, stub, lifetimes, gets, fetches):
    stub.container("/creds", [])
    answers = [creds_doc("AK%d" % i, lifetime) for i, lifetime in enumerate(lifetimes)]
    stub.routes[("GET", "/creds")] = lambda r: (200, answers.pop(0) if len(answers) > 1 else answers[0])
    env = environ(str(tmp_path), stub, FULL)
    source = credentials.resolve(env)
    keys = [source.get().access_key for _ in range(gets)]
    assert len(stub.calls("GET", "/creds")) == fetches
    assert keys[-1] == "AK%d" % (len(lifetimes) - 1)

    stub.seen[:] = []
    answers[:] = [creds_doc("AK%d" % i, lifetime) for i, lifetime in enumerate(lifetimes)]
    set_environ(monkeypatch, env)
    boto = botocore.session.Session().get_credentials()
    assert boto.method == "container-role"
    keys = [boto.get_frozen_credentials().access_key for _ in range(gets)]
    assert len(stub.calls("GET", "/creds")) == fetches  # botocore asked as often
    assert keys[-1] == "AK%d" % (len(lifetimes) - 1)


def test_a_failed_advisory_refresh_keeps_the_credentials_a_failed_mandatory_one_is_an_error(tmp_path, stub):
    warnings = []
    answers = [creds_doc("AK1", 12 * 60)]
    stub.routes[("GET", "/creds")] = lambda r: (200, answers[0]) if answers else (503, "busy")
    source = credentials.resolve(environ(str(tmp_path), stub, FULL))
    answers.clear()
    old = log.warning
    log.warning = warnings.append
    try:
        assert source.get().access_key == "AK1"
    finally:
        log.warning = old
    assert len(warnings) == 1 and "advisory refresh period" in warnings[0]

    answers.append(creds_doc("AK2", 5 * 60))
    source = credentials.resolve(environ(str(tmp_path), stub, FULL))
    answers.clear()
    with pytest.raises(JobError) as e:
        source.get()
    assert "HTTP 503" in str(e.value)


def test_refreshed_but_still_expired_is_an_error(tmp_path, stub):
    stub.container("/creds", [creds_doc("AK1", -60)])
    with pytest.raises(JobError) as e:
        credentials.resolve(environ(str(tmp_path), stub, FULL)).get()
    assert "still expired" in str(e.value)


def test_process_and_web_identity_refresh(tmp_path, stub):
    home = str(tmp_path)
    write(home, {"p.py": PROC % (", 'SessionToken': 'TOKEN-P', 'Expiration': '%s'" % iso(11 * 60)),
                 CFG: "[default]\ncredential_process = %s %s/p.py\n" % (sys.executable, home)})
    source = credentials.resolve(environ(home, stub, {}))
    assert source.get().token == "TOKEN-P" and source.source == "credential_process of profile 'default'"

    stub.sts(lifetime=11 * 60)
    (tmp_path / "jwt").write_text("WEB-IDENTITY-JWT-1")
    source = credentials.resolve(environ(home, stub, WEB))
    source.get()
    (tmp_path / "jwt").write_text("WEB-IDENTITY-JWT-2")
    source.get()  # inside the advisory window: asks STS again, with the token file read again
    assert [form(r["body"])["WebIdentityToken"] for r in stub.calls("POST", "/")] == ["WEB-IDENTITY-JWT-1",
                                                                                      "WEB-IDENTITY-JWT-2"]


def test_no_credentials_lists_what_was_tried(tmp_path, stub):
    with pytest.raises(credentials.NoCredentials) as e:
        credentials.resolve(environ(str(tmp_path), stub, {}))
    text = str(e.value)
    for words in ("environment variables", "web identity", "profile 'default' in %s/.aws/credentials" % tmp_path,
                  "credential_process", "container endpoint", "disabled by AWS_EC2_METADATA_DISABLED"):
        assert words in text


def test_an_unknown_profile_fails_as_boto3_session_does(tmp_path, stub):
    with pytest.raises(JobError) as e:
        credentials.resolve(environ(str(tmp_path), stub, dict(ENV_KEYS, AWS_PROFILE="nope")))
    assert "'nope'" in str(e.value) and "AWS_PROFILE" in str(e.value)


def test_expiration_times():
    assert credentials.parse_time("2026-12-01T10:00:00Z", "t") == 1796119200
    assert credentials.parse_time("2026-12-01T10:00:00.500+00:00", "t") == 1796119200.5
    assert credentials.parse_time("2026-12-01T12:00:00+0200", "t") == 1796119200
    with pytest.raises(JobError):
        credentials.parse_time("tomorrow", "t")


def test_credentials_never_show_their_secrets():
    text = repr(credentials.Credentials("AKID", "SECRETKEY-R", "TOKEN-R", 1.0))
    assert "AKID" in text
    assert_no_secret(text)


def assert_no_secret(text):
    for secret in SECRETS:
        assert secret not in text, text


def test_sts_endpoint_as_botocore_picks_it():
    from launcher.aws import sts

    assert sts.endpoint({}, "eu-west-1") == "https://sts.eu-west-1.amazonaws.com/"
    assert sts.endpoint({}, None) == sts.endpoint({}, "") == "https://sts.amazonaws.com/"
    assert sts.endpoint({}, "cn-north-1") == "https://sts.cn-north-1.amazonaws.com.cn/"
    assert sts.endpoint({"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_STS": "http://b"}, "x") == "http://b"
    assert sts.endpoint({"AWS_ENDPOINT_URL": "http://a"}, "x") == "http://a"
    ignored = {"AWS_ENDPOINT_URL": "http://a", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert sts.endpoint(ignored, "us-west-2") == "https://sts.us-west-2.amazonaws.com/"


@pytest.mark.parametrize("region", ["eu-west-1", "cn-north-1", "us-gov-west-1", "us-east-1", None])
def test_sts_endpoint_is_botocores(monkeypatch, tmp_path, region):
    from launcher.aws import sts

    set_environ(monkeypatch, {"HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true", "BOTO_CONFIG": ""})
    client = botocore.session.Session().create_client("sts", region_name=region)
    assert sts.endpoint({}, region).rstrip("/") == client.meta.endpoint_url

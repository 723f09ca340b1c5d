"""What sm-train does where the toolkit crashes or differs: deep values in a real start (up to the toolkit's own
limit, on every Python here, and one level past it), non-string job names and regions, log level names, the base
dir as given, and the limits `local` keeps. Golden cases (tests/golden/deep_*, basedir_*, newline_*, nonstring_*)
cover where the toolkit succeeds or dies, tests/test_bad_input.py (deep_*) where sm-train refuses."""

import glob
import json
import os
import subprocess
import sys

import pytest
import pythons
from conftest import clean_env, make_tree, run_pyz

from launcher.core import hyperparameters

DUMP_PY = """import json, os, sys
with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as f:
    json.dump({"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ)}, f)
"""
RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
PYTHONS = [sys.executable] + sorted(glob.glob("/root/.pyenv/versions/3.7*/bin/python3"))[:1]
# The toolkit's limit on CPython 3.11 (tests/golden/deep_*_987 run, deep_*_988 die encoding SM_TRAINING_ENV).
LIMIT = 987


def deep_list(depth):
    return "[" * depth + "]" * depth


def deep_dict(depth):
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


def job(root, hps, idc=None):
    make_tree(root, dict({"sagemaker_program": '"train.py"'}, **hps), idc or {}, RC, {"train.py": DUMP_PY})
    os.makedirs(os.path.join(str(root), "model"))
    os.makedirs(os.path.join(str(root), "output"))
    return str(root)


def seen(base):
    with open(os.path.join(base, "model", "seen.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("key,text", [("d", deep_list(900)), ("d", deep_list(LIMIT)), ("d", deep_dict(LIMIT)),
                                      ("sagemaker_job_name", deep_list(LIMIT)), ("api_token", deep_list(LIMIT))])
@pytest.mark.parametrize("supervise", [False, True])
def test_a_real_start_runs_a_deep_value(pyz, tmp_path, python, key, text, supervise):
    root = job(tmp_path / "ml", {key: text})
    args = ["--supervise"] if supervise else []
    result = run_pyz(pyz, "--root", root, *args, env=clean_env(), python=python, timeout=120)
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "Invoking user script" in stderr  # the start record, pretty-printed, deep value and all
    env = seen(root)["env"]
    compact = text  # deep_list and deep_dict are compact JSON already; decoding them here could overflow pytest
    if key == "sagemaker_job_name":
        assert env["SAGEMAKER_JOB_NAME"] == compact
    elif key == "api_token":
        assert env["SM_HP_API_TOKEN"] == compact
        assert compact not in stderr  # masked in the start record
    else:
        assert env["SM_HP_D"] == compact


@pytest.mark.parametrize("version", pythons.WANTED)
@pytest.mark.parametrize("shape", [deep_list, deep_dict], ids=["list", "dict"])
def test_a_value_at_the_toolkits_limit_runs_on_every_python(pyz, tmp_path, version, shape):
    """Decoded, encoded into SM_HP_D, SM_HPS and SM_TRAINING_ENV (two levels further in), made an argument and
    logged: by --print-env in both formats, a real start in exec mode and with --supervise, and `local`."""
    python = pythons.required(version)
    text = shape(LIMIT)
    root = job(tmp_path / "ml", {"d": text, "sagemaker_custom": text})
    dry = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", env=clean_env(), python=python, timeout=120)
    assert dry.returncode == 0 and b"Traceback" not in dry.stderr, dry.stderr.decode()[-2000:]
    planned = json.loads(dry.stdout.decode())  # strings only: nothing in it nests
    assert planned["env"]["SM_HP_D"] == text and planned["env"]["SM_HPS"] == '{"d":%s}' % text
    training_env = planned["env"]["SM_TRAINING_ENV"]
    assert '"hyperparameters":{"d":%s}' % text in training_env
    assert '"additional_framework_parameters":{"sagemaker_custom":%s}' % text in training_env
    shell = run_pyz(pyz, "--root", root, "--print-env", env=clean_env(), python=python, timeout=120)
    assert shell.returncode == 0 and b"Traceback" not in shell.stderr, shell.stderr.decode()[-2000:]
    assert ("export SM_HP_D='%s'" % text).encode() in shell.stdout
    for args in ([], ["--supervise"]):
        result = run_pyz(pyz, "--root", root, *args, env=clean_env(), python=python, timeout=120)
        stderr = result.stderr.decode()
        assert result.returncode == 0 and "Traceback" not in stderr, stderr[-2000:]
        assert "Invoking user script" in stderr
        got = seen(root)
        assert got["argv"] == planned["argv"][2:]  # [python, "--", "train.py", "-d", VALUE]: the program's argv
        assert {name: got["env"].get(name) for name in planned["env"]} == planned["env"]
    tree = str(tmp_path / "tree")
    local = run_pyz(pyz, "local", "--code", os.path.join(root, "code"), "--program", "train.py", "--hp", "d=" + text,
                    "--keep", tree, env=clean_env(), python=python, timeout=120)
    assert local.returncode == 0 and b"Traceback" not in local.stderr, local.stderr.decode()[-2000:]
    assert seen(tree)["env"]["SM_HP_D"] == text


@pytest.mark.parametrize("version", pythons.WANTED)
def test_one_level_past_the_limit_is_one_line_on_every_python(pyz, tmp_path, version):
    python = pythons.required(version)
    for shape in (deep_list, deep_dict):
        root = job(tmp_path / shape.__name__, {"d": shape(LIMIT + 1)})
        for args in ([], ["--print-env"]):
            result = run_pyz(pyz, "--root", root, *args, env=clean_env(), python=python, timeout=120)
            stderr = result.stderr.decode()
            assert result.returncode == 1 and "Traceback" not in stderr, stderr[-2000:]
            errors = [line for line in stderr.splitlines() if " ERROR " in line]
            assert len(errors) == 1, errors
            assert errors[0].endswith('hyperparameter "d": JSON nested more than %d levels deep' % LIMIT)


@pytest.mark.parametrize("key,value,shown", [
    ("sagemaker_job_name", None, ""), ("sagemaker_job_name", 3, "3"), ("sagemaker_job_name", True, "true"),
    ("sagemaker_job_name", ["a", {"b": 1}], '["a",{"b":1}]'), ("sagemaker_region", 3, "3"),
    ("sagemaker_region", True, "true"), ("sagemaker_region", ["eu-west-1"], '["eu-west-1"]'),
    ("sagemaker_region", {"r": 1}, '{"r":1}'), ("sagemaker_region", None, ""), ("sagemaker_region", 0, ""),
])
def test_non_string_job_name_and_region_as_documented(pyz, tmp_path, key, value, shown):
    # The toolkit crashes on each, but null, false, 0 and [] as the region (tests/golden/nonstring_*).
    root = job(tmp_path / "ml", {key: json.dumps(value)})
    result = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", env=clean_env())
    assert result.returncode == 0, result.stderr.decode()
    env = json.loads(result.stdout.decode())["env"]
    assert env["SAGEMAKER_JOB_NAME" if key == "sagemaker_job_name" else "SAGEMAKER_REGION"] == shown


@pytest.mark.parametrize("level,debug", [('"DEBUG"', True), ('"debug"', True), ('"WARN"', False), ("10", True),
                                         ("20.0", False), ("null", False), ("[]", False), ('"LOUD"', False),
                                         ("true", True)])
def test_log_level_names_are_taken_other_values_ignored(pyz, tmp_path, level, debug):
    # The toolkit exits 1 for any level that is not an integer (true is one to it, as to logging: level 1).
    root = job(tmp_path / "ml", {"sagemaker_container_log_level": level, "word": "not json"})
    result = run_pyz(pyz, "--root", root, env=clean_env())
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert ("Failed to parse hyperparameter word" in stderr) == debug  # a DEBUG record
    assert seen(root)["env"]["SM_LOG_LEVEL"] == hyperparameters.env_value(json.loads(level))


@pytest.mark.parametrize("spelling", ["{}/", "{}/./", "{}//", "{}/../ml", "/{}"])
def test_an_absolute_base_dir_is_used_as_given(pyz, tmp_path, spelling):
    real = job(tmp_path / "ml", {}, {"training": {"TrainingInputMode": "File"}})
    given = spelling.format(real)
    result = run_pyz(pyz, env=clean_env(SAGEMAKER_BASE_DIR=given))
    assert result.returncode == 0, result.stderr.decode()
    env = seen(real)["env"]
    assert env["SM_MODEL_DIR"] == os.path.join(given, "model")
    assert env["SM_CHANNEL_TRAINING"] == os.path.join(given, "input", "data", "training")
    assert json.loads(env["SM_TRAINING_ENV"])["module_dir"] == os.path.join(given, "code")
    assert env["SAGEMAKER_BASE_DIR"] == given  # as it was: not rewritten, not added
    assert os.path.samefile(seen(real)["cwd"], os.path.join(real, "code"))


def test_a_base_dir_spelled_oddly_still_gets_the_failure_file(pyz, tmp_path):
    real = job(tmp_path / "ml", {"sagemaker_program": '"missing.py"'})
    result = run_pyz(pyz, env=clean_env(SAGEMAKER_BASE_DIR=real + "/./"))
    assert result.returncode == 127
    with open(os.path.join(real, "output", "failure")) as f:
        assert "missing.py" in f.read()


def test_root_is_used_as_given_and_exported(pyz, tmp_path):
    real = job(tmp_path / "ml", {})
    result = run_pyz(pyz, "--root", real + "/", env=clean_env(SAGEMAKER_BASE_DIR="/nonexistent"))
    assert result.returncode == 0, result.stderr.decode()
    env = seen(real)["env"]
    assert env["SAGEMAKER_BASE_DIR"] == real + "/"
    assert env["SM_MODEL_DIR"] == os.path.join(real + "/", "model")


def test_a_relative_root_is_made_absolute(pyz, tmp_path):
    real = job(tmp_path / "ml", {})
    proc = subprocess.run([sys.executable, pyz, "--root", "./ml/"], cwd=str(tmp_path), env=clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.returncode == 0, proc.stderr.decode()
    assert seen(real)["env"]["SAGEMAKER_BASE_DIR"] == real


@pytest.mark.parametrize("depth,status", [(LIMIT, 0), (LIMIT + 1, 2), (5000, 2)])
def test_local_refuses_an_hp_too_deep_for_the_job(pyz, tmp_path, depth, status):
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import os\nassert os.environ['SM_HP_D'].startswith('[[[')\n")
    result = run_pyz(pyz, "local", "--code", str(code), "--program", "train.py", "--hp", "d=" + deep_list(depth),
                     "--keep", str(tmp_path / "tree"), env=clean_env(), timeout=120)
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr[-2000:]
    assert "Traceback" not in stderr
    if status:
        lines = [line for line in stderr.splitlines() if " ERROR " in line]
        assert len(lines) == 1
        assert lines[0].endswith("--hp d: the value is JSON nested more than %d levels deep" % LIMIT)


def test_local_refuses_a_channel_nested_too_deep_to_copy(pyz, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('ran')\n")
    folders = [str(tmp_path / "data")]
    for _ in range(600):  # copytree takes two frames per level, rmtree one: deep enough for the first only
        folders.append(os.path.join(folders[-1], "a"))
    for folder in folders:
        os.mkdir(folder)
    try:
        result = run_pyz(pyz, "local", "--code", str(code), "--program", "train.py", "--channel",
                         "train=" + folders[0], env=clean_env(), timeout=120)
    finally:
        for folder in reversed(folders):  # leave pytest nothing deep to clean up
            os.rmdir(folder)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if " ERROR " in line]
    assert len(lines) == 1 and "channel train: cannot copy" in lines[0] and "nest too deep" in lines[0]


def test_local_keep_too_deep_to_create_is_one_error(pyz, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('ran')\n")
    keep = "/".join(["k"] * 1500)  # makedirs recurses once per missing folder
    proc = subprocess.run([sys.executable, pyz, "local", "--code", str(code), "--program", "train.py", "--keep", keep],
                          cwd=str(tmp_path), env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stderr = proc.stderr.decode()
    assert proc.returncode == 1 and "Traceback" not in stderr, stderr[-2000:]
    assert "cannot create the tree" in stderr
    assert not os.path.exists(str(tmp_path / "k"))

"""``sm-train.pyz local`` and ``--hp-style``, end to end through the built pyz: the program records what it
sees (argv, the SM_* variables) as one JSON line, and the tests compare that with what SageMaker delivers."""

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from conftest import clean_env, make_tree, run_pyz

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden_sdk")
WAIT = 120  # seconds; generous for a loaded 2-core machine, and only reached when something is broken

# Prints what the program was given as one line: "DUMP {json}".
DUMP = r"""
import json, os, sys
names = ("SM_", "SAGEMAKER_", "TRAINING_JOB_NAME", "CURRENT_HOST", "PYTHONPATH")
env = dict((k, v) for k, v in os.environ.items() if k.startswith(names))
print("DUMP " + json.dumps({"argv": sys.argv[1:], "env": env, "cwd": os.getcwd()}))
"""


def golden():
    """(cases [[key, value, --hp token]], the hyperparameters.json bytes the SDK wrote for them)."""
    with open(os.path.join(GOLDEN, "cases.json")) as f:
        cases = json.load(f)
    with open(os.path.join(GOLDEN, "hyperparameters.json"), "rb") as f:
        return cases, f.read()


def user_part(data):
    """The bytes of a hyperparameters.json up to its first sagemaker_* entry: the user's, in their order."""
    return data[:data.index(b', "sagemaker_')]


def dumps(stdout):
    """The DUMP lines of a run: {host prefix or "": record}."""
    found = {}
    for line in stdout.decode().splitlines():
        prefix, marker, record = line.partition("DUMP ")
        if marker:
            found[prefix.strip()] = json.loads(record)
    return found


def code_dir(tmp_path, body=DUMP, name="train.py"):
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body)
    return str(folder)


def local(pyz, *args, env=None, tmp_path=None):
    if env is None:
        env = clean_env()
    if tmp_path is not None:
        env = dict(env, TMPDIR=str(tmp_path))  # temporary trees land where pytest cleans up
    return run_pyz(pyz, "local", *args, env=env, timeout=WAIT)


def read_json(path):
    with open(path) as f:
        return json.load(f)


# -- hyperparameters: exactly what the SageMaker Python SDK writes ------------------------------------

def test_hps_file_is_encoded_as_the_sdk_encodes(pyz, tmp_path):
    cases, sdk = golden()
    hps = tmp_path / "hps.json"
    hps.write_text(json.dumps(dict((key, value) for key, value, _ in cases)))
    keep = str(tmp_path / "tree")
    result = local(pyz, "--hps", str(hps), "--code", code_dir(tmp_path), "--program", "train.py", "--keep", keep)
    assert result.returncode == 0, result.stderr.decode()
    with open(os.path.join(keep, "input", "config", "hyperparameters.json"), "rb") as f:
        written = f.read()
    assert user_part(written) == user_part(sdk)
    assert json.loads(written)["sagemaker_program"] == json.loads(sdk)["sagemaker_program"] == '"train.py"'


def test_hp_options_are_encoded_as_the_sdk_encodes(pyz, tmp_path):
    cases, sdk = golden()
    args = []
    for _, _, token in cases:
        args += ["--hp", token]
    keep = str(tmp_path / "tree")
    result = local(pyz, *args, "--code", code_dir(tmp_path), "--program", "train.py", "--keep", keep)
    assert result.returncode == 0, result.stderr.decode()
    with open(os.path.join(keep, "input", "config", "hyperparameters.json"), "rb") as f:
        assert user_part(f.read()) == user_part(sdk)


def test_program_sees_what_it_would_see_on_sagemaker(pyz, tmp_path):
    """The same argv, SM_HPS, SM_USER_ARGS and SM_HP_* as a real run of the tree the SDK wrote."""
    cases, sdk = golden()
    hps = tmp_path / "hps.json"
    hps.write_text(json.dumps(dict((key, value) for key, value, _ in cases)))
    result = local(pyz, "--hps", str(hps), "--code", code_dir(tmp_path), "--program", "train.py",
                   tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    seen = dumps(result.stdout)[""]

    root = make_tree(tmp_path / "sdk", hyperparameters=sdk.decode(),
                     resourceconfig={"current_host": "algo-1", "hosts": ["algo-1"]}, code={"train.py": DUMP})
    real = run_pyz(pyz, "--root", root, env=clean_env())
    assert real.returncode == 0, real.stderr.decode()
    expected = dumps(real.stdout)[""]

    assert seen["argv"] == expected["argv"]
    for name in ["SM_HPS", "SM_USER_ARGS"] + [n for n in expected["env"] if n.startswith("SM_HP_")]:
        assert seen["env"][name] == expected["env"][name], name
    assert json.loads(seen["env"]["SM_HPS"])["str-int"] == "3"
    assert json.loads(seen["env"]["SM_HPS"])["epochs"] == 3


# -- the user's files are never changed -----------------------------------------------------------------

VANDAL = r"""
import os, shutil, stat
channel = os.environ["SM_CHANNEL_TRAIN"]
with open(os.path.join(channel, "a.txt"), "a") as f:
    f.write("changed\n")
with open(os.path.join(channel, "readonly.txt"), "w") as f:
    f.write("overwritten\n")
os.remove(os.path.join(channel, "sub", "b.txt"))
shutil.rmtree(os.path.join(channel, "sub"))
with open(os.path.join(channel, "new.txt"), "w") as f:
    f.write("new\n")
os.chmod(channel, 0o500)
with open("train.py", "a") as f:
    f.write("# changed\n")
os.chmod("train.py", 0o000)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.bin"), "wb") as f:
    f.write(b"x" * 3000)
print("vandal done")
"""


def snapshot(folder):
    state = {}
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(base, name)
            st = os.lstat(path)
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    content = f.read()
            state[os.path.relpath(path, folder)] = (stat.S_IMODE(st.st_mode), st.st_mtime_ns, content)
    return state


def test_a_program_that_writes_into_its_input_leaves_the_users_dirs_unchanged(pyz, tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("original\n")
    (data / "sub" / "b.txt").write_text("keep me\n")
    (data / "readonly.txt").write_text("read only\n")
    os.chmod(str(data / "readonly.txt"), 0o444)
    code = code_dir(tmp_path, VANDAL)
    before = (snapshot(str(data)), snapshot(code))

    result = local(pyz, "--channel", "train=%s" % data, "--code", code, "--program", "train.py",
                   tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr.decode()
    assert b"vandal done" in result.stdout
    assert (snapshot(str(data)), snapshot(code)) == before
    report = result.stderr.decode()
    assert "1 file, 2.9 KiB" in report  # the model dir's size in the closing record
    assert " removed, as the job succeeded" in report  # the whole tree, the channel the program made read-only too


# -- --keep: a tree that a real run accepts ---------------------------------------------------------------

def test_keep_leaves_a_tree_that_a_real_run_accepts(pyz, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "points.csv").write_text("x,y\n1,2\n")
    keep = str(tmp_path / "kept")
    first = local(pyz, "--keep", keep, "--code", code_dir(tmp_path), "--program", "train.py",
                  "--channel", "train=%s" % data, "--hp", "epochs=3", "--hp", "name=adam")
    assert first.returncode == 0, first.stderr.decode()
    assert os.path.isfile(os.path.join(keep, "input", "data", "train", "points.csv"))
    assert "kept" in first.stderr.decode()

    again = run_pyz(pyz, "--root", keep, env=clean_env())
    assert again.returncode == 0, again.stderr.decode()
    before, after = dumps(first.stdout)[""], dumps(again.stdout)[""]
    assert after["argv"] == before["argv"] == ["--epochs", "3", "--name", "adam"]
    assert after["env"]["SM_CHANNEL_TRAIN"] == os.path.join(keep, "input", "data", "train")
    assert after["env"]["SM_TRAINING_ENV"] == before["env"]["SM_TRAINING_ENV"].replace(
        before["env"]["TRAINING_JOB_NAME"], "").replace('"job_name":""', '"job_name":null')
    assert read_json(os.path.join(keep, "input", "config", "resourceconfig.json")) == {
        "current_host": "algo-1", "current_instance_type": "local", "current_group_name": "homogeneousCluster",
        "hosts": ["algo-1"], "network_interface_name": "eth0",
        "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "local",
                             "hosts": ["algo-1"]}]}
    assert read_json(os.path.join(keep, "input", "config", "inputdataconfig.json")) == {
        "train": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}}


def test_a_lone_program_file_is_copied_into_code_under_its_name(pyz, tmp_path):
    script = tmp_path / "scripts" / "fit.py"
    script.parent.mkdir()
    script.write_text(DUMP)
    keep = str(tmp_path / "kept")
    result = local(pyz, "--program", str(script), "--keep", keep)
    assert result.returncode == 0, result.stderr.decode()
    assert os.listdir(os.path.join(keep, "code")) == ["fit.py"]
    seen = dumps(result.stdout)[""]
    assert seen["env"]["SM_USER_ENTRY_POINT"] == "fit.py"
    assert seen["cwd"] == os.path.join(keep, "code")


def test_a_command_after_dashes_runs_in_the_code_dir(pyz, tmp_path):
    result = local(pyz, "--code", code_dir(tmp_path), "--hp", "lr=0.5", "--", sys.executable, "train.py", "extra",
                   tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    seen = dumps(result.stdout)[""]
    assert seen["argv"] == ["extra"]
    assert seen["env"]["SM_HP_LR"] == "0.5"


# -- several hosts ---------------------------------------------------------------------------------------

HOSTS = DUMP + r"""
if os.environ["SM_CURRENT_HOST"] == os.environ.get("FAIL_ON"):
    with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
        f.write("ValueError: bad shard on %s\nTraceback follows\n" % os.environ["SM_CURRENT_HOST"])
    sys.exit(3)
"""


def test_two_hosts_run_as_algo_1_and_algo_2(pyz, tmp_path):
    keep = str(tmp_path / "kept")
    result = local(pyz, "--hosts", "2", "--code", code_dir(tmp_path, HOSTS), "--program", "train.py",
                   "--keep", keep)
    assert result.returncode == 0, result.stderr.decode()
    seen = dumps(result.stdout)
    assert sorted(seen) == ["[algo-1]", "[algo-2]"]
    for k in (1, 2):
        env = seen["[algo-%d]" % k]["env"]
        assert env["SM_CURRENT_HOST"] == env["CURRENT_HOST"] == "algo-%d" % k
        assert env["SM_HOSTS"] == '["algo-1","algo-2"]'
        assert env["SM_MODEL_DIR"] == os.path.join(keep, "algo-%d" % k, "model")
    assert json.loads(seen["[algo-2]"]["env"]["SM_TRAINING_ENV"])["is_master"] is False
    err = result.stderr.decode()
    assert "2 hosts" in err
    assert all(line.startswith(("[algo-1] ", "[algo-2] ")) for line in result.stdout.decode().splitlines())


def test_a_failing_host_fails_the_job_with_its_status_and_reason(pyz, tmp_path):
    env = clean_env(FAIL_ON="algo-2")
    result = local(pyz, "--hosts", "2", "--code", code_dir(tmp_path, HOSTS), "--program", "train.py",
                   env=env, tmp_path=tmp_path)
    assert result.returncode == 3
    err = result.stderr.decode()
    assert "exit status 3" in err
    assert "failed: algo-2" in err
    assert "failure: ValueError: bad shard on algo-2" in err


def test_one_host_reports_the_programs_status_and_failure_line(pyz, tmp_path):
    env = clean_env(FAIL_ON="algo-1")
    result = local(pyz, "--code", code_dir(tmp_path, HOSTS), "--program", "train.py", env=env, tmp_path=tmp_path)
    assert result.returncode == 3
    err = result.stderr.decode()
    first = err.splitlines()[0]
    assert "local job" in first and "program train.py" in first and "1 host" in first and "GPU" in first
    assert "failure: ValueError: bad shard on algo-1" in err
    assert "Traceback follows" not in err  # only the first line of the failure file


def test_sigterm_reaches_every_host(pyz, tmp_path):
    program = r"""
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda s, f: sys.exit(42))
open(os.path.join(sys.argv[-1], os.environ["SM_CURRENT_HOST"]), "w").close()
time.sleep(%d)
""" % WAIT
    ready = tmp_path / "ready"
    ready.mkdir()
    proc = subprocess.Popen([sys.executable, pyz, "local", "--hosts", "2", "--code", code_dir(tmp_path, program),
                             "--", sys.executable, "train.py", str(ready)],
                            env=clean_env(TMPDIR=str(tmp_path)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + WAIT
    while len(os.listdir(str(ready))) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 42, err.decode()
    assert "stopped by SIGTERM" in err.decode()


def gone(pid):
    """The process has ended: no such pid, or a zombie that nobody has reaped yet."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def test_a_second_ctrl_c_kills_supervised_programs(pyz, tmp_path):
    """Supervised, each program has a process group of its own; a second Ctrl-C still leaves no orphan."""
    if not os.path.isdir("/proc/self"):
        pytest.skip("finding the process groups of a host's session needs /proc")
    program = r"""
import os, signal, sys, time
here = os.path.join(sys.argv[-1], os.environ["SM_CURRENT_HOST"])
signal.signal(signal.SIGINT, lambda s, f: open(here + ".int", "w").close())  # a first Ctrl-C is not enough
with open(here + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(here + ".tmp", here)
time.sleep(%d)
""" % WAIT
    ready = tmp_path / "ready"
    ready.mkdir()
    proc = subprocess.Popen([sys.executable, pyz, "local", "--hosts", "2", "--code", code_dir(tmp_path, program),
                             "--", sys.executable, "train.py", str(ready)],
                            env=clean_env(TMPDIR=str(tmp_path), SM_TRAIN_SUPERVISE="true"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pids = []
    try:
        deadline = time.time() + WAIT
        while len(pids) < 2 and time.time() < deadline and proc.poll() is None:
            pids = [int((ready / h).read_text()) for h in ("algo-1", "algo-2") if (ready / h).exists()]
            time.sleep(0.05)
        assert len(pids) == 2, "the programs never started"
        proc.send_signal(signal.SIGINT)
        while len(list(ready.glob("*.int"))) < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert len(list(ready.glob("*.int"))) == 2, "the first Ctrl-C never reached the programs"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT)
        assert proc.returncode == 137, err.decode()
        assert "stopped by SIGINT" in err.decode()
        while not all(gone(pid) for pid in pids) and time.time() < deadline:
            time.sleep(0.05)
        assert all(gone(pid) for pid in pids), "a program outlived the second Ctrl-C"
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


# -- --hp-style json ---------------------------------------------------------------------------------------

STYLED = {"layers": [64, 32], "opts": {"b": 1, "a": [True, None]}, "flag": True, "off": False, "none": None,
          "name": "a b", "n": 3, "x": 0.5, "s": "[not parsed]"}
TOOLKIT_ARGV = ["--flag", "True", "--layers", "[64, 32]", "-n", "3", "--name", "a b", "--none", "", "--off",
                "False", "--opts", "a=[True, None],b=1", "-s", "[not parsed]", "-x", "0.5"]
JSON_ARGV = ["--flag", "true", "--layers", "[64,32]", "-n", "3", "--name", "a b", "--none", "null", "--off",
             "false", "--opts", '{"b":1,"a":[true,null]}', "-s", "[not parsed]", "-x", "0.5"]


@pytest.mark.parametrize("style, expected", [(None, TOOLKIT_ARGV), ("toolkit", TOOLKIT_ARGV), ("json", JSON_ARGV)])
def test_hp_style_through_local(pyz, tmp_path, style, expected):
    hps = tmp_path / "hps.json"
    hps.write_text(json.dumps(STYLED))
    args = ["--hps", str(hps), "--code", code_dir(tmp_path), "--program", "train.py"]
    result = local(pyz, *(args + (["--hp-style", style] if style else [])), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    seen = dumps(result.stdout)[""]
    assert seen["argv"] == expected
    assert json.loads(seen["env"]["SM_USER_ARGS"]) == expected


@pytest.mark.parametrize("how", ["option", "variable"])
def test_hp_style_json_in_a_real_run(pyz, tmp_path, how):
    encoded = dict((key, json.dumps(value)) for key, value in STYLED.items())
    encoded["sagemaker_program"] = '"train.py"'
    root = make_tree(tmp_path / "ml", hyperparameters=encoded, code={"train.py": DUMP})
    if how == "option":
        result = run_pyz(pyz, "--hp-style", "json", "--root", root, env=clean_env())
    else:
        result = run_pyz(pyz, "--root", root, env=clean_env(SM_TRAIN_HP_STYLE="json"))
    assert result.returncode == 0, result.stderr.decode()
    seen = dumps(result.stdout)[""]
    assert seen["argv"] == JSON_ARGV
    assert json.loads(seen["env"]["SM_USER_ARGS"]) == JSON_ARGV
    assert seen["env"]["SM_HP_OPTS"] == '{"a":[true,null],"b":1}'  # variables keep the toolkit's encoding


def test_local_runs_through_the_launchers_own_path(pyz, tmp_path):
    """local adds nothing of its own to what the program sees: a plain --print-env of the kept tree agrees."""
    keep = str(tmp_path / "kept")
    result = local(pyz, "--keep", keep, "--code", code_dir(tmp_path), "--program", "train.py", "--hp", "a=[1]",
                   "--hp-style", "json")
    assert result.returncode == 0, result.stderr.decode()
    shown = run_pyz(pyz, "--root", keep, "--hp-style", "json", "--print-env", "--format", "json", env=clean_env())
    planned = json.loads(shown.stdout.decode())
    seen = dumps(result.stdout)[""]
    assert planned["argv"][-2:] == seen["argv"] == ["-a", "[1]"]
    assert planned["env"]["SM_USER_ARGS"] == seen["env"]["SM_USER_ARGS"]


# -- bad input: one line, no traceback, the right status ---------------------------------------------------

def bad_cases(tmp_path):
    code = code_dir(tmp_path)
    (tmp_path / "bad.json").write_text('{"epochs": 3,}')
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    run = ["--code", code, "--program", "train.py"]
    return [
        (["--bogus"] + run, 2, "unknown option '--bogus'"),
        (["--hp", "epochs"] + run, 2, "--hp 'epochs': expected KEY=VALUE"),
        (["--hp", "=3"] + run, 2, "the key is empty"),
        (run + ["--hp"], 2, "option --hp needs a value"),
        (["--channel", "train=%s" % (tmp_path / "nowhere")] + run, 1, "does not exist"),
        (["--channel", "train=%s" % (tmp_path / "bad.json")] + run, 1, "is not a directory"),
        (["--channel", "train"] + run, 2, "expected NAME=DIR"),
        (["--channel", "my data=%s" % tmp_path] + run, 2, "a channel name is"),
        (["--channel", "a=%s" % tmp_path, "--channel", "a=%s" % tmp_path] + run, 2, "--channel a given twice"),
        (["--hosts", "0"] + run, 2, "--hosts must be a whole number, 1 or more, not '0'"),
        (["--hosts", "two"] + run, 2, "--hosts must be"),
        (["--hps", str(tmp_path / "bad.json")] + run, 1, "malformed JSON"),
        (["--hps", str(tmp_path / "missing.json")] + run, 1, "cannot be read"),
        (["--hps", str(tmp_path / "list.json")] + run, 1, "must hold a JSON object"),
        (["--hp-style", "yaml"] + run, 2, "must be toolkit or json, not 'yaml'"),
        (["--code", code], 2, "nothing to run"),
        (["--code", code, "--program", "missing.py"], 1, "missing.py does not exist"),
        (["--program", str(tmp_path / "missing.py")], 1, "no such file"),
        (["--code", str(tmp_path / "nowhere"), "--program", "train.py"], 1, "--code"),
        (["--keep", str(tmp_path / "full")] + run, 1, "not an empty directory"),
        (run + ["--", "true"], 2, "not both"),
        (["train.py"], 2, "unexpected argument 'train.py'"),
    ]


def test_bad_input_is_one_line_and_the_right_status(pyz, tmp_path):
    for args, status, message in bad_cases(tmp_path):
        result = local(pyz, *args, tmp_path=tmp_path)
        err = result.stderr.decode()
        assert result.returncode == status, (args, err)
        assert len(err.splitlines()) == 1 and message in err and "ERROR" in err, (args, err)
        assert "Traceback" not in err and result.stdout == b"", args
    leftovers = [n for n in os.listdir(str(tmp_path)) if n.startswith("sm-train-local-")]
    assert leftovers == []  # nothing was laid out


def test_bad_hp_style_is_a_usage_error(pyz, tmp_path):
    for n, (args, env) in enumerate(((["--hp-style", "yaml"], clean_env()), ([], clean_env(SM_TRAIN_HP_STYLE="Json")))):
        root = make_tree(tmp_path / str(n), code={"train.py": DUMP})
        result = run_pyz(pyz, "--root", root, *args, env=env)
        err = result.stderr.decode()
        assert result.returncode == 2, err
        assert len(err.splitlines()) == 1 and "must be toolkit or json" in err
        with open(os.path.join(root, "output", "failure")) as f:
            assert "must be toolkit or json" in f.read()
    result = local(pyz, "--code", code_dir(tmp_path), "--program", "train.py",
                   env=clean_env(SM_TRAIN_HP_STYLE="yaml"))
    assert result.returncode == 2


def test_local_help(pyz):
    result = run_pyz(pyz, "local", "--help")
    assert result.returncode == 0
    assert b"--channel NAME=DIR" in result.stdout


def test_hosts_refuse_a_distribution_engine(pyz, tmp_path):
    """algo-K do not resolve here: refuse at once rather than wait 15 minutes for DNS."""
    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text("print('x')\n")
    result = run_pyz(pyz, "local", "--code", str(code), "--program", "train.py", "--hosts", "2",
                     "--hp", "sagemaker_torch_distributed_enabled=true", timeout=60)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "sagemaker_torch_distributed_enabled" in err and "Traceback" not in err

"""What a newcomer meets first, through the built pyz: a start where there is no job, a mistyped word, a
Python too old, a quiet dry run, a stop while the start is still probing, and the same pyz on every Python
this machine has."""

import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import pythons
from conftest import clean_env, make_tree, run_pyz

import build_pyz

PROGRAM = {"sagemaker_program": '"train.py"'}
RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
TRAIN = {"train.py": "print('ran')\n"}


def error_lines(stderr):
    return [line for line in stderr.splitlines() if " ERROR " in line]


def one_error(result, status):
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert "Traceback" not in stderr
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    return lines[0], stderr


def test_no_base_dir_says_where_to_look(pyz, tmp_path):
    missing = str(tmp_path / "opt" / "ml")
    for args in ([], ["--print-env"]):
        line, stderr = one_error(run_pyz(pyz, "--root", missing, *args), 1)
        assert "%s does not exist" % missing in line
        assert "--root DIR" in line and "DIR/algo-1" in line and "sm-train.pyz local" in line
        assert "not found; using" not in stderr and "entry point" not in stderr
    assert not os.path.exists(missing)


def test_kept_multi_host_tree_points_at_algo_1(pyz, tmp_path):
    kept = tmp_path / "tree"
    for host in ("algo-1", "algo-2"):
        make_tree(kept / host, PROGRAM, {}, dict(RC, current_host=host, hosts=["algo-1", "algo-2"]), TRAIN)
    line, _ = one_error(run_pyz(pyz, "--root", str(kept)), 1)
    assert "holds neither input/config/*.json nor code/" in line
    assert line.endswith("give --root %s" % (kept / "algo-1"))
    assert sorted(os.listdir(str(kept))) == ["algo-1", "algo-2"]  # no output/failure written into the user's dir


def test_a_tree_with_only_a_code_dir_is_a_job(pyz, tmp_path):
    root = str(tmp_path / "ml")
    make_tree(root, code=TRAIN)
    result = run_pyz(pyz, "--root", root, "--print-env", env=clean_env(SAGEMAKER_PROGRAM="train.py"))
    assert result.returncode == 0, result.stderr.decode()


def test_mistyped_local_suggests_local(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    line, _ = one_error(run_pyz(pyz, "--root", root, "locl", "--code", "src"), 127)
    assert "'locl' not found" in line and "did you mean `sm-train.pyz local`?" in line


def test_mistyped_local_option_suggests_the_option(pyz, tmp_path):
    line, _ = one_error(run_pyz(pyz, "local", "--chanel", "training=data"), 2)
    assert "'--chanel'" in line and "did you mean --channel?" in line


def test_dry_run_stderr_has_only_warnings_and_errors(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    dry = run_pyz(pyz, "--root", root, "--print-env")
    assert dry.returncode == 0
    assert dry.stderr.decode() == ""
    real = run_pyz(pyz, "--root", root)
    assert real.returncode == 0
    assert "No GPUs detected" in real.stderr.decode() and "Invoking user script" in real.stderr.decode()
    # a warning still reaches a dry run's stderr
    os.remove(os.path.join(root, "input", "config", "inputdataconfig.json"))
    dry = run_pyz(pyz, "--root", root, "--print-env")
    assert [" WARNING " in line for line in dry.stderr.decode().splitlines()] == [True]


# --- the Pythons of this machine ------------------------------------------------------------------------

def interpreters():
    """(version, path) of each Python 3.7+ the tests find (tests/support/pythons.py), oldest first."""
    found = [(version, pythons.interpreter(version)) for version in pythons.WANTED if version in pythons.found()]
    assert found, "no Python 3.7+ found"
    return found


def too_old_pythons():
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = [p for p in ("/usr/bin/python2", "/usr/bin/python2.7") if os.path.exists(p)]
    for pattern in ("2.*", "3.[0-6].*"):
        found += glob.glob(os.path.join(pyenv, "versions", pattern, "bin", "python"))
    return sorted(set(found))


@pytest.mark.parametrize("python", too_old_pythons() or [None])
def test_python_too_old_gets_one_line(pyz, tmp_path, python):
    if python is None:
        pytest.skip("no Python older than 3.7 on this machine")
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    result = run_pyz(pyz, "--root", root, "--print-env", python=python)
    stderr = result.stderr.decode()
    assert result.returncode == 1
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert "needs Python 3.7 or newer" in stderr and "is Python %s." % os.path.basename(
        os.path.dirname(os.path.dirname(python)))[:1] in stderr
    assert not os.path.exists(os.path.join(root, "output", "failure"))
    result = run_pyz(pyz, "--root", root, python=python)
    assert result.returncode == 1
    with open(os.path.join(root, "output", "failure")) as f:
        assert "needs Python 3.7 or newer" in f.read()


def test_every_python_loads_its_own_bytecode(pyz):
    built = {folder.split("-")[1] for folder in build_pyz.bytecode_folders(pyz)}  # "37", ..., "313"
    assert "%d%d" % sys.version_info[:2] in built
    for version, python in interpreters():
        result = subprocess.run([python, pyz, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert result.returncode == 0, result.stderr.decode()
        shown = result.stdout.decode()
        assert shown.startswith("sm-train ") and "(Python %s." % version in shown
        if version.replace(".", "") in built:  # a Python the build found (PATH, pyenv) has its own bytecode
            assert "bytecode pyc/cpython-%s-" % version.replace(".", "") in shown, shown
        else:
            assert "compiled from the sources" in shown, shown
        # `local` and the code fetch are left out of the bytecode: their modules come from the sources
        result = subprocess.run([python, pyz, "local", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert result.returncode == 0 and b"--channel" in result.stdout, result.stderr.decode()


def test_a_pyz_with_one_bytecode_folder_runs_on_every_python(tmp_path):
    single = build_pyz.build(str(tmp_path / "single.pyz"), [sys.executable])
    assert len(build_pyz.bytecode_folders(single)) == 1
    mine = "%d.%d" % sys.version_info[:2]
    for version, python in interpreters():
        shown = subprocess.run([python, single, "--version"], stdout=subprocess.PIPE).stdout.decode()
        assert ("bytecode pyc/" in shown) == (version == mine), shown
        assert ("compiled from the sources" in shown) == (version != mine), shown
    root = make_tree(tmp_path / "ml", dict(PROGRAM, epochs="3", optimizer="adam"), {}, RC, TRAIN)
    outputs = set()
    for version, python in interpreters():
        result = run_pyz(single, "--root", root, "--print-env", "--format", "json", python=python)
        assert result.returncode == 0, (version, result.stderr.decode())
        env = json.loads(result.stdout.decode())["env"]
        assert env["SM_HP_OPTIMIZER"] == "adam"
        outputs.add(result.stdout.decode().replace(python, "PYTHON"))
    assert len(outputs) == 1  # the same rendering on every Python, but for the interpreter that runs train.py


# The pyz's __main__.py run as zipimport runs it, then a launcher function made to fail: its traceback.
TRACEBACK = """
import sys, traceback, zipimport
pyz = sys.argv[1]
sys.path.insert(0, pyz)
loader = zipimport.zipimporter(pyz)
sys.argv = [pyz, "--version"]
try:
    exec(loader.get_code("__main__"), {"__name__": "__main__", "__loader__": loader})
except SystemExit:
    pass
from launcher.core import config
try:
    config.read_job(None, {})
except AttributeError:
    traceback.print_exc(file=sys.stdout)
"""


def test_a_traceback_shows_the_launcher_lines_from_bytecode_or_sources(tmp_path):
    """A bug report's traceback names the file and shows the line, whether the code came from this Python's
    bytecode or from sources.marshal."""
    single = build_pyz.build(str(tmp_path / "single.pyz"), [sys.executable])
    mine = "%d.%d" % sys.version_info[:2]
    for version, python in interpreters():
        result = subprocess.run([python, "-c", TRACEBACK, single], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=str(tmp_path))
        shown = result.stdout.decode()
        assert ("bytecode pyc/" in shown) == (version == mine), shown
        assert 'File "launcher/core/config.py", line' in shown and "in _read_object" in shown, shown
        assert "    path = layout.config_file(name)\n" in shown, shown  # the source line itself


DUMP = """import json, os, sys
with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as f:
    json.dump({"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")}}, f)
"""


@pytest.mark.parametrize("mode", [[], ["--supervise"]], ids=["exec", "supervise"])
def test_every_python_starts_the_same_job_the_same_way(pyz, tmp_path, mode):
    seen = set()
    for version, python in interpreters():
        root = make_tree(tmp_path / version, dict(PROGRAM, epochs="3", optimizer="adam", layers="[64, 32]"),
                         {"training": {}}, RC, {"train.py": DUMP})
        os.makedirs(os.path.join(root, "model"))
        result = run_pyz(pyz, "--root", root, *mode, python=python)
        assert result.returncode == 0, (version, result.stderr.decode())
        with open(os.path.join(root, "model", "seen.json")) as f:
            seen.add(f.read().replace(root, "ROOT").replace(python, "PYTHON"))
    assert len(seen) == 1


# --- a stop while the start is still probing -------------------------------------------------------------

def slow_probe_env(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "probe.pid"
    fake = bin_dir / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho $$ > %s\nexec sleep 120\n" % marker)
    fake.chmod(0o755)
    return clean_env(PATH="%s:%s" % (bin_dir, os.environ["PATH"]), SM_TRAIN_PROBE_TIMEOUT="60"), marker


def wait_for(path, proc):
    deadline = time.monotonic() + 30
    while not (os.path.exists(str(path)) and os.path.getsize(str(path))):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return int(path.read_text())


def pid_one_child(unshare):
    """The host pid of the process that `unshare --fork` made PID 1 of its namespace."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open("/proc/%d/task/%d/children" % (unshare.pid, unshare.pid)) as f:
            children = f.read().split()
        if children:
            return int(children[0])
        time.sleep(0.02)
    raise AssertionError("unshare started no child")


def can_be_pid_one():
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "true"], stderr=subprocess.DEVNULL,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.parametrize("pid_one", [False, True], ids=["child", "pid1"])
@pytest.mark.parametrize("mode", [[], ["--supervise"]], ids=["exec", "supervise"])
def test_sigterm_while_probing_stops_the_start(pyz, tmp_path, mode, pid_one):
    if pid_one and not can_be_pid_one():
        pytest.skip("cannot make a PID namespace here (unshare --pid needs root)")
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    env, marker = slow_probe_env(tmp_path)
    argv = [sys.executable, pyz, "--root", root] + mode
    proc = subprocess.Popen((["unshare", "--pid", "--fork", "--kill-child"] if pid_one else []) + argv, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        probe = wait_for(marker, proc)
        os.kill(pid_one_child(proc) if pid_one else proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = error_lines(stderr.decode())
    assert proc.returncode == 143, stderr.decode()
    assert len(lines) == 1 and "Traceback" not in stderr.decode()
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read() == "stopped by SIGTERM (signal 15) before the program started"
    assert "ran" not in stderr.decode()
    if not pid_one:  # the probe's own session is killed with it (in a namespace, PID 1's end kills it anyway)
        deadline = time.monotonic() + 10
        while alive(probe):
            assert time.monotonic() < deadline, "the probe outlived the stopped start"
            time.sleep(0.05)


@pytest.mark.parametrize("mode", [[], ["--supervise"]], ids=["exec", "supervise"])
def test_sigterm_while_the_start_record_is_written_stops_the_start(pyz, tmp_path, mode):
    """A stop between the plan and exec (here the start record, held up by a full stderr pipe) ends the start
    as a stop while probing does: 143, one error line, the failure file, no traceback."""
    hps = dict(PROGRAM, **{"hp%d" % i: '"%s"' % ("v" * 40) for i in range(2000)})  # a record of about 400 KB
    root = make_tree(tmp_path / "ml", hps, {}, RC, TRAIN)
    proc = subprocess.Popen([sys.executable, pyz, "--root", root] + mode, env=clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:  # until it waits for the pipe (the kernel calls the wait pipe_write or anon_pipe_write)
            with open("/proc/%d/wchan" % proc.pid) as f:
                if "pipe_write" in f.read():
                    break
            assert proc.poll() is None and time.monotonic() < deadline, "the launcher never waited on stderr"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        out, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stderr.decode()[-3000:]
    assert "Traceback" not in stderr.decode() and out == b""
    assert len(error_lines(stderr.decode())) == 1
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read() == "stopped by SIGTERM (signal 15) before the program started"


def alive(pid):
    """Running, not gone or a zombie waiting for whoever inherited it."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


# The generic Estimator writes str(value), framework estimators json.dumps(value).
STR_VALUES = {"sagemaker_program": "train.py", "optimizer": "adam", "use_amp": "True", "schedule": "None",
              "layers": "[64, 32]", "classes": "['cat', 'dog']", "extra": "{'warmup': 5}", "lr": "0.001"}
JSON_VALUES = {"sagemaker_program": '"train.py"', "optimizer": '"adam"', "use_amp": "true", "layers": "[64, 32]",
               "classes": '["cat", "dog"]', "extra": '{"warmup": 5}', "lr": "0.001"}
SLOW_MODULES = {"json", "re", "enum", "argparse", "subprocess", "socket", "ssl", "urllib", "tarfile", "signal",
                "errno"}  # errno: 80 us to build its table of names, imported only where an error needs it


@pytest.mark.parametrize("hps", [STR_VALUES, JSON_VALUES], ids=["str", "json.dumps"])
def test_a_real_start_imports_no_slow_module(pyz, tmp_path, hps):
    root = make_tree(tmp_path / "ml", hps, {"training": {}}, RC, TRAIN)
    result = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", pyz, "--root", root],
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0 and result.stdout == b"ran\n", result.stderr.decode()
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.decode().splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "_json" in imported  # the lines were read
    assert not SLOW_MODULES & imported, SLOW_MODULES & imported
    # __main__.py ran START's modules itself (none went through the import system), and nothing was inflated
    assert not {name for name in imported if name.split(".")[0] == "launcher"}, sorted(imported)
    assert "zlib" not in imported


def test_a_dry_run_inflates_nothing_either(pyz, tmp_path):
    """--print-env imports build_pyz.DRY besides START, from code objects stored as they are: no zlib."""
    root = make_tree(tmp_path / "ml", JSON_VALUES, {"training": {}}, RC, TRAIN)
    result = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", pyz, "--root", root, "--print-env"],
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0 and b"export SM_HPS=" in result.stdout, result.stderr.decode()
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.decode().splitlines()
                if line.startswith("import time:") and "|" in line}
    assert {name for name in imported if name.split(".")[0] == "launcher"} == set(build_pyz.DRY), sorted(imported)
    assert "zlib" not in imported and not SLOW_MODULES & imported, sorted(imported)


# A plain start from the sources, its exec replaced by a report of the launcher's modules it imported.
IMPORTED = """
import os, sys
sys.path.insert(0, sys.argv[1])
from launcher import cli
def report(*args):
    print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] == "launcher")), flush=True)
    os._exit(0)
os.execvpe = report
cli.main(["train", "--root", sys.argv[2]])
"""


@pytest.mark.parametrize("hps", [STR_VALUES, JSON_VALUES], ids=["str", "json.dumps"])
def test_the_modules_run_at_start_are_those_a_plain_start_imports(tmp_path, hps):
    root = make_tree(tmp_path / "ml", hps, {"training": {}}, RC, TRAIN)
    result = subprocess.run([sys.executable, "-I", "-c", IMPORTED, build_pyz.ROOT, root], env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode()
    imported = result.stdout.decode().split()
    assert imported == sorted(build_pyz.START), "build_pyz.START must list, dependencies first: %s" % imported


def test_build_prints_the_path_and_sha256_that_sha256sum_checks(tmp_path):
    out = tmp_path / "x.pyz"
    result = subprocess.run([sys.executable, os.path.join(build_pyz.ROOT, "build_pyz.py"), "--output", str(out),
                             "--python", sys.executable], stdout=subprocess.PIPE, cwd=str(tmp_path), check=True)
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("wrote x.pyz: %d bytes, bytecode for Python %d.%d"
                               % ((out.stat().st_size,) + sys.version_info[:2]))
    with open(str(out), "rb") as f:
        assert lines[1] == "%s  x.pyz" % hashlib.sha256(f.read()).hexdigest()
    check = subprocess.run(["sha256sum", "-c"], input=(lines[1] + "\n").encode(), cwd=str(tmp_path),
                           stdout=subprocess.PIPE)
    assert check.returncode == 0 and check.stdout == b"x.pyz: OK\n"


def test_demo_leaves_nothing_behind(pyz, tmp_path):
    """Nothing in the temporary folder; its result in demo/ of the checkout (here a copy), which git ignores,
    where the printed model paths are still there to look at."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    checkout = tmp_path / "checkout"
    shutil.copytree(os.path.join(build_pyz.ROOT, "examples"), str(checkout / "examples"))
    for _ in range(2):  # the second run replaces the first one's demo/
        result = subprocess.run([sys.executable, str(checkout / "examples" / "demo.py"), pyz],
                                env=clean_env(TMPDIR=str(scratch)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert result.returncode == 0, result.stdout.decode()[-3000:]
        assert b"demo: local exit status 0" in result.stdout
        assert os.listdir(str(scratch)) == []
        models = [line.split("the model is in ", 1)[1] for line in result.stdout.decode().splitlines()
                  if line.startswith("demo: ") and "the model is in " in line]
        assert len(models) == 2, result.stdout.decode()
        for model in models:
            assert model.startswith(str(checkout / "demo") + os.sep) and os.path.isfile(model), model
    assert sorted(os.listdir(str(checkout))) == ["demo", "examples"]
    with open(os.path.join(build_pyz.ROOT, ".gitignore")) as f:
        assert "/demo/" in f.read().splitlines()


def test_bench_shows_every_budget_and_leaves_nothing_behind(pyz, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = subprocess.run([sys.executable, os.path.join(build_pyz.ROOT, "tests", "bench.py"), pyz, "--runs", "1",
                             "--python", sys.executable], env=clean_env(TMPDIR=str(scratch)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    out = result.stdout.decode()
    figures = [line for line in out.splitlines() if line.rstrip().endswith((" ok", " OVER"))]
    assert len(figures) == 4 + 3 + 2, out  # per Python: 2 trees x (launch, --print-env); scaling; size, RSS
    assert all(" budget " in line for line in figures)
    over = [line for line in figures if line.rstrip().endswith("OVER")]
    assert result.returncode == (1 if over else 0), out
    if over:
        assert "figures over budget:" in out
    assert os.listdir(str(scratch)) == []


def test_bytecode_compiled_with_optimize_2_changes_nothing():
    """The pyz's bytecode is compiled with optimize=2 (no docstrings, no asserts): launcher/ must not use them."""
    import ast

    for folder, _, names in os.walk(os.path.join(build_pyz.ROOT, "launcher")):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(folder, name)) as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    assert not isinstance(node, ast.Assert), (name, node.lineno)
                    assert not (isinstance(node, (ast.Name, ast.Attribute)) and
                                getattr(node, "id", getattr(node, "attr", None)) in ("__doc__", "__debug__")), name

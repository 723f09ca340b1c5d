"""`sm-train check` on trees, through the built pyz: what it finds about the start (PID 1, the Python and its
bytecode, the folders, the settings), the program (its name, kind, syntax, shell, installs, CA_REPOSITORY_ARN) and
signals; each broken tree gets exactly its error; the text and JSON forms; it changes nothing. The distributed and
accelerator findings are in test_check_distributed.py; real images in tests/images/test_check.py."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
from conftest import clean_env, make_tree, one_error, run_pyz
from conftest import error_topics as errors
from conftest import finding as found

import build_pyz

RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
PROGRAM = {"sagemaker_program": '"train.py"'}
TRAIN = {"train.py": "print('ran')\n"}


def check(pyz, root, *args, env=None, python=None):
    """(status, the JSON document) of `check --root ROOT --format json ARGS`."""
    result = run_pyz(pyz, "check", "--root", root, "--format", "json", *args, env=env, python=python)
    assert result.returncode in (0, 1), result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    return result.returncode, json.loads(result.stdout.decode())


def test_a_good_tree_has_no_error_and_says_so_in_text(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    result = run_pyz(pyz, "check", "--root", root)
    out = result.stdout.decode()
    assert result.returncode == 0 and result.stderr == b"", result.stderr.decode()
    lines = out.splitlines()
    assert lines[0].startswith("sm-train check of %s: Python %d.%d." % ((root,) + sys.version_info[:2]))
    assert any(line.startswith("ok       program") and "-- train.py" in line for line in lines)
    assert any(line.startswith("warning  signals") for line in lines)  # no SIGTERM handler in train.py
    assert lines[-1].startswith("0 errors, 1 warning: a job on this image will start (checked in ")
    # the line to change stands under each finding that is not ok
    at = [i for i, line in enumerate(lines) if line.startswith("warning  signals")][0]
    assert lines[at + 1].split()[:3] == ["fix:", "ENV", "SM_TRAIN_SUPERVISE=true:"]


def test_json_has_every_finding_the_counts_and_the_time(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    status, doc = check(pyz, root)
    assert status == 0 and doc["status"] == 0 and doc["errors"] == 0 and doc["warnings"] == 1
    assert isinstance(doc["seconds"], float)
    version = "%d.%d.%d" % sys.version_info[:3]
    assert doc["checked"] == {"root": root, "python": sys.executable, "python_version": version,
                              "distribution": None, "hosts": 1, "gpus": 0}
    topics = [f["topic"] for f in doc["findings"]]
    # The CUDA libraries are looked at only where this Python has torch (CI's .venv has, after `make engines`).
    with_torch = ["cuda"] if importlib.util.find_spec("torch") is not None else []
    assert topics == ["entrypoint", "python", "folders", "settings", "program", "compile", "install", "signals",
                      "distributed", "gpu"] + with_torch + ["neuron", "efa", "probes"]
    assert all(f["fix"] is None for f in doc["findings"] if f["level"] == "ok")
    assert found(doc, "program")["message"].startswith(
        "train.py (the sagemaker_program hyperparameter), a Python script: the start runs `%s -- train.py`"
        % sys.executable)
    own = "runs the pyz's own bytecode for it (pyc/cpython-%d%d-" % sys.version_info[:2]
    assert own in found(doc, "python")["message"]


def test_a_tree_without_a_program_is_left_to_script_mode(pyz, tmp_path):
    status, doc = check(pyz, make_tree(tmp_path / "ml", {}, {}, RC))
    assert status == 0 and "script mode names it" in found(doc, "program")["message"]


@pytest.mark.parametrize("case,hps,code,env,topic,said,fix", [
    ("missing", {"sagemaker_program": '"trian.py"'}, TRAIN, {}, "program",
     "training entry point 'trian.py' not found", "ENV SAGEMAKER_PROGRAM=train.py (the closest name in"),
    ("no code dir", PROGRAM, None, {}, "program", "code directory", "COPY train.py /opt/ml/code/train.py"),
    ("bad name", {}, TRAIN, {"SAGEMAKER_PROGRAM": "-train.py"}, "program", "a leading '-'", "ENV SAGEMAKER_PROGRAM="),
    ("syntax", PROGRAM, {"train.py": "def f(:\n"}, {}, "compile", "train.py does not compile under Python",
     "correct train.py line 1"),
    ("shebang", {"sagemaker_program": '"train.sh"'}, {"train.sh": "#!/no/such/bash\necho hi\n"}, {}, "shell",
     "train.sh starts with `#!/no/such/bash`, and the image has no /no/such/bash", "make the first line"),
    ("arn", PROGRAM, dict(TRAIN, **{"requirements.txt": ""}), {"CA_REPOSITORY_ARN": "arn:aws:s3:::b"},
     "codeartifact", "invalid CodeArtifact repository arn", "ENV CA_REPOSITORY_ARN=arn:aws:codeartifact:"),
    ("settings", PROGRAM, TRAIN, {"SM_TRAIN_GRACE_PERIOD": "soon"}, "settings", "SM_TRAIN_GRACE_PERIOD must be",
     "ENV SM_TRAIN_GRACE_PERIOD=110"),
    ("hp style", PROGRAM, TRAIN, {"SM_TRAIN_HP_STYLE": "yaml"}, "settings", "must be toolkit or json", "ENV "),
    ("fetch timeout", PROGRAM, TRAIN, {"SM_TRAIN_FETCH_TIMEOUT": "-1"}, "settings", "SM_TRAIN_FETCH_TIMEOUT must be",
     "correct or remove that ENV line"),
    ("mpi wait", PROGRAM, TRAIN, {"SM_TRAIN_DNS_TIMEOUT": "x"}, "settings", "SM_TRAIN_DNS_TIMEOUT must be",
     "correct or remove that ENV line"),
    ("job", '{"sagemaker_program": ', TRAIN, {}, "job", "hyperparameters.json: malformed JSON", "correct"),
])
def test_each_broken_tree_gets_exactly_its_error(pyz, tmp_path, case, hps, code, env, topic, said, fix):
    root = make_tree(tmp_path / "ml", hps, {}, RC, code)
    if code is None:
        os.rmdir(os.path.join(root, "code"))
    status, doc = check(pyz, root, env=clean_env(**env))
    assert status == 1 and doc["status"] == 1 and errors(doc) == [topic], doc["findings"]
    error = found(doc, topic)
    assert said in error["message"], error
    assert fix in error["fix"], error


def test_a_helper_that_does_not_compile_is_a_warning(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, dict(TRAIN, **{"lib/util.py": "print 'py2'\n"}))
    status, doc = check(pyz, root)
    compiled = [f for f in doc["findings"] if f["topic"] == "compile"]
    assert status == 0 and [f["level"] for f in compiled] == ["ok", "warning"], compiled
    assert compiled[1]["message"].startswith(os.path.join("lib", "util.py") + " does not compile")


def test_requirements_need_pip(pyz, tmp_path):
    """`python3 -S` has no site-packages, so no pip, as a slim image without python3-pip."""
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, dict(TRAIN, **{"requirements.txt": "numpy\n"}))
    result = subprocess.run([sys.executable, "-S", pyz, "check", "--root", root, "--format", "json"],
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    doc = json.loads(result.stdout.decode())
    assert result.returncode == 1 and errors(doc) == ["install"], doc["findings"]
    assert "requirements.txt needs pip: the start runs `python3 -m pip install -r requirements.txt`" in found(
        doc, "install")["message"]
    assert found(doc, "install")["fix"].startswith("RUN apt-get update && apt-get install -y --no-install-recommends "
                                                   "python3-pip (Debian, Ubuntu; Amazon Linux: RUN yum install -y")
    status, doc = check(pyz, root)  # the tests' Python has pip
    assert status == 0 and "pip install -r requirements.txt` (pip " in found(doc, "install")["message"]


def test_a_python_its_distribution_manages_refuses_pip(pyz, tmp_path):
    """Debian's own python3 marks its packages EXTERNALLY-MANAGED (PEP 668): pip refuses to install into them."""
    python = "/usr/bin/python3"
    probe = "import importlib.util, os, sysconfig; print(importlib.util.find_spec('pip') is not None and " \
            "os.path.isfile(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"
    if not (os.path.exists(python) and subprocess.run([python, "-c", probe], stdout=subprocess.PIPE).stdout.strip()
            == b"True"):
        pytest.skip("no Python with pip and an EXTERNALLY-MANAGED marker at %s (Debian's python3-pip)" % python)
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, dict(TRAIN, **{"requirements.txt": "numpy\n"}))
    home = str(tmp_path / "home")  # no pip.conf of the developer's
    status, doc = check(pyz, root, python=python, env=clean_env(HOME=home))
    assert status == 1 and errors(doc) == ["install"] and "PEP 668" in found(doc, "install")["message"]
    assert found(doc, "install")["fix"].startswith("ENV PIP_BREAK_SYSTEM_PACKAGES=1")
    status, doc = check(pyz, root, python=python, env=clean_env(HOME=home, PIP_BREAK_SYSTEM_PACKAGES="1"))
    assert status == 0, doc["findings"]


def test_codeartifact_is_named_when_the_arn_parses(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, dict(TRAIN, **{"requirements.txt": ""}))
    arn = "arn:aws:codeartifact:eu-west-1:111122223333:repository/my-domain/my-repo"
    status, doc = check(pyz, root, env=clean_env(CA_REPOSITORY_ARN=arn))
    assert status == 0 and found(doc, "codeartifact")["message"].startswith(
        "CA_REPOSITORY_ARN names repository my-repo of domain my-domain (account 111122223333, eu-west-1): pip "
        "installs requirements.txt from it")


@pytest.mark.parametrize("code,env,level,said", [
    ({"train.py": "# no SIGTERM handler\nprint('SIGTERM')\n"}, {}, "warning",
     "train.py becomes PID 1 (exec mode) and no Python file of the code dir names SIGTERM"),
    ({"train.py": "import lib\n", "lib/__init__.py": "import signal\n\n\nsignal.signal(signal.SIGTERM, print)\n"}, {},
     "ok", "the code dir handles SIGTERM (%s line 4 names it)" % os.path.join("lib", "__init__.py")),
    (TRAIN, {"SM_TRAIN_SUPERVISE": "true"}, "ok", "SM_TRAIN_SUPERVISE is on"),
])
def test_signals(pyz, tmp_path, code, env, level, said):
    status, doc = check(pyz, make_tree(tmp_path / "ml", PROGRAM, {}, RC, code), env=clean_env(**env))
    assert status == 0 and found(doc, "signals")["level"] == level and said in found(doc, "signals")["message"]
    if level == "warning":
        assert found(doc, "signals")["fix"].startswith("ENV SM_TRAIN_SUPERVISE=true")


def test_a_shell_script_in_pid_1s_place_drops_sigterm(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", {"sagemaker_program": '"train.sh"'}, {}, RC, {"train.sh": "#!/bin/sh\necho\n"})
    status, doc = check(pyz, root)
    assert status == 0 and found(doc, "shell")["message"] == "/bin/sh runs train.sh, with /bin/sh (its #! line)"
    assert found(doc, "signals")["level"] == "warning" and "under `/bin/sh -c` as PID 1" in found(
        doc, "signals")["message"]


def in_a_pid_namespace(pyz, *command):
    """``command`` as PID 1 of a new PID namespace (as a container's entry point is), its output parsed as JSON."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a new PID namespace needs root and unshare (util-linux)")
    result = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc"] + list(command), env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert result.returncode in (0, 1), result.stderr.decode()
    return json.loads(result.stdout.decode())


def test_sm_train_as_pid_1_is_an_exec_form_entrypoint(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    doc = in_a_pid_namespace(pyz, sys.executable, pyz, "check", "--root", root, "--format", "json")
    assert found(doc, "entrypoint")["level"] == "ok" and "sm-train is PID 1" in found(doc, "entrypoint")["message"]
    assert errors(doc) == []


def test_a_shell_form_entrypoint_is_found_though_it_dropped_check(pyz, tmp_path):
    """`ENTRYPOINT python3 /sm-train.pyz` and `docker run IMAGE check ...` start
    `/bin/sh -c "python3 /sm-train.pyz" check ...`: `check` is the shell's $0 and sm-train gets no argument."""
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    doc = in_a_pid_namespace(pyz, "/bin/sh", "-c", "%s %s" % (sys.executable, pyz), "check", "--root", root,
                             "--format", "json")
    assert errors(doc) == ["entrypoint"], doc["findings"]
    entry = found(doc, "entrypoint")
    assert entry["message"].startswith('a shell-form ENTRYPOINT: sm-train runs under `/bin/sh -c "%s' % sys.executable)
    assert entry["fix"].startswith('ENTRYPOINT ["python3", "/sm-train.pyz"]')


def test_outside_a_container_the_entrypoint_is_not_judged(pyz, tmp_path):
    status, doc = check(pyz, make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN))
    assert found(doc, "entrypoint")["message"].startswith("not started as a container's entry point")


def test_a_python_without_bytecode_in_the_pyz_is_a_warning(tmp_path):
    """A pyz built with one Python, run by another: every start compiles the sources."""
    import pythons

    other = [pythons.interpreter(v) for v in pythons.WANTED if v in pythons.found()
             and v != "%d.%d" % sys.version_info[:2]]
    if not other:
        pytest.skip("no second Python 3.7+ on this machine")
    single = build_pyz.build(str(tmp_path / "one.pyz"), [sys.executable])
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    status, doc = check(single, root, python=other[0])
    python = found(doc, "python")
    assert status == 0 and python["level"] == "warning" and "the pyz holds no bytecode for Python" in python["message"]
    assert python["fix"].startswith("build the pyz where a python3.")


def test_a_folder_the_user_cannot_write_is_an_error(pyz):
    """As uid 65534 with model/ root's and closed to others: an image whose USER cannot write where the model goes."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("running as another user needs root and setpriv (util-linux)")
    shared = tempfile.mkdtemp(prefix="sm-train-check-")  # pytest's folders are root's alone; an image's files are not
    try:
        os.chmod(shared, 0o755)
        root = make_tree(os.path.join(shared, "ml"), PROGRAM, {}, RC, TRAIN)
        for name in ("model", "output"):
            os.makedirs(os.path.join(root, name))
        os.chown(os.path.join(root, "output"), 65534, 65534)
        tmp = os.path.join(shared, "tmp")
        os.mkdir(tmp)
        os.chmod(tmp, 0o1777)
        copy = shutil.copy(pyz, os.path.join(shared, "sm-train.pyz"))
        result = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable,
                                 copy, "check", "--root", root, "--format", "json"], env=clean_env(TMPDIR=tmp),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        shutil.rmtree(shared)
    doc = json.loads(result.stdout.decode())
    assert result.returncode == 1 and errors(doc) == ["folders"], doc["findings"]
    folders = found(doc, "folders")
    assert folders["message"].startswith("uid 65534") and folders["message"].endswith(
        " cannot write %s/model, where the program puts its model" % root), folders
    assert folders["fix"].startswith("USER root before the ENTRYPOINT line")
    assert found(doc, "user")["level"] == "warning"


def test_it_changes_nothing(pyz, tmp_path):
    """No model/ or output/ made (a start makes them), no __pycache__ from compiling the program, no failure file."""
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, dict(TRAIN, **{"requirements.txt": "", "lib.py": "x = 1\n"}))
    before = sorted(os.walk(root))
    status, doc = check(pyz, root)
    assert status == 0 and sorted(os.walk(root)) == before
    root = make_tree(tmp_path / "bad", {"sagemaker_program": '"missing.py"'}, {}, RC, TRAIN)
    before = sorted(os.walk(root))
    status, doc = check(pyz, root)
    assert status == 1 and sorted(os.walk(root)) == before


@pytest.mark.parametrize("args,said", [
    (["--hosts", "0"], "--hosts must be a whole number from 1, not '0'"),
    (["--gpus", "x"], "--gpus must be a whole number from 0, not 'x'"),
    (["--distribution", "horovod"], "--distribution must be mpi or torchrun, not 'horovod'"),
    (["--format", "yaml"], "--format must be text or json, not 'yaml'"),
    (["--", "python3"], "check takes no program to run: 'python3'"),
    (["--hots", "2"], "unknown option '--hots'; did you mean --hosts? (see --help)"),
])
def test_a_bad_command_line_is_status_2(pyz, args, said):
    line, _ = one_error(run_pyz(pyz, "check", *args), 2)
    assert line.endswith(" ERROR    " + said), line


def test_help(pyz):
    result = run_pyz(pyz, "check", "--help")
    assert result.returncode == 0 and result.stdout.decode().startswith("usage: python3 sm-train.pyz check [OPTIONS]")
    assert b"check [OPTIONS]" in run_pyz(pyz, "--help").stdout


def test_a_python_too_old_gets_one_line_naming_3_7_and_writes_nothing(pyz, tmp_path):
    import glob

    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    old = sorted(glob.glob(os.path.join(pyenv, "versions", "3.[0-6].*", "bin", "python3")))
    if not old:
        pytest.skip("no Python 3.0 to 3.6 in pyenv's versions on this machine")
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    result = run_pyz(pyz, "check", "--root", root, python=old[-1])
    stderr = result.stderr.decode()
    assert result.returncode == 1 and result.stdout == b"" and stderr.count("\n") == 1, stderr
    assert stderr.startswith("sm-train ERROR    sm-train needs Python 3.7 or newer; ") and " is Python 3." in stderr
    assert not os.path.exists(os.path.join(root, "output"))  # as --print-env and local: check writes nothing


def test_every_python_runs_the_check(pyz, tmp_path):
    """check is stored as sources only: each Python compiles it at its first use."""
    import pythons

    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC, TRAIN)
    for version in [v for v in pythons.WANTED if v in pythons.found()]:
        status, doc = check(pyz, root, python=pythons.interpreter(version))
        assert doc["checked"]["python_version"].startswith(version + ".") and errors(doc) == [], (version, doc)

"""End to end: the built pyz execs each kind of program, which checks from inside its environment,
argv and cwd; the program's exit status is the launcher's."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import pythons
from conftest import clean_env, make_tree

DUMP_PY = """import json, os, sys
with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as f:
    json.dump({"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ), "pid": os.getpid()}, f)
sys.exit(int(os.environ.get("SM_HP_EXIT", "0")))
"""
DUMP_SH = """#!/bin/sh
out="$SM_MODEL_DIR/seen.txt"
echo "pid=$$ $PPID" > "$out"
echo "cwd=$(pwd)" >> "$out"
for a in "$0" "$@"; do echo "arg=$a" >> "$out"; done
echo "lr=$SM_HP_LR" >> "$out"
echo "channel=$SM_CHANNEL_TRAINING" >> "$out"
exit "$SM_HP_EXIT"
"""
RC = {"current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type": "ml.m5.xlarge"}
IDC = {"training": {"TrainingInputMode": "File"}}


def job(tmp_path, program, code, **hps):
    values = {"sagemaker_program": json.dumps(program), "lr": "0.1", "msg": json.dumps("a b 'c' $HOME")}
    values.update({k: json.dumps(v) for k, v in hps.items()})
    root = make_tree(tmp_path / "ml", values, IDC, RC, code)
    os.makedirs(os.path.join(root, "model"))
    return root


def launch(pyz, root, *args, python=None, env=None):
    proc = subprocess.Popen([python or sys.executable, pyz, "train", "--root", root] + list(args),
                            env=env or clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=300)
    return proc.pid, proc.returncode, out.decode(), err.decode()


def seen_py(root):
    with open(os.path.join(root, "model", "seen.json")) as f:
        return json.load(f)


def seen_sh(root):
    with open(os.path.join(root, "model", "seen.txt")) as f:
        return [line.rstrip("\n") for line in f]


@pytest.mark.parametrize("status", [0, 3, 137])
def test_python_script(pyz, tmp_path, status):
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY}, exit=status)
    pid, rc, out, err = launch(pyz, root)
    assert rc == status, err
    seen = seen_py(root)
    assert seen["pid"] == pid  # exec: the program is the launcher's process
    assert seen["argv"] == ["train.py", "--exit", str(status), "--lr", "0.1", "--msg", "a b 'c' $HOME"]
    assert seen["cwd"] == os.path.join(root, "code")
    env = seen["env"]
    assert env["SM_CHANNEL_TRAINING"] == os.path.join(root, "input", "data", "training")
    assert env["SM_HP_LR"] == "0.1"
    assert env["SM_MODEL_DIR"] == os.path.join(root, "model")
    assert env["PYTHONPATH"] == os.path.join(root, "code")
    assert env["CURRENT_HOST"] == "algo-1"
    assert json.loads(env["SM_USER_ARGS"]) == seen["argv"][1:]
    assert "Invoking user script" in err


@pytest.mark.parametrize("name", ["train.sh", "train"])
@pytest.mark.parametrize("status", [0, 3, 137])
def test_shell_and_extensionless(pyz, tmp_path, name, status):
    root = job(tmp_path, name, {name: DUMP_SH}, exit=status)
    os.chmod(os.path.join(root, "code", name), 0o644)  # the toolkit makes command entries executable
    pid, rc, out, err = launch(pyz, root)
    assert rc == status, err
    seen = seen_sh(root)
    assert str(pid) in seen[0].split("=")[1].split()  # the script runs as, or right under, the launcher's process
    assert seen[1] == "cwd=" + os.path.join(root, "code")
    assert seen[2:9] == ["arg=./" + name, "arg=--exit", "arg=%d" % status, "arg=--lr", "arg=0.1", "arg=--msg",
                         "arg=a b 'c' $HOME"]
    assert seen[9:] == ["lr=0.1", "channel=" + os.path.join(root, "input", "data", "training")]
    assert os.stat(os.path.join(root, "code", name)).st_mode & 0o111 == 0o111


def test_package_is_installed_then_run_as_module(pyz, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    setup = "from setuptools import setup\nsetup(name='trainer', version='1.0', py_modules=['trainer'])\n"
    root = job(tmp_path, "trainer.py", {"setup.py": setup, "trainer.py": DUMP_PY}, exit=3)
    env = clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1")
    pid, rc, out, err = launch(pyz, root, python=python, env=env)
    assert rc == 3, err
    seen = seen_py(root)
    assert seen["pid"] == pid
    assert seen["argv"][1:] == ["--exit", "3", "--lr", "0.1", "--msg", "a b 'c' $HOME"]
    assert seen["argv"][0].endswith("trainer.py")  # python -m sets argv[0] to the module's file
    check = subprocess.run([python, "-m", "pip", "show", "trainer"], stdout=subprocess.PIPE)
    assert check.returncode == 0  # `pip install .` ran before the exec


def test_requirements_installed_before_a_python_script(pyz, tmp_path):
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY, "requirements.txt": "# nothing needed\n"})
    pid, rc, out, err = launch(pyz, root)
    assert rc == 0, err
    assert "pip install -r requirements.txt" in err


def test_explicit_command_gets_the_same_environment(pyz, tmp_path):
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY, "other.py": DUMP_PY}, exit=5)
    pid, rc, out, err = launch(pyz, root, "--", sys.executable, "other.py", "x")
    assert rc == 5, err
    seen = seen_py(root)
    assert seen["argv"] == ["other.py", "x"]
    assert seen["env"]["SM_HP_LR"] == "0.1"
    assert seen["cwd"] == os.path.join(root, "code")


def test_secrets_are_masked_in_the_log_but_reach_the_program(pyz, tmp_path):
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY}, hf_token="s3cr3t-value", db_password="pw-value-9",
               max_tokens=77)
    pid, rc, out, err = launch(pyz, root)
    assert rc == 0
    assert "s3cr3t-value" not in err and "pw-value-9" not in err
    assert "--hf_token ********" in err and '"max_tokens":77' in err
    seen = seen_py(root)
    assert seen["env"]["SM_HP_HF_TOKEN"] == "s3cr3t-value"
    assert "pw-value-9" in seen["argv"]


def test_print_env_shell_output_evals_in_sh(pyz, tmp_path):
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY}, **{"learning-rate": 0.5, "quote": "it's\nmultiline"})
    script = 'eval "$(%s %s --root %s --print-env)" && printf "%%s|%%s" "$SM_HP_QUOTE" "$SM_HP_LR"' % (
        sys.executable, pyz, root)
    result = subprocess.run(["sh", "-c", script], env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "it's\nmultiline|0.1"
    shown = subprocess.run([sys.executable, pyz, "--root", root, "--print-env"], env=clean_env(),
                           stdout=subprocess.PIPE).stdout.decode()
    assert '# not a shell name: SM_HP_LEARNING-RATE="0.5"' in shown


def test_dry_run_changes_nothing(pyz, tmp_path):
    root = job(tmp_path, "train.sh", {"train.sh": DUMP_SH, "requirements.txt": "six\n"})
    os.chmod(os.path.join(root, "code", "train.sh"), 0o644)
    before = sorted((p, os.stat(os.path.join(d, p)).st_mode) for d, _, fs in os.walk(root) for p in fs)
    result = subprocess.run([sys.executable, pyz, "--root", root, "--print-env", "--format", "json"],
                            env=clean_env(), stdout=subprocess.PIPE)
    assert result.returncode == 0
    after = sorted((p, os.stat(os.path.join(d, p)).st_mode) for d, _, fs in os.walk(root) for p in fs)
    assert before == after
    assert not os.path.exists(os.path.join(root, "output"))


def test_absent_config_files_mean_their_defaults(pyz, tmp_path):
    root = str(tmp_path / "ml")
    os.makedirs(os.path.join(root, "code"))
    result = subprocess.run([sys.executable, pyz, "--root", root, "--print-env", "--format", "json", "--",
                             "true"], env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0
    env = json.loads(result.stdout.decode())["env"]
    assert env["SM_HOSTS"] == '["algo-1"]' and env["SM_CURRENT_HOST"] == "algo-1"
    assert env["SM_HPS"] == "{}" and env["SM_CHANNELS"] == "[]"
    for name in ("hyperparameters.json", "inputdataconfig.json", "resourceconfig.json"):
        assert name + " not found" in result.stderr.decode()


def test_runs_on_python_3_7(pyz, tmp_path):
    python37 = pythons.interpreter("3.7")
    if not python37:
        pytest.skip(pythons.missing_reason("3.7"))
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY}, exit=3)
    pid, rc, out, err = launch(pyz, root, python=python37)
    assert rc == 3, err
    assert seen_py(root)["argv"][:3] == ["train.py", "--exit", "3"]


def test_program_gets_default_sigpipe(pyz, tmp_path):
    """CPython ignores SIGPIPE and SIGXFSZ; an ignored signal survives exec, so the launcher restores them."""
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY})
    script = "grep SigIgn /proc/self/status; yes | head -n 1 >/dev/null"
    pid, rc, out, err = launch(pyz, root, "--", "/bin/sh", "-c", script)
    assert rc == 0, err
    ignored = int(out.split()[-1], 16)
    assert not ignored & (1 << (13 - 1)) and not ignored & (1 << (25 - 1))  # SIGPIPE 13, SIGXFSZ 25
    assert "Broken pipe" not in err


def test_sigterm_during_install_stops_pip_and_reports(pyz, tmp_path):
    """As PID 1 a handler-less launcher would ignore SageMaker's SIGTERM while pip runs; it must not."""
    started = tmp_path / "pip-started"
    # `python -m pip` finds the code dir first on PYTHONPATH: a pip that signals it started, then hangs.
    hang = "import pathlib, time\npathlib.Path(%r).touch()\ntime.sleep(300)\n" % str(started)
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY, "requirements.txt": "six\n", "pip.py": hang})
    os.makedirs(os.path.join(root, "output"))
    proc = subprocess.Popen([sys.executable, pyz, "--root", root], env=clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    for _ in range(600):
        if started.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert started.exists()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read().startswith("stopped by SIGTERM (signal 15) while installing dependencies")
    assert not os.path.exists(os.path.join(root, "model", "seen.json"))


def test_options_after_the_program_belong_to_it(pyz, tmp_path):
    """ContainerArguments: the first word that is not an option starts the command; --print-env after it is
    the program's argument, not a dry run."""
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY, "other.py": DUMP_PY})
    pid, rc, out, err = launch(pyz, root, sys.executable, "other.py", "--print-env", "--format", "json")
    assert rc == 0, err
    assert seen_py(root)["argv"] == ["other.py", "--print-env", "--format", "json"]


def test_explicit_command_without_a_code_dir_runs_in_the_current_directory(pyz, tmp_path):
    root = str(tmp_path / "ml")
    os.makedirs(os.path.join(root, "model"))
    work = tmp_path / "app"
    work.mkdir()
    (work / "prep.py").write_text(DUMP_PY)
    proc = subprocess.run([sys.executable, pyz, "--root", root, sys.executable, "prep.py"], cwd=str(work),
                          env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.returncode == 0, proc.stderr.decode()
    seen = seen_py(root)
    assert seen["cwd"] == str(work)
    assert seen["env"]["SAGEMAKER_BASE_DIR"] == root  # --root given: the program's own tools find the tree


def test_relative_base_dir_becomes_absolute(pyz, tmp_path):
    root = job(tmp_path, "train.py", {"train.py": DUMP_PY})
    proc = subprocess.run([sys.executable, pyz], cwd=str(tmp_path), env=clean_env(SAGEMAKER_BASE_DIR="ml"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.returncode == 0, proc.stderr.decode()
    env = seen_py(root)["env"]
    assert env["SM_MODEL_DIR"] == os.path.join(root, "model")
    assert env["SAGEMAKER_BASE_DIR"] == root


def test_help_and_version_ignore_bad_twins(pyz):
    env = clean_env(SM_TRAIN_PROBE_TIMEOUT="never", SM_TRAIN_SUPERVISE="perhaps")
    for flag in ("--help", "--version"):
        result = subprocess.run([sys.executable, pyz, flag], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert result.returncode == 0
        assert result.stdout


def test_missing_program_names_the_unfetched_submit_directory(pyz, tmp_path):
    root = job(tmp_path, "train.py", {"other.py": "\n"},
               sagemaker_submit_directory="s3://bucket/job/source/sourcedir.tar.gz")
    pid, rc, out, err = launch(pyz, root)
    assert rc == 127
    assert ("sagemaker_submit_directory (s3://bucket/job/source/sourcedir.tar.gz) is fetched only into an empty "
            "code dir" in err)


def test_supervise_and_local_run_on_python_3_7(pyz, tmp_path):
    python37 = pythons.interpreter("3.7")
    if not python37:
        pytest.skip(pythons.missing_reason("3.7"))
    failing = ("import sys\nsys.stderr.write('Traceback (most recent call last):\\nValueError: bad value\\n')\n"
               "sys.exit(3)\n")
    root = job(tmp_path, "train.py", {"train.py": failing})
    os.makedirs(os.path.join(root, "output"))
    pid, rc, out, err = launch(pyz, root, "--supervise", python=python37)
    assert rc == 3, err
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read().startswith("ValueError: bad value")
    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text(DUMP_PY)
    keep = tmp_path / "kept"
    result = subprocess.run([python37, pyz, "local", "--code", str(code), "--program", "train.py", "--hp", "exit=4",
                             "--keep", str(keep)], env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=120)
    assert result.returncode == 4, result.stderr.decode()
    assert seen_py(str(keep))["argv"][1:3] == ["--exit", "4"]

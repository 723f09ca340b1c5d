"""Every SM_TRAIN_* value is checked where the options are parsed, before anything starts: a bad one is one
usage-error line (status 2) in a real start and in --print-env, whatever the job, and nothing is fetched,
installed or run. The table must name every SM_TRAIN_* variable the launcher reads."""

import json
import os
import re

import pytest
from conftest import ROOT, clean_env, error_lines, make_tree, run_pyz

# (variable, a bad value, the start of the one line it gives)
BAD = [
    ("SM_TRAIN_PROBE_TIMEOUT", "0", "SM_TRAIN_PROBE_TIMEOUT must be a number of seconds"),
    ("SM_TRAIN_GRACE_PERIOD", "-1", "SM_TRAIN_GRACE_PERIOD must be a number of seconds"),
    ("SM_TRAIN_SUPERVISE", "maybe", "SM_TRAIN_SUPERVISE must be true, 1, yes, false, 0, no or empty"),
    ("SM_TRAIN_HP_STYLE", "yaml", "hyperparameter style (--hp-style, $SM_TRAIN_HP_STYLE) must be"),
    ("SM_TRAIN_FETCH_TIMEOUT", "soon", "SM_TRAIN_FETCH_TIMEOUT must be a number of seconds"),
    ("SM_TRAIN_INTERMEDIATE_POLL", "0", "SM_TRAIN_INTERMEDIATE_POLL must be a number of seconds"),
    ("SM_TRAIN_INTERMEDIATE_SETTLE", "-0.5", "SM_TRAIN_INTERMEDIATE_SETTLE must be a number of seconds, 0 or more"),
    ("SM_TRAIN_CONTAINER_CREDENTIALS_HOST", "http://127.0.0.1/", "SM_TRAIN_CONTAINER_CREDENTIALS_HOST must be a host"),
    ("SM_TRAIN_CONTAINER_CREDENTIALS_HOST", "127.0.0.1:port", "SM_TRAIN_CONTAINER_CREDENTIALS_HOST must be a host"),
    ("SM_TRAIN_DNS_TIMEOUT", "inf", "SM_TRAIN_DNS_TIMEOUT must be a number of seconds"),
    ("SM_TRAIN_WORKER_TIMEOUT", "nan", "SM_TRAIN_WORKER_TIMEOUT must be a number of seconds"),
    ("SM_TRAIN_MASTER_TIMEOUT", "1e7", "SM_TRAIN_MASTER_TIMEOUT must be a number of seconds"),
    ("SM_TRAIN_MASTER_LOST_TIMEOUT", "", "SM_TRAIN_MASTER_LOST_TIMEOUT must be a number of seconds"),
    ("SM_TRAIN_STATUS_PORT", "0", "SM_TRAIN_STATUS_PORT must be a whole number from 1 to 65535"),
    ("SM_TRAIN_SSH_PORT", "22x", "SM_TRAIN_SSH_PORT must be a whole number from 1 to 65535"),
]
# Paths, taken as they are: a missing sshd is named where it is started, an empty environment file writes none.
ANY_VALUE = {"SM_TRAIN_SSHD", "SM_TRAIN_SSH_ENVIRONMENT"}

PROGRAM = "import os\nopen(os.environ['MARKER'], 'w').close()\n"


def job(tmp_path):
    """A single-host job whose code is still to be fetched from a local directory, with requirements to install:
    a check made late would let the fetch, pip or the program start."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(PROGRAM)
    (source / "requirements.txt").write_text("no-such-package-sm-train\n")
    hps = {"sagemaker_program": json.dumps("train.py"), "sagemaker_submit_directory": json.dumps(str(source))}
    root = make_tree(tmp_path / "ml", hps, {}, {"current_host": "algo-1", "hosts": ["algo-1"]})
    os.makedirs(os.path.join(root, "output"))
    return root


def test_the_table_names_every_variable_the_launcher_reads():
    found = set()
    for folder, _, files in os.walk(os.path.join(ROOT, "launcher")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name)) as f:
                    found.update(re.findall(r"SM_TRAIN_[A-Z_]*[A-Z]", f.read()))
    assert found == {name for name, _, _ in BAD} | ANY_VALUE


@pytest.mark.parametrize("name,value,message", BAD, ids=["%s=%s" % (n, v) for n, v, _ in BAD])
def test_a_bad_value_is_one_usage_error_before_anything_starts(pyz, tmp_path, name, value, message):
    root = job(tmp_path)
    marker = tmp_path / "ran"
    env = clean_env(MARKER=str(marker), **{name: value})
    real = run_pyz(pyz, "--root", root, env=env)
    err = real.stderr.decode()
    lines = error_lines(err)
    assert real.returncode == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].split(" ERROR ", 1)[1].strip().startswith(message) and repr(value) in lines[0]
    assert os.listdir(os.path.join(root, "code")) == [] and not marker.exists()  # no fetch, no pip, no program
    assert "Provided path" not in err and "Invoking user script" not in err
    failure = os.path.join(root, "output", "failure")
    with open(failure) as f:  # SageMaker's FailureReason
        assert f.read().startswith(message)
    os.remove(failure)

    dry = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", env=env)
    assert dry.returncode == 2 and len(error_lines(dry.stderr.decode())) == 1
    assert json.loads(dry.stdout.decode())["error"].startswith(message)
    shell = run_pyz(pyz, "--root", root, "--print-env", env=env)
    assert shell.returncode == 2 and message in shell.stdout.decode() + shell.stderr.decode()
    assert not os.path.exists(failure)  # a dry run reports, it writes nothing


@pytest.mark.parametrize("name,value", [("SM_TRAIN_CONTAINER_CREDENTIALS_HOST", "127.0.0.1:8080"),
                                        ("SM_TRAIN_CONTAINER_CREDENTIALS_HOST", "[::1]:80"),
                                        ("SM_TRAIN_INTERMEDIATE_POLL", ""), ("SM_TRAIN_INTERMEDIATE_SETTLE", "0"),
                                        ("SM_TRAIN_SSHD", "relative/sshd"),
                                        ("SM_TRAIN_SSH_ENVIRONMENT", "")])
def test_good_and_path_values_pass(pyz, tmp_path, name, value):
    root = job(tmp_path)
    dry = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", env=clean_env(**{name: value}))
    assert dry.returncode == 0, dry.stderr.decode()
    assert json.loads(dry.stdout.decode())["error"] is None

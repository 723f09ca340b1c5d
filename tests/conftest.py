"""Shared fixtures: the pyz built once per session, job trees made in tmp_path, the pyz run as a user runs it."""

import json
import os
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
# The repository (build_pyz, launcher), the stubs and helpers the tests import (support/), and the recorders,
# whose case definitions the tests share (recorders/); the benchmarks are scripts, never imported.
for _folder in (os.path.join(TESTS, "recorders"), os.path.join(TESTS, "support"), ROOT):
    sys.path.insert(0, _folder)
collect_ignore = ["bench", "recorders", "support"]  # none of them holds a test

import build_pyz  # noqa: E402


@pytest.fixture(scope="session")
def pyz(tmp_path_factory):
    return build_pyz.build(str(tmp_path_factory.mktemp("dist") / "sm-train.pyz"))


def make_tree(root, hyperparameters=None, inputdataconfig=None, resourceconfig=None, code=None):
    """An /opt/ml-shaped tree; a config given as str is written verbatim, None leaves the file out."""
    config = os.path.join(str(root), "input", "config")
    os.makedirs(config, exist_ok=True)
    for name, value in (("hyperparameters.json", hyperparameters), ("inputdataconfig.json", inputdataconfig),
                        ("resourceconfig.json", resourceconfig)):
        if value is None:
            continue
        data = value if isinstance(value, (str, bytes)) else json.dumps(value)
        with open(os.path.join(config, name), "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    for name, body in (code or {}).items():
        path = os.path.join(str(root), "code", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(body)
        if body.startswith("#!"):
            os.chmod(path, 0o755)
    os.makedirs(os.path.join(str(root), "code"), exist_ok=True)
    return str(root)


def clean_env(**extra):
    """A small environment for the launcher, free of this machine's SageMaker-looking variables."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env["PATH"] = os.environ.get("PATH", os.defpath)
    if "HOME" not in extra:  # the developer's own ~/.aws must not change what a test sees
        env.update(AWS_CONFIG_FILE="", AWS_SHARED_CREDENTIALS_FILE="")
    env.update(extra)
    return env


def run_pyz(pyz, *args, env=None, timeout=60, python=None):
    return subprocess.run([python or sys.executable, pyz] + list(args), env=env if env is not None else clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def print_env(pyz, root, *args, env=None):
    """--print-env --format json against ``root``: (status, parsed document, stderr text)."""
    result = run_pyz(pyz, "--root", root, "--print-env", "--format", "json", *args, env=env)
    return result.returncode, json.loads(result.stdout.decode()), result.stderr.decode()


def error_lines(stderr):
    """The launcher's ERROR log lines in ``stderr`` (text)."""
    return [line for line in stderr.splitlines() if " ERROR " in line]


def one_error(result, status):
    """The one ERROR line of a finished run that had to fail with ``status``, and its whole stderr."""
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert "Traceback" not in stderr
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    return lines[0], stderr


def error_topics(doc):
    """The topics of the errors of a `check --format json` document, sorted."""
    return sorted(f["topic"] for f in doc["findings"] if f["level"] == "error")


def finding(doc, topic, level=None):
    """The one finding of ``topic`` (of ``level``, when given: an ok one may stand beside an error of the same
    topic, as mpirun found and orted not) in a `check --format json` document."""
    hits = [f for f in doc["findings"] if f["topic"] == topic and level in (None, f["level"])]
    assert len(hits) == 1, doc["findings"]
    return hits[0]


def pytest_terminal_summary(terminalreporter):
    import pythons

    for line in pythons.summary():
        terminalreporter.write_line(line)

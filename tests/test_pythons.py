"""The same pyz on every Python this machine has: a Python older than 3.7 gets one line; each Python 3.7+ runs
its own bytecode, or the sources when the pyz has none for it, and a traceback shows the launcher's lines either
way; every Python starts the same job the same way; the bytecode's optimize=2 changes nothing."""

import glob
import json
import os
import subprocess
import sys

import pytest
import pythons
from conftest import make_tree, run_pyz

import build_pyz

PROGRAM = {"sagemaker_program": '"train.py"'}
RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
TRAIN = {"train.py": "print('ran')\n"}


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

"""``sm-train.pyz local`` and its tree. --code becomes the tree's code dir, and --program is a path inside it: a
NAME that leaves --code (absolute, '.' or '..') is refused with the other option checks, in one line and status
2, before anything is written. Without --keep the temporary tree is removed when the job succeeds and kept when
it fails, with the line that removes it; --keep DIR keeps the tree whatever the outcome."""

import os
import shlex
import subprocess
import sys

import pytest
from conftest import clean_env, run_pyz

# -- the temporary tree, and --keep -----------------------------------------------------------------------

WRITES_MODEL = """import os, sys
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write("weights")
sys.exit(int(os.environ.get("EXIT", "0")))
"""


def local(pyz, tmp_path, *args, status=0):
    """Runs a local job whose temporary trees land in tmp_path/tmp; (the closing record, the folder)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    code = tmp_path / "src"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text(WRITES_MODEL)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "points.csv").write_text("x,y\n1,2\n")
    result = run_pyz(pyz, "local", "--code", str(code), "--program", "train.py", "--channel", "train=%s" % data,
                     *args, env=clean_env(TMPDIR=str(scratch), EXIT=str(status)), timeout=120)
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert "Traceback" not in stderr
    return stderr, str(scratch)


def tree_line(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith("  tree:    ")]
    assert len(lines) == 1, stderr
    return lines[0][len("  tree:    "):]


@pytest.mark.parametrize("hosts", ["1", "2"])
def test_a_job_that_succeeds_leaves_nothing(pyz, tmp_path, hosts):
    stderr, scratch = local(pyz, tmp_path, "--hosts", hosts)
    assert os.listdir(scratch) == []
    line = tree_line(stderr)
    assert line.endswith(" removed, as the job succeeded (--keep DIR keeps the tree, model included)"), line
    assert line.startswith(os.path.join(scratch, "sm-train-local-"))
    # the record names no path that is gone: the model's size, not where it was
    assert "model:   1 file, 7 B" in stderr and "%s/" % line.split()[0] not in stderr.split(" INFO ")[-1]
    assert "(temporary: removed if the job succeeds)" in stderr  # said at the start, too


def test_a_job_that_fails_keeps_its_tree_and_says_how_to_remove_it(pyz, tmp_path):
    stderr, scratch = local(pyz, tmp_path, status=3)
    [tree] = os.listdir(scratch)
    tree = os.path.join(scratch, tree)
    assert tree_line(stderr) == "%s kept, as the job failed; remove it with: rm -rf %s" % (tree, shlex.quote(tree))
    # all of it, to look at: the model written so far and the channel's copy
    assert os.path.isfile(os.path.join(tree, "model", "model.txt"))
    assert os.path.isfile(os.path.join(tree, "input", "data", "train", "points.csv"))
    command = tree_line(stderr).split("remove it with: ", 1)[1]
    subprocess.run(command, shell=True, check=True)
    assert os.listdir(scratch) == []


@pytest.mark.parametrize("status", [0, 3])
def test_keep_keeps_the_tree_whatever_the_outcome(pyz, tmp_path, status):
    keep = str(tmp_path / "kept")
    stderr, scratch = local(pyz, tmp_path, "--keep", keep, status=status)
    assert os.listdir(scratch) == []
    assert tree_line(stderr).startswith("%s (kept; a real run of it: " % keep)
    assert os.path.isfile(os.path.join(keep, "model", "model.txt"))
    assert os.path.isfile(os.path.join(keep, "input", "data", "train", "points.csv"))


def test_help_says_what_becomes_of_the_tree(pyz):
    result = run_pyz(pyz, "local", "--help")
    text = " ".join(result.stdout.decode().split())
    assert result.returncode == 0
    assert "a temporary dir, removed when the job succeeds (model included) and kept when it fails" in text


# -- --program inside --code ------------------------------------------------------------------------------

MESSAGE = "with --code, --program is a path inside --code, relative to it and without '.' or '..'"


def layout(tmp_path):
    code = tmp_path / "src"
    (code / "bin").mkdir(parents=True)
    (code / "train.py").write_text("print('ran')\n")
    (tmp_path / "x.py").write_text("print('outside')\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return str(code), str(scratch)


@pytest.mark.parametrize("program", ["{tmp}/x.py", "{tmp}/src/train.py", "../x.py", "bin/../../x.py", "./train.py",
                                     "bin/../train.py"])
@pytest.mark.parametrize("keep", [False, True], ids=["temporary", "keep"])
def test_a_program_outside_code_is_refused_before_anything_is_written(pyz, tmp_path, program, keep):
    code, scratch = layout(tmp_path)
    program = program.format(tmp=tmp_path)
    kept = str(tmp_path / "kept")
    args = ["local", "--code", code, "--program", program] + (["--keep", kept] if keep else [])
    result = run_pyz(pyz, *args, env=clean_env(TMPDIR=scratch))
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert len(stderr.splitlines()) == 1 and " ERROR " in stderr, stderr
    assert "--program %s: %s" % (program, MESSAGE) in stderr
    assert result.stdout == b"" and "Traceback" not in stderr
    assert os.listdir(scratch) == [] and not os.path.exists(kept)


def test_without_code_program_names_the_one_file_anywhere(pyz, tmp_path):
    _, scratch = layout(tmp_path)
    for program in (str(tmp_path / "x.py"), os.path.join("..", "x.py")):
        result = subprocess.run([sys.executable, pyz, "local", "--program", program], env=clean_env(TMPDIR=scratch),
                                cwd=str(tmp_path / "src"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout == b"outside\n"


def test_a_program_in_a_subfolder_of_code_runs(pyz, tmp_path):
    code, scratch = layout(tmp_path)
    (tmp_path / "src" / "bin" / "fit.py").write_text("print('fit')\n")
    result = run_pyz(pyz, "local", "--code", code, "--program", "bin/fit.py", env=clean_env(TMPDIR=scratch))
    assert result.returncode == 0 and result.stdout == b"fit\n", result.stderr.decode()

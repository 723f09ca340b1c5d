"""``sm-train.pyz local --code DIR --program NAME``: a NAME that leaves --code (absolute, '.' or '..') is refused
with the other option checks, in one line and status 2, before anything is written."""

import os
import subprocess
import sys

import pytest
from conftest import clean_env, run_pyz

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

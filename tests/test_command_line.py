"""The command line through the built pyz. A first word that is not a command, not a program on PATH and not a
file, but close to a command (`sm-train.pyz locl`), is a typo: the first and only line says which command was
meant, before the job is read; 127. A mistyped option of `local` names the option meant; 2. A program on PATH
or a file path is never taken for a typo. A dry run's stderr carries only warnings and errors."""

import os

import pytest
from conftest import clean_env, make_tree, one_error, run_pyz

PROGRAM = {"sagemaker_program": '"train.py"'}
RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
TRAIN = {"train.py": "print('ran')\n"}


@pytest.mark.parametrize("word,meant", [("locl", "local"), ("lcoal", "local"), ("trian", "train"),
                                        ("tain", "train"), ("chek", "check")])
@pytest.mark.parametrize("tree", ["bare", "missing"])
def test_a_typo_is_the_first_and_only_line(pyz, tmp_path, word, meant, tree):
    root = str(tmp_path / "ml")
    if tree == "bare":  # reading it would log a WARNING per config file
        os.makedirs(os.path.join(root, "input", "config"))
    result = run_pyz(pyz, "--root", root, word, "--code", "src")
    stderr = result.stderr.decode()
    assert result.returncode == 127, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and " ERROR " in lines[0], stderr
    assert lines[0].split(" ERROR    ", 1)[1].startswith("did you mean `sm-train.pyz %s`? %r not found" % (meant, word))
    assert "neither a command of sm-train.pyz nor a program on PATH" in lines[0]


def test_a_typo_in_a_dry_run(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC)
    result = run_pyz(pyz, "--root", root, "--print-env", "locl")
    assert result.returncode == 127
    assert result.stdout.decode().startswith('# error: "did you mean `sm-train.pyz local`?')
    assert len(result.stderr.decode().splitlines()) == 1
    assert not os.path.exists(os.path.join(root, "output"))


def test_a_program_on_path_with_a_close_name_runs(pyz, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "locl").write_text("#!/bin/sh\necho ran \"$@\"\n")
    (bin_dir / "locl").chmod(0o755)
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC)
    result = run_pyz(pyz, "--root", root, "locl", "x", env=clean_env(PATH="%s:%s" % (bin_dir, os.environ["PATH"])))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"ran x\n"


def test_a_file_path_or_a_far_word_is_not_a_typo(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC)
    for word, said in (("./locl", "does not exist"), ("nosuchprogram", "not found on PATH")):
        result = run_pyz(pyz, "--root", root, word)
        stderr = result.stderr.decode()
        assert result.returncode == 127, stderr
        assert said in stderr and "did you mean" not in stderr


def test_a_bad_option_stays_a_usage_error(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", PROGRAM, {}, RC)
    result = run_pyz(pyz, "--root", root, "--bogus", "locl")
    assert result.returncode == 2
    assert "unknown option '--bogus'" in result.stderr.decode()


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

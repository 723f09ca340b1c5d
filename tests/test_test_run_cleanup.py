"""`make test` leaves no test files behind after a passing run: pytest, with the options of the Makefile's PYTEST
line, keeps the temporary folders of failed tests only. Checked on a small session of its own, whose temporary
root is a folder of this test's."""

import os
import re
import shlex
import subprocess
import sys

import build_pyz

BIG_FILE = """
def test_writes_a_big_file(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * (4 << 20))
"""


def makefile_pytest_options():
    with open(os.path.join(build_pyz.ROOT, "Makefile")) as f:
        line = re.search(r"^PYTEST := (.*)$", f.read(), re.M).group(1)
    words = shlex.split(line)
    return words[words.index("pytest") + 1:]


def left_behind(root):
    return sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(root) for name in names)


def run_session(tmp_path, body):
    tests = tmp_path / "session"
    tests.mkdir()
    (tests / "test_one.py").write_text(body)
    root = tmp_path / "temproot"
    root.mkdir()
    env = dict(os.environ, PYTEST_DEBUG_TEMPROOT=str(root))
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"] + makefile_pytest_options()
                            + [str(tests)], cwd=str(tests), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=120)
    return result, left_behind(str(root))


def test_a_passing_run_leaves_no_test_files(tmp_path):
    result, size = run_session(tmp_path, BIG_FILE)
    assert result.returncode == 0, result.stdout.decode()
    assert size < (1 << 20), "a passing run left %d bytes of test files" % size


def test_a_failing_run_keeps_the_failed_tests_files(tmp_path):
    result, size = run_session(tmp_path, BIG_FILE + "    assert False\n")
    assert result.returncode == 1, result.stdout.decode()
    assert size >= (4 << 20), "the failed test's folder was removed (%d bytes left)" % size

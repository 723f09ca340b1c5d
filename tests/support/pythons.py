"""The Pythons the launcher must run on (3.7 up to 3.14, or the one running the tests if newer), found the way a
developer's machine has them, and a record of which the tests ran, for the summary conftest prints.

Looked for, in this order (the first interpreter of each version wins):
- SM_TRAIN_TEST_PYTHONS: interpreter paths or names, separated by ':' or spaces (CI, or any layout);
- python3.7, python3.8, ... on PATH (pyenv shims, deadsnakes, Homebrew, a distribution's packages);
- every <pyenv root>/versions/*/bin/python3, pyenv root from PYENV_ROOT or `pyenv root`.
"""

import functools
import glob
import os
import shutil
import subprocess
import sys

ENV = "SM_TRAIN_TEST_PYTHONS"
OLDEST = (3, 7)
NEWEST = max(14, sys.version_info[1])
WANTED = ["3.%d" % minor for minor in range(OLDEST[1], NEWEST + 1)]
RAN = {}  # version -> interpreter, as the tests used them


def _candidates():
    listed = os.environ.get(ENV, "").replace(":", " ").split()
    on_path = [shutil.which(name) for name in ["python" + v for v in WANTED]]
    return [c for c in listed + on_path + _pyenv_pythons() if c]


def _pyenv_pythons():
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        try:
            root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  timeout=30).stdout.decode().strip()
        except (OSError, subprocess.SubprocessError):
            root = None
    return sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python3"))) if root else []


def _identify(candidate):
    """(version "3.X", the real interpreter) or None: a pyenv shim resolves to the interpreter behind it, and
    one that cannot start (a shim for a version not installed) is no interpreter."""
    try:
        result = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); "
                                 "print(sys.executable)"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = result.stdout.decode().split("\n")
    if result.returncode != 0 or len(lines) < 2:
        return None
    return lines[0], lines[1]


@functools.lru_cache(maxsize=None)
def found():
    """{version: interpreter} for each wanted version found."""
    versions = {}
    for candidate in _candidates():
        identity = _identify(candidate)
        if identity and identity[0] in WANTED and identity[0] not in versions:
            versions[identity[0]] = identity[1]
    return versions


def interpreter(version):
    """The interpreter for ``version``, recorded as run; None when this machine has none."""
    python = found().get(version)
    if python:
        RAN[version] = python
    return python


def required(version):
    """The interpreter for ``version``; the test is skipped, saying where it looked, when there is none."""
    import pytest

    python = interpreter(version)
    if not python:
        pytest.skip(missing_reason(version))
    return python


def missing_reason(version):
    return ("no Python %s found (looked at %s, python%s on PATH and pyenv root's versions)"
            % (version, ENV, version))


def summary():
    """Lines for the end of the run: which versions the tests ran on, and which were looked for in vain;
    none when no test looked."""
    if not found.cache_info().currsize:
        return []
    ran = ", ".join("%s (%s)" % (v, RAN[v]) for v in WANTED if v in RAN) or "none"
    missing = ", ".join(v for v in WANTED if v not in found()) or "none"
    return ["Pythons run: " + ran, "Pythons missing (%s to add): %s" % (ENV, missing)]

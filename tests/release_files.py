"""The release of this checkout for the tests of the package and the release files: `make release` run in a copy of
the checkout (the checkout itself is never written to), with the make tools of this checkout's .venv and a fixed
SOURCE_DATE_EPOCH, since a copy has no git history to date the files with."""

import hashlib
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
EPOCH = "1796601600"  # 2026-12-07 00:00 UTC; any fixed time after 1980 (zip's first) does
# Never copied: build outputs and tools, which the release must not depend on.
LEFT_OUT = {".git", ".venv", ".venv-images", ".venv-toolkit", "dist", "demo", "__pycache__", ".pytest_cache",
            ".ruff_cache", "sm-train.pyz"}
_made = {}


def version():
    with open(os.path.join(ROOT, "launcher", "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M).group(1)


def wheel_name():
    return "sm_train-%s-py3-none-any.whl" % version()


def sdist_name():
    return "sm_train-%s.tar.gz" % version()


def checkout_files():
    """The checkout's files as git sees them (tracked, and new ones it does not ignore); in an unpacked sdist, which
    has no git, every file but the build outputs."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        listed = None
    if listed is not None and listed.returncode == 0:
        return sorted(p for p in listed.stdout.decode().split("\0") if p and os.path.isfile(os.path.join(ROOT, p)))
    found = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in LEFT_OUT]
        found += [os.path.relpath(os.path.join(folder, n), ROOT) for n in names if n not in LEFT_OUT]
    return sorted(found)


def copy_checkout(dest):
    for rel in checkout_files():
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), target)
    return dest


def make_release(checkout, epoch=EPOCH):
    """`make release` in ``checkout`` (a copy); its dist/ folder. The tools are this checkout's, never reinstalled."""
    if not os.path.exists(os.path.join(VENV, "bin", "hatchling")):
        pytest.skip("the release tools are not in .venv: `make test` (or `make release`) installs them")
    stamps = [os.path.join(VENV, "bin", name) for name in (".installed", ".release")]
    argv = ["make", "--no-print-directory", "-C", checkout, "release", "VENV=" + VENV, "PYTHON=" + sys.executable]
    for stamp in stamps:
        argv += ["-o", stamp]
    result = subprocess.run(argv, env=dict(os.environ, SOURCE_DATE_EPOCH=epoch), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=600)
    assert result.returncode == 0, result.stdout.decode("utf-8", "replace")[-5000:]
    return os.path.join(checkout, "dist")


def release(tmp_path_factory):
    """The dist/ folder of one release of this checkout, made once per test session."""
    if "dist" not in _made:
        _made["dist"] = make_release(copy_checkout(str(tmp_path_factory.mktemp("release-checkout"))))
    return _made["dist"]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()

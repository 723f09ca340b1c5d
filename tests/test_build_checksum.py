"""`make build` writes dist/sm-train.pyz.sha256 beside the pyz, naming it by its base name, so that
`sha256sum -c sm-train.pyz.sha256` checks a copy of the two; a `make build` with nothing to do still says where
the pyz is and its sha256."""

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

import build_pyz

pytestmark = pytest.mark.skipif(not (shutil.which("make") and shutil.which("sha256sum")),
                                reason="needs make and sha256sum")


def make_build(pyz):
    """`make build` of this checkout with the pyz written elsewhere: its output lines."""
    result = subprocess.run(["make", "--no-print-directory", "-C", build_pyz.ROOT, "build", "PYZ=%s" % pyz,
                             "PYTHON=%s" % sys.executable], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=300)
    assert result.returncode == 0, result.stdout.decode()
    return result.stdout.decode().splitlines()


def test_build_writes_a_checksum_that_checks_a_copy_and_says_it_again(tmp_path):
    pyz = str(tmp_path / "dist" / "sm-train.pyz")
    first = make_build(pyz)
    with open(pyz, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(pyz + ".sha256") as f:
        assert f.read() == "%s  sm-train.pyz\n" % digest
    shown = ["%s: %d bytes; its sha256, in %s.sha256 (`sha256sum -c sm-train.pyz.sha256` checks a copy beside it):"
             % (pyz, os.path.getsize(pyz), pyz), "%s  sm-train.pyz" % digest]
    assert any(line.startswith("wrote %s: " % pyz) for line in first), first
    assert first[-2:] == shown
    assert make_build(pyz) == shown  # nothing to build: the same two lines, and nothing else
    assert sorted(os.listdir(str(tmp_path / "dist"))) == ["sm-train.pyz", "sm-train.pyz.sha256"]

    copy = tmp_path / "elsewhere"
    copy.mkdir()
    for name in ("sm-train.pyz", "sm-train.pyz.sha256"):
        shutil.copy(os.path.join(str(tmp_path / "dist"), name), str(copy / name))
    check = subprocess.run(["sha256sum", "-c", "sm-train.pyz.sha256"], cwd=str(copy), stdout=subprocess.PIPE)
    assert check.returncode == 0 and check.stdout == b"sm-train.pyz: OK\n"

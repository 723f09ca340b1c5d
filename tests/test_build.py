"""The build. build_pyz.py prints where it wrote the pyz and a sha256 line that sha256sum checks; `make build`
writes dist/sm-train.pyz.sha256 beside the pyz, naming it by its base name, so that `sha256sum -c
sm-train.pyz.sha256` checks a copy of the two, and with nothing to build still says where the pyz is and its
sha256. Two builds give the same bytes: an executable under 1 MB."""

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

import build_pyz

needs_make_and_sha256sum = pytest.mark.skipif(not (shutil.which("make") and shutil.which("sha256sum")),
                                              reason="needs make and sha256sum")


def make_build(pyz):
    """`make build` of this checkout with the pyz written elsewhere: its output lines."""
    result = subprocess.run(["make", "--no-print-directory", "-C", build_pyz.ROOT, "build", "PYZ=%s" % pyz,
                             "PYTHON=%s" % sys.executable], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=300)
    assert result.returncode == 0, result.stdout.decode()
    return result.stdout.decode().splitlines()


@needs_make_and_sha256sum
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


def test_build_prints_the_path_and_sha256_that_sha256sum_checks(tmp_path):
    out = tmp_path / "x.pyz"
    result = subprocess.run([sys.executable, os.path.join(build_pyz.ROOT, "build_pyz.py"), "--output", str(out),
                             "--python", sys.executable], stdout=subprocess.PIPE, cwd=str(tmp_path), check=True)
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("wrote x.pyz: %d bytes, bytecode for Python %d.%d"
                               % ((out.stat().st_size,) + sys.version_info[:2]))
    with open(str(out), "rb") as f:
        assert lines[1] == "%s  x.pyz" % hashlib.sha256(f.read()).hexdigest()
    check = subprocess.run(["sha256sum", "-c"], input=(lines[1] + "\n").encode(), cwd=str(tmp_path),
                           stdout=subprocess.PIPE)
    assert check.returncode == 0 and check.stdout == b"x.pyz: OK\n"


def test_build_is_reproducible(tmp_path):
    a = build_pyz.build(str(tmp_path / "a.pyz"))
    b = build_pyz.build(str(tmp_path / "b.pyz"))
    with open(a, "rb") as fa, open(b, "rb") as fb:
        data = fa.read()
        assert data == fb.read()
    assert data.startswith(b"#!/usr/bin/env python3\n")
    assert os.stat(a).st_mode & 0o111
    assert len(data) < 1000 * 1000  # the pyz stays under 1 MB, bytecode included (README, "Performance")

"""`make release`: its files and SHA256SUMS, the same bytes from two runs on the same commit, an sdist that holds the
tests and the LICENSE and builds the released wheel again, and the CI workflow that runs it on a version tag."""

import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile

import pytest
import release_files
from release_files import ROOT, sdist_name, sha256, version, wheel_name

WORKFLOW = os.path.join(ROOT, ".github", "workflows", "release.yml")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    return release_files.release(tmp_path_factory)


def contents(folder):
    """{name: bytes} of a dist/ folder."""
    found = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            found[name] = f.read()
    return found


def test_the_release_files_and_their_sums(dist):
    shipped = ["sm-train.pyz", wheel_name(), sdist_name()]
    assert sorted(os.listdir(dist)) == sorted(shipped + ["SHA256SUMS", "sm-train.pyz.sha256"])
    with open(os.path.join(dist, "SHA256SUMS")) as f:
        sums = f.read()
    assert sums == "".join("%s  %s\n" % (sha256(os.path.join(dist, name)), name) for name in shipped)
    if shutil.which("sha256sum"):  # the check a user runs, in the folder of the files
        checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, stdout=subprocess.PIPE)
        assert checked.returncode == 0 and checked.stdout.decode() == "".join("%s: OK\n" % n for n in shipped)


def test_two_releases_of_one_commit_are_the_same_bytes(dist, tmp_path):
    """Another copy, at another path, with other mtimes and another umask: the same files, byte for byte."""
    other = release_files.copy_checkout(str(tmp_path / "elsewhere" / "checkout"))
    later = time.time() - 3 * 86400
    for folder, _, names in os.walk(other):
        for name in names:
            os.utime(os.path.join(folder, name), (later, later))
    umask = os.umask(0o002)
    try:
        again = release_files.make_release(other)
    finally:
        os.umask(umask)
    first, second = contents(dist), contents(again)
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, "not reproducible: %s" % differ


def test_the_wheel_and_sdist_entries_are_dated_by_source_date_epoch(dist):
    epoch = int(release_files.EPOCH)
    with zipfile.ZipFile(os.path.join(dist, wheel_name())) as z:
        dates = {info.date_time for info in z.infolist()}
    assert dates == {time.gmtime(epoch)[:6]}
    with tarfile.open(os.path.join(dist, sdist_name())) as tar:
        members = tar.getmembers()
    assert {m.mtime for m in members} == {epoch}
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}


@pytest.fixture(scope="module")
def unpacked_sdist(dist, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("sdist"))
    with tarfile.open(os.path.join(dist, sdist_name())) as tar:
        tar.extractall(folder)
    return os.path.join(folder, "sm_train-%s" % version())


def test_the_sdist_holds_the_tests_the_license_and_the_pyz(dist, unpacked_sdist):
    for name in ("LICENSE", "CHANGELOG.md", "pyproject.toml", "Makefile", "build_pyz.py", ".ci/release.py",
                 ".ci/hatch_build.py", "requirements-release.txt", "tests/conftest.py", "tests/test_package.py",
                 "tests/test_release.py", "tests/release_files.py", "tests/golden", "examples/job/code/train.py",
                 "launcher/pyz/main.py", ".github/workflows/release.yml"):
        assert os.path.exists(os.path.join(unpacked_sdist, name)), name
    with open(os.path.join(ROOT, "LICENSE"), "rb") as a, open(os.path.join(unpacked_sdist, "LICENSE"), "rb") as b:
        assert a.read() == b.read()
    assert sha256(os.path.join(unpacked_sdist, "launcher", "sm-train.pyz")) == sha256(os.path.join(dist,
                                                                                                    "sm-train.pyz"))
    for folder, dirs, names in os.walk(unpacked_sdist):  # nothing git ignores but the pyz, named in pyproject.toml
        assert not {".venv", "dist", "__pycache__", ".git"} & set(dirs + names), folder


def test_the_sdist_builds_the_released_wheel(dist, unpacked_sdist, tmp_path):
    """As a distribution would rebuild it: from the sdist alone, offline, dated by the sdist's own entries."""
    with tarfile.open(os.path.join(dist, sdist_name())) as tar:
        epoch = str(tar.getmember("sm_train-%s/PKG-INFO" % version()).mtime)
    env = dict(os.environ, SOURCE_DATE_EPOCH=epoch, PIP_NO_INDEX="1")
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path),
                            unpacked_sdist], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert built.returncode == 0, built.stdout.decode()[-3000:]
    assert os.listdir(str(tmp_path)) == [wheel_name()]
    assert sha256(str(tmp_path / wheel_name())) == sha256(os.path.join(dist, wheel_name()))


def test_a_release_needs_its_changelog_entry_and_the_tag_of_its_version(tmp_path):
    """Checked before anything is built: one line each, status 1."""
    copy = str(tmp_path / "checkout")
    for name in (os.path.join(".ci", "release.py"), "CHANGELOG.md", os.path.join("launcher", "__init__.py")):
        os.makedirs(os.path.dirname(os.path.join(copy, name)), exist_ok=True)
        shutil.copy(os.path.join(ROOT, name), os.path.join(copy, name))
    script = [sys.executable, os.path.join(copy, ".ci", "release.py")]
    wrong_tag = subprocess.run(script + ["--tag", "v0.0.9"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert wrong_tag.returncode == 1
    assert wrong_tag.stderr.decode() == "release: the tag v0.0.9 is not v%s, the version in launcher/__init__.py\n" \
        % version()
    init = os.path.join(copy, "launcher", "__init__.py")
    with open(init) as f:
        text = f.read().replace('__version__ = "%s"' % version(), '__version__ = "99.0.0"')
    with open(init, "w") as f:
        f.write(text)
    unlisted = subprocess.run(script, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert unlisted.returncode == 1
    assert unlisted.stderr.decode() == "release: CHANGELOG.md's newest entry is not 99.0.0, the version in " \
        "launcher/__init__.py\n"
    assert not os.path.exists(os.path.join(copy, "dist"))


def test_the_ci_workflow_runs_make_test_then_make_release_on_a_version_tag():
    """What runs on the forge is what runs here: the two make targets, then the files attached to the release."""
    with open(WORKFLOW) as f:
        text = f.read()
    assert re.search(r"^on:\n  push:\n    tags: \[\"v\*\"\]\n", text, re.M), text
    runs = re.findall(r"^\s+(?:- )?run: (.*)$", text, re.M)
    assert runs[:2] == ["make test", 'make release TAG="$GITHUB_REF_NAME"'], runs
    assert len(runs) == 3 and runs[2].startswith("gh release create") and runs[2].endswith(" dist/*"), runs
    assert "pip install" not in text and "python -m build" not in text  # nothing the make targets do not do


def load_release_script():
    """.ci/release.py as a module (it is a script, not on sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("release", os.path.join(ROOT, ".ci", "release.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_release_in_a_checkout_is_dated_by_the_last_commit(monkeypatch):
    release = load_release_script()

    last = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    if last.returncode != 0:
        pytest.skip("no git history here (an unpacked sdist)")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert release.source_date_epoch() == last.stdout.decode().strip()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    assert release.source_date_epoch() == "1234567890"

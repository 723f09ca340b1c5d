"""`make release`: the release files in dist/, from the pyz `make build` wrote there: the wheel and the sdist, which
ship that same pyz, and SHA256SUMS over the three.

The wheel and the sdist are built by hatchling (pinned in requirements-release.txt) without build isolation, so that
the pinned versions build them and nothing is downloaded. Their timestamps are SOURCE_DATE_EPOCH, by default the last
commit's time, and hatchling sorts their entries and fixes their modes: two runs on the same commit with the same
Pythons give the same bytes (tests/test_release.py).
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGED = os.path.join(ROOT, "launcher", "sm-train.pyz")  # where the wheel takes it from (pyproject.toml)
SUMS = "SHA256SUMS"


def version():
    """The version, from the one place it lives."""
    with open(os.path.join(ROOT, "launcher", "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M).group(1)


def changelog_versions():
    """The versions CHANGELOG.md has entries for, newest first."""
    with open(os.path.join(ROOT, "CHANGELOG.md"), encoding="utf-8") as f:
        return re.findall(r"^## (\d+\.\d+\.\d+)\b", f.read(), re.M)


def source_date_epoch():
    """SOURCE_DATE_EPOCH as given, else the last commit's time; None without either."""
    given = os.environ.get("SOURCE_DATE_EPOCH")
    if given:
        return given
    try:
        found = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    except OSError:
        return None
    return found.stdout.decode().strip() if found.returncode == 0 and found.stdout.strip() else None


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def build(dist, pyz, epoch):
    """The sdist, then the wheel built from it, into ``dist``: their names. The pyz is copied where the package
    takes it from for the build only, so that no stale copy outlives it."""
    for name in os.listdir(dist):  # an earlier release's files would be listed beside this one's
        if name.startswith("sm_train-") or name == SUMS:
            os.remove(os.path.join(dist, name))
    shutil.copyfile(pyz, PACKAGED)
    try:
        env = dict(os.environ, SOURCE_DATE_EPOCH=epoch)
        ran = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    finally:
        os.remove(PACKAGED)
    if ran.returncode != 0:
        sys.stdout.write(ran.stdout.decode("utf-8", "replace")[-5000:])
        raise SystemExit("release: `python -m build` failed (its output is above)")
    return sorted(name for name in os.listdir(dist) if name.startswith("sm_train-"))


def check_wheel(path, pyz):
    """The wheel's pyz must be the release's, byte for byte."""
    with zipfile.ZipFile(path) as z, open(pyz, "rb") as f:
        if z.read("sm_train/sm-train.pyz") != f.read():
            raise SystemExit("release: the pyz in %s is not %s" % (path, pyz))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"), help="where the files go (default dist/)")
    parser.add_argument("--tag", help="the version tag being released (vX.Y.Z): it must name this version")
    args = parser.parse_args()
    dist = os.path.abspath(args.dist)
    pyz = os.path.join(dist, "sm-train.pyz")  # the one `make build` wrote there
    release = version()
    if args.tag and args.tag != "v" + release:
        raise SystemExit("release: the tag %s is not v%s, the version in launcher/__init__.py" % (args.tag, release))
    if release not in changelog_versions()[:1]:
        raise SystemExit("release: CHANGELOG.md's newest entry is not %s, the version in launcher/__init__.py"
                         % release)
    if not os.path.isfile(pyz):
        raise SystemExit("release: no %s: `make build` writes it" % pyz)
    epoch = source_date_epoch()
    if not epoch:
        raise SystemExit("release: no git history here to date the files: set SOURCE_DATE_EPOCH")
    files = build(dist, pyz, epoch)
    wanted = ["sm_train-%s-py3-none-any.whl" % release, "sm_train-%s.tar.gz" % release]
    if files != wanted:
        raise SystemExit("release: built %s, expected %s" % (files, wanted))
    check_wheel(os.path.join(dist, wanted[0]), pyz)
    shipped = [pyz] + [os.path.join(dist, name) for name in wanted]
    with open(os.path.join(dist, SUMS + ".tmp"), "w") as f:
        f.writelines("%s  %s\n" % (sha256(path), os.path.basename(path)) for path in shipped)
    os.replace(os.path.join(dist, SUMS + ".tmp"), os.path.join(dist, SUMS))
    shown = os.path.relpath(dist)
    print("release %s in %s (SOURCE_DATE_EPOCH=%s):" % (release, dist if shown.startswith("..") else shown, epoch))
    for path in shipped + [os.path.join(dist, SUMS)]:
        print("  %-36s %9d bytes" % (os.path.basename(path), os.path.getsize(path)))
    print("check them, in that folder: sha256sum -c %s (a single download: add --ignore-missing)" % SUMS)


if __name__ == "__main__":
    sys.exit(main())

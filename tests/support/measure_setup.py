"""What a fresh `make test` costs: its wall time, the size of the .venv it makes, the bytes pip downloads for it, and
what it leaves in the temporary folder. CONTRIBUTING.md quotes the figures this prints.

Usage: python3 tests/support/measure_setup.py [--venv-only] [--keep]

It copies the files git tracks into a new git repository, with a HOME (so no pip cache) and a TMPDIR of its own,
and runs `make test` there (`make venv` with --venv-only, which skips the suite); then `pip download
--no-cache-dir -d DIR -r requirements-dev.txt` with that venv's pip. Sizes are in MB of 10^6 bytes: the files' own
sizes, summed, and (for folders) the space on disk, as `du` counts it. It removes its folder at the end, unless
--keep. Exit status: that of the make command.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def size(path):
    """(bytes of the files, bytes on disk as du counts them, files) under ``path``, links not followed."""
    total = disk = files = 0
    for folder, dirs, names in os.walk(path):
        for name in names + dirs:
            info = os.lstat(os.path.join(folder, name))
            disk += info.st_blocks * 512
            if name in names:
                total += info.st_size
                files += 1
    return total, disk, files


def copy_checkout(where):
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, stdout=subprocess.PIPE, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = os.path.join(ROOT, name)
        if os.path.lexists(source):
            target = os.path.join(where, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy(source, target, follow_symlinks=False)
    for command in (["git", "init", "-q"], ["git", "add", "-A"]):  # a clone, for the tests that copy one
        subprocess.run(command, cwd=where, check=True)


def environment(home, tmp):
    """This shell's environment, without an outer make's variables or a virtualenv, with its own HOME and TMPDIR."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MAKE") and k not in ("MFLAGS", "VIRTUAL_ENV", "TEMP", "TMP")}
    env.update(HOME=home, TMPDIR=tmp)
    return env


def mb(n):
    return "%.1f MB" % (n / 1e6)


def main():
    parser = argparse.ArgumentParser(description="What a fresh `make test` costs (see the module's docstring).")
    parser.add_argument("--venv-only", action="store_true", help="run `make venv`, not `make test`")
    parser.add_argument("--keep", action="store_true", help="keep the folder it works in")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sm-train-measure-")
    clone, home, tmp, downloads = (os.path.join(work, name) for name in ("clone", "home", "tmp", "downloads"))
    for folder in (home, tmp, downloads):
        os.makedirs(folder)
    copy_checkout(clone)
    env = environment(home, tmp)
    target = "venv" if args.venv_only else "test"
    print("measure: make %s in %s (HOME and TMPDIR inside it)" % (target, clone), flush=True)
    started = time.time()
    status = subprocess.call(["make", target], cwd=clone, env=env)
    seconds = time.time() - started
    venv = size(os.path.join(clone, ".venv"))
    left = size(tmp)
    fetch = subprocess.call([os.path.join(clone, ".venv", "bin", "python"), "-m", "pip", "download", "-q",
                             "--disable-pip-version-check", "--no-cache-dir", "-d", downloads, "-r",
                             os.path.join(clone, "requirements-dev.txt")], env=env)
    pulled = size(downloads)
    lines = [
        "make %s, fresh: exit status %d after %d min %02d s (%s, %d CPUs)"
        % (target, status, seconds // 60, seconds % 60, sys.platform, os.cpu_count()),
        ".venv: %s in %d files, %s on disk" % (mb(venv[0]), venv[2], mb(venv[1])),
        "pip download --no-cache-dir -r requirements-dev.txt: %s in %d files%s"
        % (mb(pulled[0]), pulled[2], "" if fetch == 0 else " (pip download failed: %d)" % fetch),
        "left in TMPDIR after make %s: %s in %d files, %s on disk" % (target, mb(left[0]), left[2], mb(left[1])),
    ]
    print("\n".join("measure: " + line for line in lines))
    if args.keep:
        print("measure: kept %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())

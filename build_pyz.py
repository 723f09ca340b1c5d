"""Build dist/sm-train.pyz from launcher/: a zipapp with a shebang, compressed, byte-reproducible, with
bytecode for every Python the build finds.

zipapp.create_archive copies each file's mtime and mode into the archive, so two checkouts would give
two different files; this writes the same zipapp layout with zipfile, fixing both.

The sources sit at the top of the archive, so the file runs on any Python 3.7+. zipimport never writes
bytecode, so on its own every start would compile the sources (twice the start-up time). Beside them,
``pyc/<cache tag>-<magic>/launcher/...`` holds unchecked-hash bytecode (PEP 552: no timestamp, so
reproducible) compiled by one interpreter each; ``__main__.py`` puts the folder of the running Python
first on sys.path, and a Python with no folder of its own uses the sources.
"""

import argparse
import glob
import hashlib
import io
import os
import stat
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))
SHEBANG = b"#!/usr/bin/env python3\n"
EPOCH = (1980, 1, 1, 0, 0, 0)
OLDEST = (3, 7)
MINORS = range(7, 14)  # python3.7 ... python3.13, the versions the launcher is tested on

# Parsable by Python 2 (and 3.6): the version check must run before anything older Pythons cannot read.
MAIN = b'''import sys

if sys.version_info < (3, 7):
    from sm_train_too_old import refuse

    sys.exit(refuse())
try:
    from _frozen_importlib_external import MAGIC_NUMBER

    sys.path.insert(0, "%s/pyc/%s-%s" % (sys.path[0], sys.implementation.cache_tag, MAGIC_NUMBER.hex()))
except (ImportError, AttributeError):  # not CPython: the sources are used
    pass

from launcher.cli import main

sys.exit(main())
'''

# What each interpreter runs to report its folder name and compile the sources: argv = folder, names.
COMPILE = r'''
import os, py_compile, sys
from importlib.util import MAGIC_NUMBER
src = sys.argv[1]
print("%s-%s" % (sys.implementation.cache_tag, MAGIC_NUMBER.hex()))
for name in sys.argv[2:]:
    py_compile.compile(os.path.join(src, name), cfile=os.path.join(src, name + "c"), dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
'''


def sources():
    """{archive name: bytes} of the app's Python files."""
    files = {"__main__.py": MAIN}
    with open(os.path.join(ROOT, "sm_train_too_old.py"), "rb") as f:
        files["sm_train_too_old.py"] = f.read()
    for folder, dirs, names in os.walk(os.path.join(ROOT, "launcher")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = os.path.join(folder, name)
            arcname = os.path.relpath(path, ROOT).replace(os.sep, "/")
            if name.endswith(".py") and arcname != "launcher/__main__.py":
                with open(path, "rb") as f:
                    files[arcname] = f.read()
    return files


def find_pythons():
    """Every python3.7+ on PATH and in pyenv's versions, as paths (not yet checked to run)."""
    found = [sys.executable]
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        found += [os.path.join(folder, "python3.%d" % minor) for minor in MINORS]
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found += sorted(glob.glob(os.path.join(pyenv, "versions", "*", "bin", "python3")))
    return [p for p in found if os.path.isfile(p) and os.access(p, os.X_OK)]


def compile_all(files, pythons, strict):
    """{folder name: {archive name: bytecode}}: the launcher's modules compiled by each interpreter, the
    first one of each version winning. An interpreter that cannot run or is too old is skipped, unless
    ``strict`` (given with --python), where that is an error."""
    names = sorted(n for n in files if n.startswith("launcher/"))
    folders = {}
    with tempfile.TemporaryDirectory(prefix="sm-train-build-") as tmp:
        for name in names:
            os.makedirs(os.path.dirname(os.path.join(tmp, name)), exist_ok=True)
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(files[name])
        for python in pythons:
            if not _is_supported(python):
                if strict:
                    raise SystemExit("build_pyz: %s is not Python %d.%d or newer" % ((python,) + OLDEST))
                continue
            # A fixed hash seed: frozenset constants (`x in {"a", "b"}`) are marshalled in hash order.
            run = subprocess.run([python, "-S", "-s", "-c", COMPILE, tmp] + names, stdout=subprocess.PIPE,
                                 env={"PYTHONHASHSEED": "0", "PATH": os.defpath})
            if run.returncode != 0:
                raise SystemExit("build_pyz: %s could not compile the launcher" % python)
            folder = run.stdout.decode().strip()
            if folder not in folders:
                compiled = {}
                for name in names:
                    with open(os.path.join(tmp, name + "c"), "rb") as f:
                        compiled[name + "c"] = f.read()
                folders[folder] = compiled
    return folders


def _is_supported(python):
    try:
        out = subprocess.run([python, "-c", "import sys; print(sys.version_info >= (%d, %d))" % OLDEST],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == b"True"


def entries(pythons=None):
    """(archive name, bytes) for every file of the app, sorted; bytecode from ``pythons`` (default: every
    interpreter found)."""
    files = sources()
    folders = compile_all(files, find_pythons() if pythons is None else pythons, strict=pythons is not None)
    for folder, compiled in folders.items():
        for name, data in compiled.items():
            files["pyc/%s/%s" % (folder, name)] = data
    return sorted(files.items())


def build(output, pythons=None):
    """Write the pyz at ``output``; returns its path."""
    files = entries(pythons)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.create_system = 3
            z.writestr(info, data, compresslevel=9)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(SHEBANG + buf.getvalue())
    os.chmod(tmp, 0o755)
    os.replace(tmp, output)
    return output


def bytecode_folders(path):
    """The pyc/ folders of a built pyz, oldest Python first."""
    with zipfile.ZipFile(path) as z:
        found = {name.split("/")[1] for name in z.namelist() if name.startswith("pyc/")}
    return sorted(found, key=lambda folder: int(folder.split("-")[1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(ROOT, "dist", "sm-train.pyz"))
    parser.add_argument("--python", action="append", metavar="PATH",
                        help="compile bytecode with this interpreter (repeatable); default: every python3.7+ "
                             "on PATH and in ~/.pyenv/versions, and this one")
    args = parser.parse_args()
    path = build(args.output, args.python)
    folders = bytecode_folders(path)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    shown = os.path.relpath(path)
    shown = path if shown.startswith("..") else shown
    print("wrote %s: %d bytes, bytecode for Python %s" % (shown, os.path.getsize(path),
                                                          ", ".join(_version(f) for f in folders) or "none"))
    print("sha256 %s  %s" % (digest, shown))  # the format `sha256sum -c` reads


def _version(folder):
    """cpython-312-cb0d0d0a -> 3.12"""
    digits = folder.split("-")[1]
    return digits[0] + "." + digits[1:]


if __name__ == "__main__":
    sys.exit(main())

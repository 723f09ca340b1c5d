"""Build dist/sm-train.pyz from launcher/: a zipapp with a shebang, compressed, byte-reproducible, with
bytecode for every Python the build finds.

zipapp.create_archive copies each file's mtime and mode into the archive, so two checkouts would give
two different files; this writes the same zipapp layout with zipfile, fixing both.

The sources sit at the top of the archive, so the file runs on any Python 3.7+. But zipimport never
writes bytecode, so on its own every start would compile them (twice the start-up time), and even with
a .pyc beside each source it opens the archive, searches and decompresses once per module: 0.2 ms each,
3 ms for the 16 modules of a start. So ``pyc/<cache tag>-<magic>.marshal`` holds, for one Python each,
every launcher module's code object (compiled by that interpreter, marshalled, zlib-compressed on its
own), read in one go; ``__main__.py`` serves the launcher's imports from it, and a Python with no file of
its own uses the sources.
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
MINORS = range(7, 15)  # python3.7 ... python3.14, the versions the tests look for (tests/pythons.py)
# Left out of the bytecode, to keep the pyz under 1 MB with seven Pythons' worth: the AWS package (the code
# fetch, the intermediate output: ~24 ms to compile, beside network round trips) and `local` (~6 ms, once per
# local run; its hosts' starts use the bytecode). Their modules are compiled from the sources when imported.
SOURCE_ONLY = ("launcher/aws/", "launcher/local/")

# Parsable by Python 2 (and 3.6): the version check must run before anything older Pythons cannot read.
# Compiled at every start (zipimport caches nothing), so it is kept short; the rest is BOOT.
MAIN = b'''import sys

if sys.version_info < (3, 7):
    from launcher.too_old import refuse

    sys.exit(refuse())
try:  # the launcher compiled for this Python at build time (build_pyz.py); without it, the sources
    from _frozen_importlib_external import MAGIC_NUMBER
    from marshal import loads

    _boot, _modules = loads(__loader__.get_data("%s/pyc/%s-%s.marshal" % (
        sys.path[0], sys.implementation.cache_tag, MAGIC_NUMBER.hex())))
    exec(_boot)
except (ImportError, AttributeError, OSError, ValueError, EOFError):
    pass
from launcher.cli import main

sys.exit(main())
'''

# Run by MAIN, as bytecode of this Python, with _modules = {module: (is package, archive name, code)}.
BOOT = '''
from _frozen_importlib import ModuleSpec


class Bytecode(object):
    """Finds and loads the launcher's modules from _modules: one read of the archive for all of them."""

    archive = sys.path[0]
    bundle = "pyc/%s-%s.marshal" % (sys.implementation.cache_tag, MAGIC_NUMBER.hex())  # what --version shows

    def find_spec(self, name, path=None, target=None):
        entry = _modules.get(name)
        if entry is None:
            return None
        spec = ModuleSpec(name, self, origin=self.archive + "/" + entry[1], is_package=entry[0])
        spec.has_location = True
        if entry[0]:
            spec.submodule_search_locations = [spec.origin.rpartition("/")[0]]
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(loads(ZLIB.decompress(_modules[module.__name__][2])), module.__dict__)

    def get_source(self, name):  # for tracebacks
        return __loader__.get_source(name)


import zlib as ZLIB

sys.meta_path.insert(0, Bytecode())
'''

# What each interpreter runs to compile BOOT and the modules: argv = output, folder, names. Prints the
# file's name: cache tag and magic number, which zipimport also checks.
COMPILE = r'''
import marshal, os, sys, zlib
from importlib.util import MAGIC_NUMBER
out, src = sys.argv[1:3]
modules = {}
for name in sys.argv[3:]:
    with open(os.path.join(src, name), "rb") as f:
        code = compile(f.read(), name, "exec", dont_inherit=True, optimize=2)  # no docstrings: launcher/ reads none
    package = name.endswith("/__init__.py")
    module = name[:-len("/__init__.py") if package else -len(".py")].replace("/", ".")
    modules[module] = (package, name, zlib.compress(marshal.dumps(code), 9))
boot = compile(sys.stdin.read(), "__main__.py", "exec", dont_inherit=True)
with open(out, "wb") as f:
    f.write(marshal.dumps((boot, modules)))
print("%s-%s" % (sys.implementation.cache_tag, MAGIC_NUMBER.hex()))
'''


def sources():
    """{archive name: bytes} of the app's Python files."""
    files = {"__main__.py": MAIN}
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
    """{file name under pyc/: bytes}: the launcher's modules compiled by each interpreter, the first one
    of each version winning. An interpreter that cannot run or is too old is skipped, unless ``strict``
    (given with --python), where that is an error."""
    names = sorted(n for n in files if n.startswith("launcher/") and not n.startswith(SOURCE_ONLY))
    found = {}
    with tempfile.TemporaryDirectory(prefix="sm-train-build-") as tmp:
        for name in names:
            os.makedirs(os.path.dirname(os.path.join(tmp, name)), exist_ok=True)
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(files[name])
        out = os.path.join(tmp, "out.marshal")
        for python in pythons:
            if not _is_supported(python):
                if strict:
                    raise SystemExit("build_pyz: %s is not Python %d.%d or newer" % ((python,) + OLDEST))
                continue
            # A fixed hash seed: frozenset constants (`x in {"a", "b"}`) are marshalled in hash order.
            run = subprocess.run([python, "-S", "-s", "-c", COMPILE, out, tmp] + names, stdout=subprocess.PIPE,
                                 input=BOOT.encode(), env={"PYTHONHASHSEED": "0", "PATH": os.defpath})
            if run.returncode != 0:
                raise SystemExit("build_pyz: %s could not compile the launcher" % python)
            name = run.stdout.decode().strip() + ".marshal"
            if name not in found:
                with open(out, "rb") as f:
                    found[name] = f.read()
    return found


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
    compiled = compile_all(files, find_pythons() if pythons is None else pythons, strict=pythons is not None)
    for name, data in compiled.items():
        files["pyc/" + name] = data
    return sorted(files.items())


def build(output, pythons=None):
    """Write the pyz at ``output``; returns its path."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries(pythons):
            info = zipfile.ZipInfo(name, EPOCH)
            # The bytecode is compressed module by module inside: stored, it is read without inflating all.
            info.compress_type = zipfile.ZIP_STORED if name.startswith("pyc/") else zipfile.ZIP_DEFLATED
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
    """The bytecode files of a built pyz (pyc/cpython-312-cb0d0d0a.marshal -> cpython-312-cb0d0d0a), oldest
    Python first."""
    with zipfile.ZipFile(path) as z:
        found = [name[4:-len(".marshal")] for name in z.namelist() if name.startswith("pyc/")]
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
    print("%s  %s" % (digest, shown))  # as sha256sum prints it, so `sha256sum -c` can check a copy against it


def _version(folder):
    """cpython-312-cb0d0d0a -> 3.12"""
    digits = folder.split("-")[1]
    return digits[0] + "." + digits[1:]


if __name__ == "__main__":
    sys.exit(main())

"""Build dist/sm-train.pyz from launcher/: a zipapp with a shebang, byte-reproducible, with bytecode for
every Python the build finds.

zipapp.create_archive copies each file's mtime and mode into the archive, so two checkouts would give
two different files; this writes the same zipapp layout with zipfile, fixing both.

zipimport never writes bytecode, so a pyz of sources alone compiles them at every start (twice the
start-up time), and it costs per file: reading the archive's directory at every start takes 6 us an
entry, and each module imported a search, an inflate and the import system's work. So the archive holds
few entries, and a start reads one of them:
- ``pyc/<cache tag>-<magic>.marshal``, one per Python: every launcher module's code object, compiled by
  that interpreter and marshalled. The modules of a plain start (START) and of a dry run (DRY) are stored as
  they are, so neither imports zlib or inflates anything; the others are zlib-compressed one by one.
- ``sources.marshal``: the sources, for a Python with no bytecode of its own (a version the build did not
  find, another implementation), compiled as they are imported; and for tracebacks.
- ``__main__.py`` (stored, so zipimport needs no zlib for it either) and, for the refusal of Pythons older
  than 3.7, ``launcher/__init__.py`` and ``launcher/too_old.py``.
``__main__.py`` (launcher/pyz/main.py) runs the start compiled into the file of the running Python
(launcher/pyz/boot.py): it serves the launcher's imports from that file and runs the modules of START at once,
each after those it imports, without the import system's work per module. Each Python compiles the file with
launcher/pyz/compile.py.
"""

import argparse
import glob
import hashlib
import io
import marshal
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
MINORS = range(7, 15)  # python3.7 ... python3.14, the versions the tests look for (tests/support/pythons.py)
# Left out of the bytecode, to keep the pyz under 1 MB with seven Pythons' worth: the AWS client, the code
# fetch and the intermediate output (~24 ms to compile, beside network round trips), `local` (~6 ms, once per
# local run; its hosts' starts use the bytecode), `check` (~8 ms, once per check, which no job runs) and the
# distributed engines (3 to 5 ms, once per host of a torchrun or MPI job, beside the engine's own seconds of
# start). Their modules are compiled from the sources when imported.
SOURCE_ONLY = ("launcher/aws/", "launcher/fetch/", "launcher/intermediate/", "launcher/local/", "launcher/check/",
               "launcher/cluster/")
# Files zipimport itself must find: the refusal of Pythons older than 3.7, which cannot read the rest.
PLAIN = ("__main__.py", "launcher/__init__.py", "launcher/too_old.py")
# The modules a plain start (`train`, one host, no fetch) imports, each after those it imports; a test keeps
# this true (tests/test_startup_imports.py).
START = ("launcher", "launcher.log", "launcher.errors", "launcher.options", "launcher.core", "launcher.jsonvalid",
         "launcher.jsonc", "launcher.core.hyperparameters", "launcher.core.layout", "launcher.start", "launcher.cli",
         "launcher.run", "launcher.run.launch", "launcher.masking", "launcher.core.awsfiles", "launcher.core.config",
         "launcher.core.probes", "launcher.core.environment", "launcher.core.program", "launcher.core.plan")
# What a dry run (--print-env) imports besides START: stored as code objects too, so that it inflates nothing
# either (zlib costs 0.45 ms to import), but run only when imported.
DRY = ("launcher.core.show",)

# The pyz's own start (launcher/pyz/__init__.py): read by the build, never packed as a module of the launcher. Nor is
# the installed package's console script (launcher/package.py), which writes a copy of the pyz.
PYZ = os.path.join(ROOT, "launcher", "pyz")
NOT_MODULES = ("launcher/__main__.py", "launcher/pyz/", "launcher/package.py")


def sources():
    """{archive name: bytes} of the app's Python files: launcher/'s modules, and launcher/pyz/main.py as
    __main__.py."""
    files = {"__main__.py": _read(os.path.join(PYZ, "main.py"))}
    for folder, dirs, names in os.walk(os.path.join(ROOT, "launcher")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = os.path.join(folder, name)
            arcname = os.path.relpath(path, ROOT).replace(os.sep, "/")
            if name.endswith(".py") and not arcname.startswith(NOT_MODULES):
                files[arcname] = _read(path)
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
    """{archive name: bytes}: the launcher's modules compiled by each interpreter (pyc/...), the first one
    of each version winning. An interpreter that cannot run or is too old is skipped, unless ``strict``
    (given with --python), where that is an error."""
    ordered = []  # START's modules first and in order, then the others
    for arcname in sorted(n for n in files if n.startswith("launcher/")):
        module, package = module_name(arcname)
        form = "code" if module in START + DRY else "source" if arcname.startswith(SOURCE_ONLY) else "zlib"
        ordered.append((START.index(module) if module in START else len(START), form, arcname, module, package))
    modules = {module: (package, arcname, form, files[arcname])
               for _, form, arcname, module, package in sorted(ordered)}
    job = marshal.dumps(start_code() + (modules,), 4)  # launcher/pyz/compile.py reads it
    found = {}
    with tempfile.TemporaryDirectory(prefix="sm-train-build-") as tmp:
        out = os.path.join(tmp, "out.marshal")
        for python in pythons:
            if not _is_supported(python):
                if strict:
                    raise SystemExit("build_pyz: %s is not Python %d.%d or newer" % ((python,) + OLDEST))
                continue
            # A fixed hash seed: frozenset constants (`x in {"a", "b"}`) are marshalled in hash order. No column
            # ranges (3.11+; older Pythons ignore the option): tracebacks keep their lines, and a tenth less code
            # to read at every start.
            run = subprocess.run([python, "-S", "-s", "-X", "no_debug_ranges", os.path.join(PYZ, "compile.py"), out],
                                 stdout=subprocess.PIPE, input=job, env={"PYTHONHASHSEED": "0", "PATH": os.defpath})
            if run.returncode != 0:
                raise SystemExit("build_pyz: %s could not compile the launcher" % python)
            name = run.stdout.decode().strip()
            if name not in found:
                with open(out, "rb") as f:
                    found[name] = f.read()
    return found


def start_code():
    """(launcher/pyz/boot.py, the line that runs it): %r in the line is for the bytecode file's name, None in
    sources.marshal."""
    call = "boot(_modules, __loader__, %%r, %r)\n" % (START,)
    return _read(os.path.join(PYZ, "boot.py")).decode("utf-8"), call


def module_name(arcname):
    """launcher/core/__init__.py -> (launcher.core, True); launcher/cli.py -> (launcher.cli, False)"""
    package = arcname.endswith("/__init__.py")
    return arcname[:-len("/__init__.py") if package else -len(".py")].replace("/", "."), package


def _read(path):
    with open(path, "rb") as f:
        return f.read()


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
    found = {name: files[name] for name in PLAIN}
    modules = {}
    for arcname in sorted(n for n in files if n.startswith("launcher/")):
        module, package = module_name(arcname)
        modules[module] = (package, arcname, "source", files[arcname])
    # Read by every Python 3.7+, whichever built it: marshal format 4, the newest that 3.7 reads.
    boot, call = start_code()
    found["sources.marshal"] = marshal.dumps((boot + call % (None,), modules), 4)
    found.update(compile_all(files, find_pythons() if pythons is None else pythons, strict=pythons is not None))
    return sorted(found.items())


def build(output, pythons=None):
    """Write the pyz at ``output``; returns its path."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries(pythons):
            info = zipfile.ZipInfo(name, EPOCH)
            # Stored, so that a start inflates nothing: the bytecode (compressed inside where a start does not
            # need it) and __main__.py, which zipimport would otherwise import zlib to read.
            stored = name.startswith("pyc/") or name == "__main__.py"
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
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
    summary = " ".join(__doc__.split("\n\n")[0].split())  # the first paragraph, whole
    parser = argparse.ArgumentParser(description=summary)
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

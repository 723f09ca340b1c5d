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
``__main__.py`` serves the launcher's imports from the file of the running Python and runs the modules of
START at once, each after those it imports, without the import system's work per module.
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
MINORS = range(7, 15)  # python3.7 ... python3.14, the versions the tests look for (tests/pythons.py)
# Left out of the bytecode, to keep the pyz under 1 MB with seven Pythons' worth: the AWS client, the code
# fetch and the intermediate output (~24 ms to compile, beside network round trips) and `local` (~6 ms, once per
# local run; its hosts' starts use the bytecode). Their modules are compiled from the sources when imported.
SOURCE_ONLY = ("launcher/aws/", "launcher/fetch/", "launcher/intermediate/", "launcher/local/")
# Files zipimport itself must find: the refusal of Pythons older than 3.7, which cannot read the rest.
PLAIN = ("__main__.py", "launcher/__init__.py", "launcher/too_old.py")
# The modules a plain start (`train`, one host, no fetch) imports, each after those it imports; a test keeps
# this true (tests/test_first_hour.py).
START = ("launcher", "launcher.log", "launcher.errors", "launcher.options", "launcher.core", "launcher.jsonc",
         "launcher.core.hyperparameters", "launcher.core.layout", "launcher.start", "launcher.cli", "launcher.run",
         "launcher.run.launch", "launcher.masking", "launcher.core.awsfiles", "launcher.core.config",
         "launcher.core.probes", "launcher.core.environment", "launcher.core.program", "launcher.core.plan")
# What a dry run (--print-env) imports besides START: stored as code objects too, so that it inflates nothing
# either (zlib costs 0.45 ms to import), but run only when imported.
DRY = ("launcher.core.show",)

# Parsable by Python 2 (and 3.6): the version check must run before anything older Pythons cannot read.
# Compiled at every start (zipimport caches nothing), so it is kept short; the rest is BOOT.
MAIN = b'''import sys

if sys.version_info < (3, 7):
    from launcher.too_old import refuse

    sys.exit(refuse())
from marshal import loads

try:  # the launcher compiled for this Python at build time, else its sources (build_pyz.py)
    from _frozen_importlib_external import MAGIC_NUMBER

    _boot, _modules = loads(__loader__.get_data("%s/pyc/%s-%s.marshal" % (
        sys.path[0], sys.implementation.cache_tag, MAGIC_NUMBER.hex())))
except (ImportError, OSError):
    _boot, _modules = loads(__loader__.get_data(sys.path[0] + "/sources.marshal"))
exec(_boot)
'''

# Run by MAIN with _modules = {module: (is package, archive name, form, data)}, form "code" (the code object,
# unmarshalled with the file), "zlib" (the marshalled code, compressed) or "source" (data: the source, or None:
# it is in sources.marshal).
# The build puts BUNDLE (the bytecode file's name, None for the sources) and START before it.
BOOT = '''
from _frozen_importlib import ModuleSpec


class Bytecode(object):
    """Finds and loads the launcher's modules from _modules: one read of the archive for all of them."""

    archive = sys.path[0]
    bundle = BUNDLE  # what --version shows

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
        exec(self.code(module.__name__), module.__dict__)

    def code(self, name):
        package, arcname, form, data = _modules[name]
        if form == "code":
            return data
        if form == "zlib":
            from zlib import decompress

            return loads(decompress(data))
        return compile(data or self.source(name), arcname, "exec", dont_inherit=True)

    def source(self, name):
        return loads(__loader__.get_data(self.archive + "/sources.marshal"))[1][name][3]

    def get_source(self, name):  # for tracebacks
        return self.source(name).decode("utf-8")


def start(finder):
    """Run the modules of a plain start, each after those it imports, as the import system would but
    without its work per module (about 35 us each)."""
    for name in START:
        spec = finder.find_spec(name)
        module = type(sys)(name)
        module.__spec__, module.__loader__, module.__file__ = spec, finder, spec.origin
        package = spec.submodule_search_locations is not None
        if package:
            module.__path__ = spec.submodule_search_locations
        module.__package__ = name if package else name.rpartition(".")[0]
        sys.modules[name] = module
        finder.exec_module(module)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


sys.meta_path.insert(0, Bytecode())
start(sys.meta_path[0])
from launcher.cli import main

sys.exit(main())
'''

# What each interpreter runs to compile BOOT and the modules: argv = output, folder, then form:file for each
# module (its form in _modules; the code of "code" ones is marshalled with the rest). Prints the file's name:
# cache tag and magic number, which zipimport also checks.
COMPILE = r"""
import marshal, os, sys, zlib
from importlib.util import MAGIC_NUMBER
out, src = sys.argv[1:3]
bundle = "pyc/%s-%s.marshal" % (sys.implementation.cache_tag, MAGIC_NUMBER.hex())
modules = {}
for arg in sys.argv[3:]:
    form, name = arg.split(":", 1)
    package = name.endswith("/__init__.py")
    module = name[:-len("/__init__.py") if package else -len(".py")].replace("/", ".")
    code = None
    if form != "source":
        with open(os.path.join(src, name), "rb") as f:
            code = compile(f.read(), name, "exec", dont_inherit=True, optimize=2)  # no docstrings: launcher/ reads none
    modules[module] = (package, name, form, zlib.compress(marshal.dumps(code), 9) if form == "zlib" else code)
boot = compile("BUNDLE = %r\n" % bundle + sys.stdin.read(), "__main__.py", "exec", dont_inherit=True)
with open(out, "wb") as f:
    f.write(marshal.dumps((boot, modules)))
print(bundle)
"""


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
    """{archive name: bytes}: the launcher's modules compiled by each interpreter (pyc/...), the first one
    of each version winning. An interpreter that cannot run or is too old is skipped, unless ``strict``
    (given with --python), where that is an error."""
    names = []  # form:file, START's modules first and in order, then the others
    for name in sorted(n for n in files if n.startswith("launcher/")):
        module = module_name(name)[0]
        form = "code" if module in START + DRY else "source" if name.startswith(SOURCE_ONLY) else "zlib"
        names.append((START.index(module) if module in START else len(START), "%s:%s" % (form, name)))
    names = [name for _, name in sorted(names)]
    found = {}
    with tempfile.TemporaryDirectory(prefix="sm-train-build-") as tmp:
        for name in files:
            if name.startswith("launcher/"):
                os.makedirs(os.path.dirname(os.path.join(tmp, name)), exist_ok=True)
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(files[name])
        out = os.path.join(tmp, "out.marshal")
        for python in pythons:
            if not _is_supported(python):
                if strict:
                    raise SystemExit("build_pyz: %s is not Python %d.%d or newer" % ((python,) + OLDEST))
                continue
            # A fixed hash seed: frozenset constants (`x in {"a", "b"}`) are marshalled in hash order. No column
            # ranges (3.11+; older Pythons ignore the option): tracebacks keep their lines, and a tenth less code
            # to read at every start.
            run = subprocess.run([python, "-S", "-s", "-X", "no_debug_ranges", "-c", COMPILE, out, tmp] + names,
                                 stdout=subprocess.PIPE, input=boot_source().encode(),
                                 env={"PYTHONHASHSEED": "0", "PATH": os.defpath})
            if run.returncode != 0:
                raise SystemExit("build_pyz: %s could not compile the launcher" % python)
            name = run.stdout.decode().strip()
            if name not in found:
                with open(out, "rb") as f:
                    found[name] = f.read()
    return found


def boot_source():
    """BOOT with START (COMPILE adds BUNDLE, the bytecode file's name)."""
    return "START = %r\n%s" % (START, BOOT)


def module_name(arcname):
    """launcher/core/__init__.py -> (launcher.core, True); launcher/cli.py -> (launcher.cli, False)"""
    package = arcname.endswith("/__init__.py")
    return arcname[:-len("/__init__.py") if package else -len(".py")].replace("/", "."), package


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
    found["sources.marshal"] = marshal.dumps(("BUNDLE = None\n" + boot_source(), modules), 4)
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

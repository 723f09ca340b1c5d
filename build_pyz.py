"""Build dist/sm-train.pyz from launcher/: a zipapp with a shebang, compressed, byte-reproducible.

zipapp.create_archive copies each file's mtime and mode into the archive, so two checkouts would give
two different files; this writes the same zipapp layout with zipfile, fixing both. Beside each source
it stores unchecked-hash bytecode for the building Python (PEP 552: no timestamp, so reproducible),
which zipimport loads instead of compiling at every start; other Pythons ignore it and use the source.
"""

import argparse
import importlib.util
import io
import os
import py_compile
import stat
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))
SHEBANG = b"#!/usr/bin/env python3\n"
MAIN = b"import sys\n\nfrom launcher.cli import main\n\nsys.exit(main())\n"
EPOCH = (1980, 1, 1, 0, 0, 0)


def entries():
    """(archive name, bytes) for every file of the app, sorted."""
    files = {"__main__.py": MAIN}
    for folder, dirs, names in os.walk(os.path.join(ROOT, "launcher")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = os.path.join(folder, name)
            arcname = os.path.relpath(path, ROOT).replace(os.sep, "/")
            if name.endswith(".py") and arcname != "launcher/__main__.py":
                with open(path, "rb") as f:
                    files[arcname] = f.read()
    for name, source in list(files.items()):
        files[name + "c"] = compile_unchecked(name, source)
    return sorted(files.items())


def compile_unchecked(name, source):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "m.py")
        with open(src, "wb") as f:
            f.write(source)
        out = os.path.join(tmp, "m.pyc")
        py_compile.compile(src, cfile=out, dfile=name, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        with open(out, "rb") as f:
            return f.read()


def build(output):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries():
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(ROOT, "dist", "sm-train.pyz"))
    args = parser.parse_args()
    path = build(args.output)
    print("%s: %d bytes, bytecode for %s" % (path, os.path.getsize(path), importlib.util.MAGIC_NUMBER.hex()))


if __name__ == "__main__":
    sys.exit(main())

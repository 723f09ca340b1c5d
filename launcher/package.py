"""`sm-train`, the console script of the installed package: the launcher itself, and `sm-train pyz -o FILE`, which
writes the zipapp for images that the wheel ships beside this module. build_pyz.py leaves this module out of the
pyz: a start never imports it, and the pyz has no copy of itself to write."""

import os
import sys

from . import log, options
from .cli import main as launcher_main
from .errors import LauncherError, UsageError

# Copied here from dist/ by `make release` before the wheel is built (never rebuilt at install time), so that it is
# the release's sm-train.pyz byte for byte.
PYZ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sm-train.pyz")

USAGE = """usage: sm-train pyz -o FILE

Write the zipapp for images, this release's sm-train.pyz, to FILE (mode 0755) and print its size and its sha256
in the form sha256sum prints. The file is the one the release ships, not a new build: its sha256 is the one in the
release's SHA256SUMS.

options:
  -o, --output FILE      where to write it
  -h, --help             print this help
"""

# Appended to the launcher's --help: the command only the package has.
MORE = """
       sm-train pyz -o FILE

Write this release's sm-train.pyz, the file for images, to FILE and print its sha256 (see pyz --help).
"""


def main(argv=None):
    """The console script: `pyz` is this module's; anything else goes to the launcher, as the pyz would run it."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["pyz"]:
        return pyz(argv[1:])
    status = launcher_main(argv)
    if argv in (["-h"], ["--help"]):
        sys.stdout.write(MORE)
    return status


def pyz(argv):
    """`sm-train pyz`: its status; errors are one log line, as everywhere else."""
    try:
        output = None
        for name, value in options.scan(argv, ("-o", "--output"), ("-h", "--help")):
            if name in ("-h", "--help"):
                sys.stdout.write(USAGE)
                return 0
            if name in ("-o", "--output"):
                output = value
            else:
                raise UsageError("pyz takes no arguments besides -o FILE, not %r" % value[0])
        if output is None:
            raise UsageError("pyz needs -o FILE, the file to write (see pyz --help)")
        digest, size = write(output)
    except LauncherError as e:
        log.error(str(e))
        return e.status
    sys.stdout.write("wrote %s: %d bytes\n%s  %s\n" % (output, size, digest, output))
    return 0


def write(output):
    """Copy the shipped pyz to ``output``, whole or not at all; (its sha256, its size)."""
    import hashlib

    try:
        with open(PYZ, "rb") as f:
            data = f.read()
    except OSError as e:
        raise LauncherError("this installation has no sm-train.pyz (%s: %s); a checkout makes it with `make build`, "
                            "in dist/" % (PYZ, e.strerror or e))
    tmp = "%s.tmp-%d" % (output, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o755)
        os.replace(tmp, output)
    except OSError as e:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise LauncherError("cannot write %s: %s" % (output, e.strerror or e))
    return hashlib.sha256(data).hexdigest(), len(data)

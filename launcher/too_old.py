"""The pyz started by a Python older than 3.7 (2.7, 3.6): one line saying which Python it needs and which
it found, the failure file in a real start, status 1. Written for every Python from 2.7 on (as is
launcher/__init__.py, which its import runs), unlike the rest of launcher/; __main__ imports it only on such a
Python, before anything else."""

import os
import sys


def refuse():
    found = "%d.%d.%d" % tuple(sys.version_info[:3])
    message = "sm-train needs Python 3.7 or newer; %s is Python %s" % (sys.executable or "this interpreter", found)
    sys.stderr.write("sm-train ERROR    %s\n" % message)
    args = sys.argv[1:]
    if "--print-env" not in args and args[:1] not in (["local"], ["check"]):  # these write nothing
        _write_failure(_base(args), message)
    return 1


def _base(args):
    """--root DIR or --root=DIR, else $SAGEMAKER_BASE_DIR, else /opt/ml, as the launcher reads them."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--root" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--root="):
            return arg[len("--root="):]
    return os.environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml"


def _write_failure(base, message):
    """output/failure under an existing base dir, unless one is there; never raises."""
    if not os.path.isdir(base):
        return
    output = os.path.join(base, "output")
    try:
        if not os.path.isdir(output):
            os.makedirs(output)
        fd = os.open(os.path.join(output, "failure"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, message.encode("utf-8"))
        os.close(fd)
    except OSError:
        pass

"""What a start installs before the program: `python -m pip install` for requirements.txt or setup.py, which needs
pip in the image's Python and a site-packages pip may write to; and CA_REPOSITORY_ARN, pip's CodeArtifact index."""

import os
import sys

from ..errors import JobError
from .findings import error, install_line, ok

TRUE = ("1", "true", "yes", "on")


def install(ctx, steps):
    """The install steps the start would run (the core's plan), checked without running pip."""
    if not steps:
        return [ok("install", "no requirements.txt or setup.py in the code dir: the start installs nothing")]
    from importlib.util import find_spec

    shown = "; ".join(" ".join(["python3"] + step[1:]) for step in steps)
    what = "setup.py" if "." in steps[0] else "requirements.txt"
    if find_spec("pip") is None:
        return [error("install", "%s needs pip: the start runs `%s`, and Python %d.%d at %s has no pip"
                      % (what, shown, sys.version_info[0], sys.version_info[1], ctx.python), install_line("pip"))]
    import sysconfig

    marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
    if sys.prefix == sys.base_prefix and os.path.isfile(marker) and not breaks_system_packages(ctx.environ):
        return [error("install", "pip refuses to install into the packages of %s, which its distribution marks as "
                      "managed by apt (%s, PEP 668): `%s` would fail" % (ctx.python, marker, shown),
                      "ENV PIP_BREAK_SYSTEM_PACKAGES=1 (the image is the job's own), or run sm-train with the python "
                      "of a virtual environment")]
    target = sysconfig.get_path("purelib")
    if not os.access(target, os.W_OK, effective_ids=True):
        target = "the user's site-packages (%s is not writable for uid %d)" % (target, os.geteuid())
    return [ok("install", "%s: the start runs `%s` (pip %s), into %s; it needs PyPI or an index pip is given"
               % (what, shown, pip_version(find_spec("pip").origin), target))]


def breaks_system_packages(environ):
    """pip's own switch past PEP 668, from the environment or a pip configuration file."""
    if environ.get("PIP_BREAK_SYSTEM_PACKAGES", "").lower() in TRUE:
        return True
    home = os.path.expanduser("~")
    files = [environ.get("PIP_CONFIG_FILE") or "", "/etc/pip.conf", "/etc/xdg/pip/pip.conf",
             os.path.join(home, ".config", "pip", "pip.conf"), os.path.join(home, ".pip", "pip.conf"),
             os.path.join(sys.prefix, "pip.conf")]
    for path in files:
        try:
            with open(path) as f:
                lines = f.read(65536).splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            key, _, value = line.partition("=")
            if key.strip() == "break-system-packages" and value.strip().lower() in TRUE:
                return True
    return False


def pip_version(origin):
    """pip's __version__, read from its __init__.py rather than imported."""
    try:
        with open(origin) as f:
            for line in f:
                if line.startswith("__version__"):
                    return line.split("=", 1)[1].strip().strip("\"'")
    except (OSError, TypeError, UnicodeDecodeError):
        pass
    return "of an unknown version"


def codeartifact(ctx, steps):
    """CA_REPOSITORY_ARN, checked with the toolkit's pattern; the index itself is fetched at the start."""
    arn = ctx.environ.get("CA_REPOSITORY_ARN")
    if not arn:
        return []
    from ..aws.codeartifact import Repository

    try:
        repo = Repository(arn)
    except JobError as e:
        return [error("codeartifact", "%s: every start that installs requirements.txt fails there" % e,
                      "ENV CA_REPOSITORY_ARN=arn:aws:codeartifact:REGION:ACCOUNT:repository/DOMAIN/REPOSITORY")]
    used = any("requirements.txt" in step for step in steps)
    return [ok("codeartifact", "CA_REPOSITORY_ARN names repository %s of domain %s (account %s, %s): %s" % (
        repo.repository, repo.domain, repo.owner, repo.region,
        "pip installs requirements.txt from it, with a token the job's role fetches at the start" if used else
        "used only for a requirements.txt in the code dir"))]

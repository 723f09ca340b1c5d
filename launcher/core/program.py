"""Which program runs and with which argv: the toolkit's entry-point rules, or an explicit command."""

import os

from .. import jsonc
from ..errors import JobError, NotExecutable, NotFound
from .probes import which

# process.validate_entry_point of sagemaker-training 5.1.4, with its messages. Its pattern,
# ^[A-Za-z0-9._][A-Za-z0-9._+-]*(/[A-Za-z0-9._+-]+)*$, is checked without `re`, which would cost every
# start a few milliseconds of imports.
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_FIRST = frozenset(_ALNUM + "._")
_SEGMENT = frozenset(_ALNUM + "._+-")
_SAFE_CHARACTER = _SEGMENT | {"/"}
_EMPTY = ("The training entry point name is empty. Set the 'sagemaker_program' hyperparameter (or "
          "ContainerEntrypoint) to the name of the script to run, relative to your source directory -- for "
          "example 'train.py' or 'train.sh'.")


class Program(object):
    """The command to exec, the install commands to run before it, and a file that needs its x bits."""

    def __init__(self, argv, cwd, install=(), chmod=None):
        self.argv = argv
        self.cwd = cwd
        self.install = list(install)
        self.chmod = chmod


def validate_name(name):
    if not name:
        raise JobError(_EMPTY)
    if not isinstance(name, str):
        raise JobError("The training entry point must be a name, not %s." % jsonc.short(name))
    if not _safe(name):
        bad = sorted({c for c in name if c not in _SAFE_CHARACTER})
        if bad:
            detail = "the character(s) %s" % ", ".join(repr(c) for c in bad)
        elif name.startswith("-"):
            detail = "a leading '-', which is read as a command-line option"
        elif name.startswith("/"):
            detail = "a leading '/', which makes it an absolute path"
        else:
            detail = "an unsupported character at the start of the name"
        raise JobError(
            "The training entry point %r cannot be used because it contains %s. Rename the script so its "
            "name contains only letters, digits, '.', '_', '+', '-' and '/', and does not start with '-' or "
            "'/', then set the 'sagemaker_program' hyperparameter (or ContainerEntrypoint) to the new name -- "
            "for example 'train.py' or 'bin/train.sh'." % (name, detail))
    if any(segment in (".", "..") for segment in name.split("/")):
        raise JobError(
            "The training entry point %r cannot be used because it contains '.' or '..' path segments. The "
            "entry point must be a path inside your source directory. Set the 'sagemaker_program' "
            "hyperparameter (or ContainerEntrypoint) to a path relative to that directory -- for example "
            "'train.py' or 'bin/train.sh'." % name)


def _safe(name):
    if name.endswith("\n"):  # `$` in the toolkit's pattern also matches before a final newline
        name = name[:-1]
    segments = name.split("/")
    return (name[:1] in _FIRST and all(segments) and all(set(s) <= _SEGMENT for s in segments))


def _strip_py(name):
    """The module name as the toolkit derives it, with a pattern whose `$` also matches before a final
    newline: "train.py" gives "train", and "train.py<newline>" gives "train<newline>"."""
    if name.endswith(".py"):
        return name[:-3]
    if name.endswith(".py\n"):
        return name[:-4] + "\n"
    return name


def check_code_dir(code_dir):
    if not os.path.isdir(code_dir):
        raise JobError("code directory %s does not exist: put the training code there" % code_dir)


def entry_program(name, code_dir, args, python, source=None, arriving=False, fetched=False):
    """The toolkit's command for entry point ``name``: a .sh, a package (setup.py), a .py, or a command.
    ``source`` is sagemaker_submit_directory, named when the program is missing. ``arriving``: the code dir is
    still empty and ``source`` will fill it (a dry run), so the program is not looked for yet; ``fetched``:
    ``source`` has just filled it."""
    validate_name(name)
    if arriving:
        files = []
    else:
        check_code_dir(code_dir)
        try:
            files = os.listdir(code_dir)
        except OSError as e:
            raise JobError("code directory %s cannot be read: %s" % (code_dir, e.strerror or e))
    requirements = ["-r", "requirements.txt"] if "requirements.txt" in files else []
    if not name.endswith(".sh") and "setup.py" in files:
        module = _strip_py(name)
        install = [[python, "-m", "pip", "install", "."] + requirements]
        return Program([python, "-m", module] + args, code_dir, install)
    path = None if arriving else _inside(code_dir, name, source, fetched)
    if name.endswith(".py"):
        install = [[python, "-m", "pip", "install"] + requirements] if requirements else []
        return Program([python, "--", name] + args, code_dir, install)
    import shlex

    line = "./%s %s" % (shlex.quote(name), " ".join(shlex.quote(a) for a in args))
    executable = arriving or os.access(path, os.X_OK)
    return Program(["/bin/sh", "-c", line], code_dir, chmod=None if executable else path)


def _inside(code_dir, name, source, fetched):
    """The entry point's real path, which must exist inside the code dir and be a file."""
    try:
        os.stat(os.path.join(code_dir, name))
    except OSError as e:  # exec would fail the same way; realpath would follow a chain of links unbounded
        import errno  # only here: a start that imports it pays 80 us

        if e.errno == errno.ELOOP:
            raise NotExecutable("training entry point %r: too many levels of symbolic links" % name)
    top = os.path.realpath(code_dir)
    target = os.path.realpath(os.path.join(top, name))
    if os.path.commonpath([top, target]) != top:
        raise JobError(
            "The training entry point %r resolves to a location outside your source directory. Set the "
            "'sagemaker_program' hyperparameter (or ContainerEntrypoint) to a path inside that directory -- for "
            "example 'train.py' or 'bin/train.sh'." % name)
    if not os.path.exists(target):
        hint = ""
        if fetched:
            hint = " in the code fetched from %s" % source
        elif source and source != code_dir:
            hint = ("; sagemaker_submit_directory (%s) is fetched only into an empty code dir, as the toolkit does"
                    % source)
        raise NotFound("training entry point %r not found: %s does not exist%s"
                       % (name, os.path.join(code_dir, name), hint))
    if os.path.isdir(target):
        raise NotExecutable("training entry point %r is a directory: %s" % (name, os.path.join(code_dir, name)))
    return target


def explicit_program(argv, code_dir, path, python, arriving=False):
    """``-- PROGRAM ARGS``: run as given, found on PATH (or relative to the cwd when it has a '/'), in the
    code dir, or in the current directory in an image without one (ContainerArguments such as
    ["python3", "/app/prep.py"] need no /opt/ml/code). ``arriving``: sagemaker_submit_directory will fill the
    code dir first (a dry run), so a command inside it is not looked for yet."""
    cwd = code_dir if arriving or os.path.isdir(code_dir) else os.getcwd()
    name = argv[0]
    if "/" in name:
        found = os.path.join(cwd, name)
        if arriving and not os.path.isabs(name):
            return Program(list(argv), cwd)
        if not os.path.exists(found):
            raise NotFound("command %r not found: %s does not exist" % (name, found))
    else:
        found = which(name, path)
        if found is None:
            if which(name, path, executable=False):
                raise NotExecutable("command %r is on PATH but not executable" % name)
            raise NotFound("command %r not found on PATH" % name)
    if os.path.isdir(found) or not os.access(found, os.X_OK):
        raise NotExecutable("command %r is not executable: %s" % (name, found))
    install = []
    if cwd == code_dir and os.path.isfile(os.path.join(code_dir, "requirements.txt")):
        install = [[python, "-m", "pip", "install", "-r", "requirements.txt"]]
    return Program(list(argv), cwd, install)

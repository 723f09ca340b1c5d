"""The program: the entry point the image names and the command a start makes of it, that its Python sources
compile under the image's Python, a shell for a script, pip for requirements.txt or setup.py, CA_REPOSITORY_ARN."""

import os
import sys

from ..core import program as entry
from ..errors import JobError, LauncherError, NotFound
from .findings import error, install_line, ok, warning
from .install import codeartifact, install

NAME_FIX = "ENV SAGEMAKER_PROGRAM=train.py (a path inside /opt/ml/code, where COPY put it)"


def check(ctx):
    found = []
    if ctx.tree_error:
        found.append(error("job", "%s: every start of this tree stops there" % ctx.tree_error,
                           "correct or remove that file of the tree"))
    if ctx.program is None:
        found.append(ok("program", "no program named (neither SAGEMAKER_PROGRAM nor the sagemaker_program "
                        "hyperparameter): script mode names it, from the SDK's entry_point"))
        return found + codeartifact(ctx, [])
    try:
        entry.validate_name(ctx.program)
    except JobError as e:
        return found + [error("program", str(e), NAME_FIX)]
    source = ctx.submit_directory()
    if source:
        found.append(ok("program", "%s (%s) comes with the code that sagemaker_submit_directory %s brings at the "
                        "start: it is checked then" % (ctx.program, ctx.program_from, source)))
        return found + codeartifact(ctx, [])
    try:
        planned = entry.entry_program(ctx.program, ctx.layout.code, [], ctx.python)
    except LauncherError as e:
        return found + [error("program", str(e), missing_fix(ctx, e))]
    kind = kind_of(ctx.program, planned)
    command = " ".join(planned.argv)
    chmod = "; it is not executable, so the start adds its x bits" if planned.chmod else ""
    found.append(ok("program", "%s (%s), %s: the start runs `%s` in %s%s" % (
        ctx.program, ctx.program_from, kind, command, ctx.layout.code, chmod)))
    found += compiled(ctx)
    if kind.startswith(("a shell script", "a command")):
        found += shell(ctx, os.path.join(ctx.layout.code, ctx.program))
    found += install(ctx, planned.install)
    return found + codeartifact(ctx, planned.install)


def kind_of(name, planned):
    if "-m" in planned.argv[1:2]:
        return "a Python package (setup.py in the code dir)"
    if name.endswith(".py"):
        return "a Python script"
    if name.endswith(".sh"):
        return "a shell script"
    return "a command, run through /bin/sh"


def missing_fix(ctx, e):
    """The Dockerfile line that brings the program, or names one that is there."""
    files = ctx.code_files()
    if not isinstance(e, NotFound) or not files:
        return "COPY %s /opt/ml/code/%s, and %s" % (os.path.basename(ctx.program), ctx.program, NAME_FIX)
    import difflib

    close = difflib.get_close_matches(ctx.program, files, n=1, cutoff=0.5)
    if close:
        return "ENV SAGEMAKER_PROGRAM=%s (the closest name in %s), or COPY the missing file there" % (
            close[0], ctx.layout.code)
    return "COPY %s %s/%s" % (os.path.basename(ctx.program), ctx.layout.code, ctx.program)


def compiled(ctx):
    """compile() of each Python source of the code dir with the Python that will run them, which runs nothing: the
    program's syntax error is an error, another file's a warning (it fails the job only if imported)."""
    import warnings

    version = "%d.%d.%d" % tuple(sys.version_info[:3])
    found, count = [], 0
    for name, data in ctx.sources():
        try:
            with warnings.catch_warnings():  # SyntaxWarning and its kin: the program's own stderr will show them
                warnings.simplefilter("ignore")
                compile(data, name, "exec", dont_inherit=True)
            count += 1
        except (SyntaxError, ValueError) as e:  # ValueError: a NUL byte in the source
            where = "%s line %s" % (name, getattr(e, "lineno", None) or "?")
            message = "%s does not compile under Python %s: %s (%s)" % (
                name, version, getattr(e, "msg", None) or e, where)
            if name == ctx.program:
                found.append(error("compile", message, "correct %s, which the start runs with Python %s" % (
                    where, version)))
            else:
                found.append(warning("compile", message + "; the job fails if the program imports it",
                                     "correct %s, or remove the file from the code dir" % where))
    if count:
        found.insert(0, ok("compile", "%d Python file(s) of the code dir compile under Python %s" % (count, version)))
    return found


def shell(ctx, path):
    """A script or command runs as `/bin/sh -c ./NAME`: /bin/sh, then the interpreter its #! line names."""
    if not os.access("/bin/sh", os.X_OK):
        return [error("shell", "%s runs through /bin/sh, which this image lacks" % ctx.program, install_line("sh"))]
    try:
        with open(path, "rb") as f:
            first = f.readline(256)
    except OSError as e:
        return [error("shell", "%s cannot be read: %s" % (path, e.strerror or e), "RUN chmod a+r " + path)]
    words = first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []
    if not words:
        return [ok("shell", "/bin/sh runs %s" % ctx.program)]
    from ..core.probes import which

    wanted = words[0]
    if os.path.basename(wanted) == "env" and len(words) > 1:
        wanted = words[1]
        there = which(wanted, ctx.path)
    else:
        there = wanted if os.access(wanted, os.X_OK) and os.path.isfile(wanted) else None
    if there is None:
        return [error("shell", "%s starts with `%s`, and the image has no %s" % (
            ctx.program, first.decode("utf-8", "replace").strip(), wanted),
            "install %s in the image, or make the first line of %s #!/bin/sh" % (wanted, ctx.program))]
    return [ok("shell", "/bin/sh runs %s, with %s (its #! line)" % (ctx.program, there))]

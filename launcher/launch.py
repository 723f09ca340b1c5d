"""The only place that acts: install steps, the execute bit, the failure file, exec."""

import errno
import os
import sys

from . import log
from .errors import JobError, NotExecutable, NotFound

FAILURE_LIMIT = 1024  # SageMaker shows the first 1024 characters of the failure file as FailureReason


def write_failure(layout, message):
    """Write the failure file unless one exists (the program's own reason wins); never raises."""
    text = message[:FAILURE_LIMIT]
    try:
        if os.path.isdir(layout.base):
            os.makedirs(layout.output, exist_ok=True)
        fd = os.open(layout.failure, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        log.info("Failure file exists. Skipping creation....")
        return
    except OSError as e:
        log.warning("could not write %s: %s" % (layout.failure, e.strerror or e))
        return
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode("utf-8", "replace"))


def prepare(plan, env):
    """The steps between the decision to run and exec: install commands, then the execute bit."""
    for step in plan.install:
        log.info("Installing dependencies: %s" % " ".join(step))
        import subprocess

        try:
            status = subprocess.call(step, cwd=plan.cwd, env=env)
        except OSError as e:
            raise JobError("could not run %s: %s" % (" ".join(step), e.strerror or e))
        if status != 0:
            raise JobError("dependency install failed with exit status %d: %s (cwd %s)"
                           % (status, " ".join(step), plan.cwd))
    if plan.chmod:
        try:
            os.chmod(plan.chmod, os.stat(plan.chmod).st_mode | 0o111)
        except OSError as e:
            raise NotExecutable("cannot make %s executable: %s" % (plan.chmod, e.strerror or e))


def execute(plan, env):
    """Replace this process with the program; returns only by raising."""
    os.chdir(plan.cwd)
    sys.stdout.flush()
    sys.stderr.flush()
    restore_signals()
    try:
        os.execvpe(plan.argv[0], plan.argv, env)
    except OSError as e:
        raise exec_error(plan.argv[0], e)


def restore_signals():
    """Undo what CPython did at start-up: an ignored SIGPIPE (and SIGXFSZ) survives exec, and would make
    `yes | head` in the program print "Broken pipe". subprocess restores them the same way."""
    try:
        import _signal as signals  # the C module behind `signal`, which would import enum: ~2 ms a start
    except ImportError:  # pragma: no cover - not CPython
        import signal as signals
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signals, name):
            signals.signal(getattr(signals, name), signals.SIG_DFL)


def exec_error(name, e):
    """The LauncherError for a failed exec, with the shell's statuses (127 not found, 126 not executable)."""
    if e.errno == errno.ENOENT:
        return NotFound("%s: not found" % name)
    if e.errno in (errno.EACCES, errno.ENOEXEC, errno.EISDIR, errno.EPERM):
        return NotExecutable("%s: cannot be executed: %s" % (name, e.strerror))
    return JobError("%s: exec failed: %s" % (name, e.strerror or e))

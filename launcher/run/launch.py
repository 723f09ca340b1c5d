"""The only place that acts: the folders SageMaker provides, install steps, the execute bit, the failure file,
exec."""

import os
import sys

from .. import log
from ..errors import JobError, NotExecutable, NotFound, Stopped

FAILURE_LIMIT = 1024  # SageMaker shows the first 1024 characters of the failure file as FailureReason


def write_failure(layout, message):
    """Write the failure file unless one exists (the program's own reason wins); never raises."""
    write_status_file(layout, layout.failure, message[:FAILURE_LIMIT], keep_existing=True)


def write_success(layout):
    """Write the (empty) success file; never raises."""
    write_status_file(layout, layout.success, "", keep_existing=False)


def write_status_file(layout, path, text, keep_existing):
    """Write output/failure or output/success, creating output/ when the base dir exists; never raises.
    Without the base dir (a laptop with no /opt/ml) there is nowhere to report to: skip quietly."""
    if not os.path.isdir(layout.base):
        log.debug("not writing %s: %s does not exist" % (path, layout.base))
        return
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if keep_existing else os.O_TRUNC)
    try:
        os.makedirs(layout.output, exist_ok=True)
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        log.info("Failure file exists. Skipping creation....")
        return
    except OSError as e:
        log.warning("could not write %s: %s" % (path, e.strerror or e))
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8", "replace"))
    except OSError as e:
        log.warning("could not write %s: %s" % (path, e.strerror or e))


def provide_folders(layout, channels):
    """Create the folders SageMaker always provides (model/, output/, output/data/, input/data/CHANNEL/) when
    missing, so that a program that writes its model without makedirs runs from a bare tree too. Only in a real
    start and only under an existing base dir (as the status files); never raises: the program says the rest."""
    if not os.path.isdir(layout.base):
        return
    # A channel name holding '/', or '.' or '..', would name a folder outside input/data (or the tree):
    # SageMaker's channel names cannot, so such a folder is left to the program.
    named = [layout.channel(name) for name in channels if "/" not in name and name not in ("", ".", "..")]
    for path in [layout.model, layout.output, layout.output_data] + named:
        if os.path.isdir(path):  # nearly always, in an image on SageMaker: one stat per folder
            continue
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as e:
            log.warning("could not create %s: %s" % (path, e.strerror or e))
            continue
        log.debug("created %s, which SageMaker provides" % path)


def prepare(plan, env, shown_install=None):
    """The steps between the decision to run and exec: install commands, then the execute bit.
    ``shown_install``: the same steps as logs and errors may show them (a CodeArtifact token hidden)."""
    if plan.install:
        _install(plan.install, plan.cwd, env, shown_install or plan.install)
    if plan.chmod:
        try:
            os.chmod(plan.chmod, os.stat(plan.chmod).st_mode | 0o111)
        except OSError as e:
            raise NotExecutable("cannot make %s executable: %s" % (plan.chmod, e.strerror or e))


def _install(steps, cwd, env, shown):
    """Run the install commands. SIGTERM and SIGINT stop them (subprocess.call kills the running one), with a
    failure reason that says so; the frame put the same handler in place for the whole start."""
    import subprocess

    from . import statuses

    stop_on_signals("while installing dependencies")
    try:
        for step, words in zip(steps, shown):
            log.info("Installing dependencies: %s" % " ".join(words))
            try:
                status = subprocess.call(step, cwd=cwd, env=env)
            except OSError as e:
                raise JobError("could not run %s: %s" % (" ".join(words), e.strerror or e))
            if status != 0:
                raise JobError("dependency install failed (%s): %s (cwd %s)"
                               % (statuses.describe_returncode(status), " ".join(words), cwd))
    finally:
        stop_on_signals("before the program started")


def execute(plan, env):
    """Replace this process with the program; returns only by raising."""
    try:
        os.chdir(plan.cwd)
    except OSError as e:
        raise JobError("cannot change to the code directory %s: %s" % (plan.cwd, e.strerror or e))
    sys.stdout.flush()
    sys.stderr.flush()
    restore_signals()
    try:
        os.execvpe(plan.argv[0], plan.argv, env)
    except OSError as e:
        restore_signals(ignore=True)  # stderr may be a closed pipe: the error line must not kill us
        raise exec_error(plan.argv[0], e)


def stop_on_signals(when):
    """SIGTERM and SIGINT end the start with Stopped (143, 130; the failure file says so) until exec resets
    them. As PID 1 the kernel drops a signal without a handler, so a stop during a slow probe was lost."""
    signals = _signals()

    def stop(signum, frame):
        raise Stopped(signum, "SIGTERM" if signum == signals.SIGTERM else "SIGINT", when)

    for signum in (signals.SIGTERM, signals.SIGINT):
        signals.signal(signum, stop)


def _signals():
    try:
        import _signal as signals  # the C module behind `signal`, which would import enum: ~2 ms a start
    except ImportError:  # pragma: no cover - not CPython
        import signal as signals
    return signals


def restore_signals(ignore=False):
    """Undo what CPython did at start-up: an ignored SIGPIPE (and SIGXFSZ) survives exec, and would make
    `yes | head` in the program print "Broken pipe". subprocess restores them the same way."""
    signals = _signals()
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signals, name):
            signals.signal(getattr(signals, name), signals.SIG_IGN if ignore else signals.SIG_DFL)


def exec_error(name, e):
    """The LauncherError for a failed exec, with the shell's statuses (127 not found, 126 not executable)."""
    import errno  # here, not at the top: building its table of names costs a start 80 us

    if e.errno == errno.ENOENT:
        return NotFound("%s: not found" % name)
    if e.errno in (errno.EACCES, errno.ENOEXEC, errno.EISDIR, errno.EPERM):
        return NotExecutable("%s: cannot be executed: %s" % (name, e.strerror))
    return JobError("%s: exec failed: %s" % (name, e.strerror or e))

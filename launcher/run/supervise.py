"""--supervise: stay beside the program instead of becoming it. The launcher (PID 1 in a container) forwards
signals to the program's process group, reaps every zombie, passes the output through, gives a program
that ignores SIGTERM a bounded grace, and writes why the program failed."""

import os
import signal
import sys
import time

from .. import log
from ..errors import JobError
from . import statuses
from .launch import exec_error, restore_signals, write_failure, write_success
from .tee import Tee

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
WATCHED = FORWARDED + (signal.SIGCHLD,)
TICK = 5.0             # the loop reaps at least this often: a SIGCHLD byte lost to a full wakeup pipe cannot hang it


def run(plan, env, layout, grace, shown_argv, finish=None):
    """Run the plan as a child and supervise it; the exit status. Raises LauncherError when exec fails.
    ``finish(deadline, stopped)``, when given, runs after the program has exited, before the status file: it
    gets the time.monotonic() value the grace after a SIGTERM ends at (None without one) and a function that
    gives such a deadline once a later SIGTERM comes (else None); it returns None, or one line for the failure
    file (the intermediate output's uploads)."""
    sys.stdout.flush()
    sys.stderr.flush()
    foreground = _owns_terminal()
    wake_r, wake_w = os.pipe()      # the signal numbers, written by CPython's C-level handler
    err_r, err_w = os.pipe()        # the program's stderr
    report_r, report_w = os.pipe()  # close-on-exec: EOF means exec worked, bytes are the errno it failed with
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    # Blocked before fork, so a signal that arrives before the loop runs waits instead of being lost.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
    previous = dict((sig, signal.signal(sig, _noted)) for sig in WATCHED)
    old_wakeup = signal.set_wakeup_fd(wake_w)
    try:
        pid = os.fork()
    except OSError as e:
        _restore(mask, previous, old_wakeup, (wake_r, wake_w, err_r, err_w, report_r, report_w))
        raise JobError("%s: cannot start: fork failed: %s" % (plan.argv[0], e.strerror or e))
    if pid == 0:
        _child(plan, env, err_w, report_w, mask, previous, foreground)
    os.close(err_w)
    os.close(report_w)
    try:
        os.setpgid(pid, pid)  # the child does it too: whichever runs first, the group exists before we signal it
    except OSError:
        pass
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    try:
        report = _read_to_end(report_r)
        if report:
            os.waitpid(pid, 0)
            raise _child_error(plan, report)
        code, signum, grace_killed, tail, stopped = _supervise(pid, err_r, wake_r, grace)
        # Still inside: a further signal lands in the wakeup pipe instead of stopping the uploads, and a
        # SIGTERM there gives them the grace period from then on.
        unfinished = finish(stopped, lambda: _grace_after_sigterm(wake_r, grace)) if finish is not None else None
    finally:
        _restore(mask, previous, old_wakeup, (wake_r, wake_w, err_r, report_r))
    return _report(layout, code, signum, grace_killed, grace, tail, shown_argv, unfinished)


def _grace_after_sigterm(wake_r, grace):
    """The end of the grace period when a SIGTERM has come since the program exited, else None."""
    if signal.SIGTERM in _read_signals(wake_r):
        log.info("SIGTERM while the last uploads run: they have %g s" % grace)
        return time.monotonic() + grace
    return None


def _noted(signum, frame):
    """The signal's number reaches the wakeup pipe before this runs; the loop does the work."""


def _owns_terminal():
    """This process group is the terminal's foreground group, so the program should take it over."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def _child(plan, env, err_w, report_w, mask, previous, foreground):
    """In the forked child: undo the launcher's signal set-up, exec the plan; never returns."""
    stage = "setup"
    try:
        os.setpgid(0, 0)
        if foreground:  # as tini does, so that a terminal's Ctrl-C and reads reach the program
            ttou = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            try:
                os.tcsetpgrp(0, os.getpgrp())
            except OSError:
                pass
            signal.signal(signal.SIGTTOU, ttou)
        os.dup2(err_w, 2)
        os.set_inheritable(2, True)  # dup2 onto itself (stderr was closed) would leave it close-on-exec
        signal.set_wakeup_fd(-1)
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if handler == signal.SIG_IGN else signal.SIG_DFL)
        restore_signals()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        stage = "chdir"
        os.chdir(plan.cwd)
        stage = "exec"
        os.execvpe(plan.argv[0], plan.argv, env)
    except OSError as e:
        _report_errno(report_w, stage, e.errno or 0)
    except BaseException:
        _report_errno(report_w, stage, 0)
    finally:
        os._exit(127)


def _report_errno(fd, stage, number):
    try:
        os.write(fd, ("%s %d" % (stage, number)).encode())
    except OSError:
        pass


def _read_to_end(fd):
    data = b""
    while True:
        chunk = os.read(fd, 256)
        if not chunk:
            return data
        data += chunk


def _child_error(plan, report):
    stage, _, number = report.decode("ascii", "replace").partition(" ")
    number = int(number) if number.isdigit() else 0
    error = OSError(number, os.strerror(number) if number else "unknown error")
    if stage == "exec":
        return exec_error(plan.argv[0], error)
    if stage == "chdir":
        return JobError("cannot change to the code directory %s: %s" % (plan.cwd, error.strerror))
    return JobError("%s: cannot start: %s" % (plan.argv[0], error.strerror))


def _supervise(pid, err_r, wake_r, grace):
    """Forward, reap and pass stderr through until the child exits: (code, signal, killed after grace, tail,
    the end of the grace after the first SIGTERM or None)."""
    import select

    tee = Tee(err_r)
    deadline = stopped = None
    grace_killed = False
    status = None
    next_reap = time.monotonic() + TICK
    while status is None:
        readers = [wake_r]
        if tee.reading():
            readers.append(err_r)
        writers = [2] if tee.pending else []
        until = next_reap if deadline is None else min(next_reap, deadline)
        ready_r, ready_w, _ = select.select(readers, writers, [], max(0.0, until - time.monotonic()))
        if wake_r in ready_r:
            for sig in _read_signals(wake_r):
                if sig != signal.SIGCHLD:
                    _forward(pid, sig)
                if sig == signal.SIGTERM and deadline is None and not grace_killed:
                    deadline = stopped = time.monotonic() + grace
                    log.info("SIGTERM forwarded to the program; SIGKILL follows in %g s if it is still running"
                             % grace)
        if wake_r in ready_r or time.monotonic() >= next_reap:
            status = _reap(pid, status)
            next_reap = time.monotonic() + TICK
        if err_r in ready_r:
            tee.read()
        if ready_w:
            tee.write_some()
        if status is None and deadline is not None and time.monotonic() >= deadline:
            log.warning("the program is still running %g s after SIGTERM; sending SIGKILL" % grace)
            _forward(pid, signal.SIGKILL)
            deadline = None
            grace_killed = True
    tee.drain()
    code, signum = status
    return code, signum, grace_killed and signum == signal.SIGKILL, tee.last_lines(), stopped


def _read_signals(fd):
    try:
        return os.read(fd, 512)
    except BlockingIOError:
        return b""


def _forward(pid, sig):
    try:
        os.killpg(pid, sig)
    except OSError:
        try:  # the program moved itself out of its group: it still gets the signal
            os.kill(pid, sig)
        except OSError:
            pass


def _reap(pid, status):
    """Collect every exited child (orphans come to PID 1); the program's (code, signal) once it has exited."""
    while True:
        try:
            child, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if child == 0:
            return status
        if child == pid:
            status = (statuses.from_waitstatus(raw), statuses.signal_of_waitstatus(raw))


def _report(layout, code, signum, grace_killed, grace, tail, shown_argv, unfinished=None):
    """The success file, or the failure file (unless the program wrote its own); one log line; the status,
    always the program's. ``unfinished`` (files not uploaded) goes to the failure file even after a success."""
    if code == 0 and unfinished:
        write_failure(layout, unfinished)
        log.error(unfinished)
        return 0
    if code == 0:
        write_success(layout)
        log.info("Reporting training SUCCESS")
        return 0
    how = statuses.describe(code, signum)
    if grace_killed:
        how += " after ignoring SIGTERM for %g s" % grace
    reason = statuses.failure_reason(tail, how, shown_argv)
    if unfinished:
        log.error(unfinished)
        reason = "%s; %s" % (unfinished, reason)  # first: the failure file keeps 1024 characters
    write_failure(layout, reason)
    log.error("Reporting training FAILURE: %s" % how)
    return code


def _restore(mask, previous, old_wakeup, fds):
    signal.set_wakeup_fd(old_wakeup)
    for sig, handler in previous.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


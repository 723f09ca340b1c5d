"""The SSH daemon an MPI job needs on every host: started as our child, checked, reached, stopped."""

import os

from .. import log
from ..errors import JobError, NotFound
from .waits import signals_module

SSHD_GRACE = 5.0  # seconds sshd has between SIGTERM and SIGKILL


def start_sshd(argv):
    """sshd -D as a child in its own session, so that a terminal's Ctrl-C leaves it to us."""
    import subprocess

    if not (os.path.isfile(argv[0]) and os.access(argv[0], os.X_OK)):
        raise NotFound("MPI needs an SSH server on every host: %s not found (install openssh-server in the image, "
                       "or set SM_TRAIN_SSHD to its path)" % argv[0])
    try:
        os.makedirs("/run/sshd", 0o755, exist_ok=True)  # sshd refuses to start without it; images rarely have it
    except OSError:
        pass
    log.info("Starting the SSH daemon: %s" % " ".join(argv))
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as e:
        raise JobError("%s could not be started: %s" % (argv[0], e.strerror or e))


def stop_group(child, sig, grace):
    """Send ``sig`` to the group that ``child`` leads, then reap it, killing the group after ``grace`` seconds."""
    if child.poll() is None:
        _signal_group(child, sig)
    try:
        child.wait(grace)
    except Exception:  # subprocess.TimeoutExpired, without importing subprocess here
        _signal_group(child, signals_module().SIGKILL)
        child.wait()


def _signal_group(child, sig):
    try:
        os.killpg(child.pid, sig)
    except OSError:
        try:  # it left its group: it still gets the signal
            child.send_signal(sig)
        except OSError:
            pass


def check_sshd(sshd):
    if sshd.poll() is not None:
        raise JobError("sshd exited with status %d before the MPI job ended (its message is above)" % sshd.returncode)


def has_ssh_banner(host, port, timeout=5.0):
    """A TCP connection to ``host`` that reads an SSH banner: its sshd is up (no login is needed for that)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout) as conn:
            return conn.recv(4) == b"SSH-"
    except (OSError, ValueError):  # ValueError: UnicodeError from IDNA, or a NUL in the name
        return False

"""A distributed job's impure part for this node: wait for the hosts' names, start sshd, wait for the peers,
run mpirun and hand its outcome to the workers (outcome.py). Every wait is bounded and logs its progress.
"""

import os
import socket
import time

from . import log
from .errors import JobError, LauncherError, NotFound
from .outcome import StatusServer, ask_master
from .probes import which

LINGER = 60.0   # seconds the master keeps answering after mpirun ended, for workers yet to ask
POLL = 1.0      # seconds between two questions of a worker, and between two looks for a worker's sshd
NOTE = 30.0     # seconds between two progress lines of a long wait

SETTINGS = (  # the bounded waits, in seconds: variable, default
    ("SM_TRAIN_DNS_TIMEOUT", 900.0),           # every host name resolves (the toolkit: 15 minutes)
    ("SM_TRAIN_WORKER_TIMEOUT", 3600.0),       # the MPI master sees every worker's sshd (the toolkit: 1 hour)
    ("SM_TRAIN_MASTER_TIMEOUT", 3600.0),       # an MPI worker gets the master's first answer
    ("SM_TRAIN_MASTER_LOST_TIMEOUT", 300.0),   # an MPI worker hears again from a master that went silent
)


class ProgramFailed(LauncherError):
    """The distributed program (or the master's, for a worker) ended with a non-zero status."""

    def __init__(self, message, status):
        LauncherError.__init__(self, message)
        self.status = status


class Settings(object):
    def __init__(self, env):
        for name, default in SETTINGS:
            setattr(self, name[9:].lower(), _number(env, name, default))
        self.status_port = _port(env, "SM_TRAIN_STATUS_PORT", 7791)
        self.ssh_port = _port(env, "SM_TRAIN_SSH_PORT", 22)
        self.ssh_environment = env.get("SM_TRAIN_SSH_ENVIRONMENT", "/etc/environment")


def _number(env, name, default):
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise JobError("%s must be a positive number of seconds, not %r" % (name, text))
    return value


def _port(env, name, default):
    text = env.get(name)
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise JobError("%s must be a TCP port number, not %r" % (name, text))
    return int(text)


def run(plan, env, layout, grace=None, shown_argv=None):
    """This node's part; returns the exit status, or execs (role "exec"; supervised when ``grace`` is set)."""
    cluster = plan.cluster
    settings = Settings(env)
    if which(plan.argv[0], env.get("PATH", os.defpath)) is None and "/" not in plan.argv[0]:
        raise NotFound("%s not found on PATH: the %s job needs it in the image" % (plan.argv[0], cluster.engine))
    wait_for_names(cluster.hosts, settings.dns_timeout, env)
    if cluster.role == "exec":
        if grace is not None:
            from . import supervise

            return supervise.run(plan, env, layout, grace, shown_argv or plan.argv)
        from .launch import execute

        execute(plan, env)
    if cluster.role == "mpi-master":
        return master(plan, env, settings)
    return worker(plan, env, settings)


def wait_for_names(hosts, timeout, env):
    """Until every host name resolves (the platform's DNS lags the start); not for one host or local mode."""
    if len(hosts) < 2:
        return
    if env.get("SM_STUDIO_LOCAL_MODE", "False").lower() == "true":
        log.info("Bypass DNS check in case of Studio Local Mode execution.")
        return
    start = time.monotonic()
    pending = list(hosts)
    delay, noted = 0.1, start
    while pending:
        try:
            socket.gethostbyname(pending[0])
            pending.pop(0)
            continue
        except (OSError, UnicodeError) as e:
            reason = str(e)
        waited = time.monotonic() - start
        if waited >= timeout:
            raise JobError("host name %s did not resolve within %g s (%s); SM_TRAIN_DNS_TIMEOUT sets the wait"
                           % (pending[0], timeout, reason))
        if time.monotonic() >= noted:
            log.info("Waiting for host names to resolve: %s (%s; %.0f s of %g s)"
                     % (", ".join(pending), reason, waited, timeout))
            noted = time.monotonic() + NOTE
        time.sleep(min(delay, max(timeout - waited, 0.01)))
        delay = min(delay * 2, 30.0)
    log.info("All %d host names resolve" % len(hosts))


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


def stop(child):
    import signal

    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGTERM)
        except OSError:
            pass
    try:
        child.wait(5)
    except Exception:  # subprocess.TimeoutExpired, without importing subprocess here
        child.kill()
        child.wait()


def _stop_on_signals():
    """SIGTERM or SIGINT while we wait ends the wait through the finally blocks, so sshd is stopped too."""
    import signal

    def stopped(signum, frame):
        raise ProgramFailed("stopped by signal %d while waiting" % signum, 128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stopped)


def _check_sshd(sshd):
    if sshd.poll() is not None:
        raise JobError("sshd exited with status %d before the MPI job ended (its message is above)" % sshd.returncode)


def has_ssh_banner(host, port, timeout=5.0):
    """A TCP connection to ``host`` that reads an SSH banner: its sshd is up (no login is needed for that)."""
    try:
        with socket.create_connection((host, port), timeout) as conn:
            return conn.recv(4) == b"SSH-"
    except (OSError, UnicodeError):
        return False


def master(plan, env, settings):
    """sshd, the status server, the workers' sshd, then mpirun; the workers learn its outcome."""
    workers = plan.cluster.workers
    if not workers:  # one host: nobody to ssh into, nobody to tell
        return _finish(_run_child(plan.argv, plan.cwd, env), plan.argv[0])
    sshd = server = None
    _stop_on_signals()
    try:
        sshd = start_sshd([env.get("SM_TRAIN_SSHD") or "/usr/sbin/sshd", "-D"])
        server = StatusServer(settings.status_port, workers)
        _wait_for_workers(workers, settings, sshd)
        log.info("Running %s" % " ".join(plan.argv[:1]))
        status = _run_child(plan.argv, plan.cwd, env)
    except LauncherError as e:
        if server:
            server.finish(e.status or 1, LINGER, everyone=False)
        raise
    finally:
        if sshd:
            stop(sshd)
    server.finish(status, LINGER)
    return _finish(status, plan.argv[0])


def _finish(status, name):
    if status:
        raise ProgramFailed("%s exited with status %d" % (name, status), status)
    return 0


def _wait_for_workers(workers, settings, sshd):
    log.info("Waiting for the MPI workers' SSH daemons: %s" % ", ".join(workers))
    start = time.monotonic()
    noted = start + NOTE
    pending = list(workers)
    while pending:
        _check_sshd(sshd)
        if has_ssh_banner(pending[0], settings.ssh_port):
            log.info("Worker %s available for communication" % pending.pop(0))
            continue
        waited = time.monotonic() - start
        if waited >= settings.worker_timeout:
            raise JobError("the SSH daemon of MPI worker %s did not answer on port %d within %g s; "
                           "SM_TRAIN_WORKER_TIMEOUT sets the wait" % (pending[0], settings.ssh_port,
                                                                       settings.worker_timeout))
        if time.monotonic() >= noted:
            log.info("Still waiting for the SSH daemons of %s (%.0f s of %g s)"
                     % (", ".join(pending), waited, settings.worker_timeout))
            noted = time.monotonic() + NOTE
        time.sleep(POLL)


def _run_child(argv, cwd, env):
    """Run ``argv`` to its end, passing SIGTERM and SIGINT on; its status as a shell reports it."""
    import signal
    import subprocess

    try:
        child = subprocess.Popen(argv, cwd=cwd, env=env)
    except OSError as e:
        from .launch import exec_error

        raise exec_error(argv[0], e)

    def forward(signum, frame):
        try:
            child.send_signal(signum)
        except OSError:
            pass

    previous = dict((sig, signal.signal(sig, forward)) for sig in (signal.SIGTERM, signal.SIGINT))
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def export_to_ssh_sessions(env, path):
    """Append the environment to ``path`` (/etc/environment, read by sshd's PAM), as the toolkit's worker
    does: the ranks that mpirun starts through ssh see the image's PATH and this host's CURRENT_HOST."""
    if not path:
        return
    lines = "".join("%s=%s\n" % (k, v) for k, v in env.items() if "\n" not in k + v and "=" not in k)
    try:
        with open(path, "a") as f:
            f.write(lines)
    except OSError as e:
        log.warning("could not write the environment for ssh sessions to %s: %s" % (path, e.strerror or e))


def worker(plan, env, settings):
    """sshd for mpirun to reach, then the master's outcome, which becomes this node's exit status."""
    cluster = plan.cluster
    export_to_ssh_sessions(env, settings.ssh_environment)
    sshd = None
    _stop_on_signals()
    try:
        sshd = start_sshd(plan.argv)
        status = _wait_for_outcome(cluster.master, cluster.current_host, settings, sshd)
    finally:
        if sshd:
            stop(sshd)
    if status:
        raise ProgramFailed("the MPI job on master %s failed with status %d" % (cluster.master, status), status)
    log.info("The MPI job on master %s succeeded" % cluster.master)
    return 0


def _wait_for_outcome(master, host, settings, sshd):
    log.info("Waiting for the MPI master %s (status port %d)" % (master, settings.status_port))
    start = time.monotonic()
    seen = None
    noted = start + NOTE
    while True:
        _check_sshd(sshd)
        answer = ask_master(master, settings.status_port, host)
        now = time.monotonic()
        if answer == "running" or (answer or "").startswith("exit "):
            if seen is None:
                log.info("MPI master %s is up; waiting for the job to end" % master)
            seen = now
            if answer != "running":
                try:
                    return int(answer[5:])
                except ValueError:
                    raise JobError("the MPI master %s sent an unreadable status: %r" % (master, answer[:80]))
        elif seen is None and now - start >= settings.master_timeout:
            raise JobError("the MPI master %s did not answer on port %d within %g s; SM_TRAIN_MASTER_TIMEOUT sets "
                           "the wait" % (master, settings.status_port, settings.master_timeout))
        elif seen is not None and now - seen >= settings.master_lost_timeout:
            raise JobError("lost the MPI master %s: no answer for %g s; SM_TRAIN_MASTER_LOST_TIMEOUT sets the wait"
                           % (master, settings.master_lost_timeout))
        elif now >= noted:
            log.info("Still waiting for the MPI master %s (%.0f s)" % (master, now - start))
            noted = now + NOTE
        time.sleep(POLL)

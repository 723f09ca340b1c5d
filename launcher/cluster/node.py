"""A distributed job's impure part for this node: wait for the hosts' names, start sshd, wait for the peers,
run mpirun and hand its outcome to the workers (outcome.py). Every wait is bounded and logs its progress.

SIGTERM and SIGINT are only recorded while we wait (``Stop``); the waits' polls act on them, so that a signal
never lands inside starting or stopping sshd. The settings were read with the plan (distributed.Settings).
"""

import os
import time

from . import jsonc, log
from .errors import JobError, LauncherError, NotFound, ProgramFailed, Stopped
from .probes import which

LINGER = 60.0   # seconds the master keeps answering after mpirun ended, for workers yet to ask
POLL = 1.0      # seconds between two questions of a worker, two looks for a worker's sshd, two looks for a signal
NOTE = 30.0     # seconds between two progress lines of a long wait
SSHD_GRACE = 5.0  # seconds sshd has between SIGTERM and SIGKILL


def run(plan, env, layout, grace, shown_argv):
    """This node's part; returns the exit status, or execs (role "exec"; supervised when ``grace`` is set)."""
    cluster = plan.cluster
    settings = cluster.settings
    if which(plan.argv[0], env.get("PATH", os.defpath)) is None and "/" not in plan.argv[0]:
        raise NotFound("%s not found on PATH: the %s job needs it in the image" % (plan.argv[0], cluster.engine))
    stop = Stop()
    with stop:  # before the name wait: as PID 1 without a handler, SIGTERM would be ignored for up to 15 minutes
        wait_for_names(cluster.hosts, settings.dns_timeout, env, stop)
        if cluster.role == "mpi-master":
            return master(plan, env, settings, stop)
        if cluster.role == "mpi-worker":
            return worker(plan, env, settings, stop)
    stop.check("while waiting for the host names to resolve")  # the handlers are the launcher's own again from here on
    if grace is not None:
        from . import supervise

        return supervise.run(plan, env, layout, grace, shown_argv)
    from .launch import execute

    execute(plan, env)


def _signals():
    """The C module behind `signal`: its handlers without importing enum (as launch.restore_signals does)."""
    try:
        import _signal as signals
    except ImportError:  # pragma: no cover - not CPython
        import signal as signals
    return signals


class Stop(object):
    """While in effect (``with``), SIGTERM and SIGINT are recorded, never raised from wherever the main thread
    happens to be; ``check`` turns the first one into Stopped (status 128+N) at a point where that is safe."""

    def __init__(self):
        self.received = []
        self.previous = {}

    def __enter__(self):
        signals = _signals()
        for sig in (signals.SIGTERM, signals.SIGINT):
            self.previous[sig] = signals.signal(sig, self._record)
        return self

    def __exit__(self, *exc):
        signals = _signals()
        for sig, handler in self.previous.items():
            if handler is not None:  # None: a handler not set from Python, which cannot be put back
                signals.signal(sig, handler)
        return False

    def _record(self, signum, frame):
        self.received.append(signum)

    def check(self, when):
        if self.received:
            from .statuses import signal_name

            raise Stopped(self.received[0], signal_name(self.received[0]), when)


class Wait(object):
    """One bounded wait: a progress line every NOTE seconds, the error once ``timeout`` has passed (naming the
    ``setting`` that sets it), and sleeps that end with Stopped when a signal came (``what`` says for what)."""

    def __init__(self, timeout, setting, what, stop, first_note=NOTE):
        self.start = time.monotonic()
        self.timeout = timeout
        self.setting = setting
        self.what = what
        self.stop = stop
        self.noted = self.start + first_note

    def expired(self):
        return time.monotonic() - self.start >= self.timeout

    def note(self, text):
        now = time.monotonic()
        if now >= self.noted:
            log.info("%s (%.0f s of %g s)" % (text, now - self.start, self.timeout))
            self.noted = now + NOTE

    def fail(self, text, reason=None):
        return JobError("%s within %g s%s; %s sets the wait"
                        % (text, self.timeout, " (%s)" % reason if reason else "", self.setting))

    def sleep(self, seconds):
        """Up to ``seconds``, never past the deadline, looking for a signal at least every POLL seconds."""
        end = time.monotonic() + min(seconds, max(self.start + self.timeout - time.monotonic(), 0.01))
        while True:
            self.stop.check("while waiting for %s" % self.what)
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, POLL))


def wait_for_names(hosts, timeout, env, stop):
    """Until every host name resolves (the platform's DNS lags the start); not for one host or local mode."""
    if len(hosts) < 2:
        return
    if env.get("SM_STUDIO_LOCAL_MODE", "False").lower() == "true":
        log.info("Bypass DNS check in case of Studio Local Mode execution.")
        return
    import socket  # here, not above: socket imports enum and selectors, ~4 ms that a one-host torchrun start skips

    wait = Wait(timeout, "SM_TRAIN_DNS_TIMEOUT", "the host names to resolve", stop, first_note=0)
    pending = list(hosts)
    delay = 0.1
    while pending:
        try:
            socket.gethostbyname(pending[0])
            pending.pop(0)
            continue
        except OSError as e:
            reason = str(e)
        except (ValueError, TypeError, UnicodeError) as e:  # a NUL, an over-long label: no retry will help
            raise JobError("host name %s cannot be looked up: %s" % (jsonc.quote(pending[0]), e))
        if wait.expired():
            raise wait.fail("host name %s did not resolve" % pending[0], reason)
        wait.note("Waiting for host names to resolve: %s; %s" % (", ".join(pending), reason))
        wait.sleep(delay)
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


def stop_group(child, sig, grace):
    """Send ``sig`` to the group that ``child`` leads, then reap it, killing the group after ``grace`` seconds."""
    if child.poll() is None:
        _signal_group(child, sig)
    try:
        child.wait(grace)
    except Exception:  # subprocess.TimeoutExpired, without importing subprocess here
        _signal_group(child, _signals().SIGKILL)
        child.wait()


def _signal_group(child, sig):
    try:
        os.killpg(child.pid, sig)
    except OSError:
        try:  # it left its group: it still gets the signal
            child.send_signal(sig)
        except OSError:
            pass


def _check_sshd(sshd):
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


def master(plan, env, settings, stop):
    """sshd, the status server, the workers' sshd, then mpirun; the workers learn its outcome."""
    workers = plan.cluster.workers
    if not workers:  # one host: nobody to ssh into, nobody to tell
        return _finish(_run_child(plan.argv, plan.cwd, env, stop), plan.argv[0])
    from .outcome import StatusServer

    sshd = server = None
    try:
        sshd = start_sshd([settings.sshd, "-D"])
        server = StatusServer(settings.status_port, workers)
        _wait_for_workers(workers, settings, sshd, stop)
        log.info("Running %s" % " ".join(plan.argv[:1]))
        code = _run_child(plan.argv, plan.cwd, env, stop)
    except LauncherError as e:
        if server:  # the workers already asking learn the failure; a further signal cuts that linger short
            seen = len(stop.received)
            server.finish(e.status or 1, LINGER, everyone=False, stopped=lambda: len(stop.received) > seen)
        raise
    finally:
        if sshd:
            stop_group(sshd, _signals().SIGTERM, SSHD_GRACE)
    from .statuses import from_returncode

    server.finish(from_returncode(code), LINGER, stopped=lambda: bool(stop.received))
    stop.check("while telling the MPI workers the outcome")
    return _finish(code, plan.argv[0])


def _finish(code, name):
    """0 for a program that succeeded; ProgramFailed, with the shell's status, for one that did not."""
    if code == 0:
        return 0
    from .statuses import describe_returncode, from_returncode

    how = "exited with status %d" % code if code > 0 else describe_returncode(code)
    raise ProgramFailed("%s %s" % (name, how), from_returncode(code))


def _wait_for_workers(workers, settings, sshd, stop):
    log.info("Waiting for the MPI workers' SSH daemons: %s" % ", ".join(workers))
    wait = Wait(settings.worker_timeout, "SM_TRAIN_WORKER_TIMEOUT", "the MPI workers' SSH daemons", stop)
    pending = list(workers)
    while pending:
        _check_sshd(sshd)
        if has_ssh_banner(pending[0], settings.ssh_port):
            log.info("Worker %s available for communication" % pending.pop(0))
            continue
        if wait.expired():
            raise wait.fail("the SSH daemon of MPI worker %s did not answer on port %d"
                            % (pending[0], settings.ssh_port))
        wait.note("Still waiting for the SSH daemons of %s" % ", ".join(pending))
        wait.sleep(POLL)


def _run_child(argv, cwd, env, stop):
    """Run ``argv`` to its end, passing SIGTERM and SIGINT on; its subprocess return code. The forwarding
    handler is in place before the child starts: a signal that comes while Popen runs is passed on after."""
    import subprocess

    signals = _signals()
    child, pending = [], []

    def forward(signum, frame):
        if child:
            _send(child[0], signum)
        else:
            pending.append(signum)

    previous = dict((sig, signals.signal(sig, forward)) for sig in (signals.SIGTERM, signals.SIGINT))
    try:
        stop.check("before %s started" % argv[0])  # one that came after the last wait looked
        try:
            child.append(subprocess.Popen(argv, cwd=cwd, env=env))
        except OSError as e:
            from .launch import exec_error

            raise exec_error(argv[0], e)
        while pending:
            _send(child[0], pending.pop(0))
        return child[0].wait()
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signals.signal(sig, handler)


def _send(child, signum):
    try:
        child.send_signal(signum)
    except OSError:
        pass


def export_to_ssh_sessions(env, path):
    """Append the environment to ``path`` (/etc/environment, read by sshd's PAM), as the toolkit's worker
    does: the ranks that mpirun starts through ssh see the image's PATH and this host's CURRENT_HOST. It holds
    the job's credentials and secret hyperparameters, so the file is made 0600 (PAM reads it as root) before
    they go in; where that fails, nothing is written."""
    if not path:
        return
    lines = "".join("%s=%s\n" % (k, v) for k, v in env.items() if "\n" not in k + v and "=" not in k)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "ab") as f:
            os.fchmod(fd, 0o600)
            f.write(os.fsencode(lines))  # the plan checked that every name and value encodes (plan.check_exec)
    except OSError as e:
        log.warning("could not write the environment for ssh sessions to %s: %s" % (path, e.strerror or e))


def worker(plan, env, settings, stop):
    """sshd for mpirun to reach, then the master's outcome, which becomes this node's exit status."""
    cluster = plan.cluster
    export_to_ssh_sessions(env, settings.ssh_environment)
    sshd = None
    try:
        sshd = start_sshd(plan.argv)
        status = _wait_for_outcome(cluster.master, cluster.current_host, settings, sshd, stop)
    finally:
        if sshd:
            stop_group(sshd, _signals().SIGTERM, SSHD_GRACE)
    if status:
        raise ProgramFailed("the MPI job on master %s failed with status %d" % (cluster.master, status), status)
    log.info("The MPI job on master %s succeeded" % cluster.master)
    return 0


def _wait_for_outcome(master, host, settings, sshd, stop):
    """The master's "exit N"; until its first answer, SM_TRAIN_MASTER_TIMEOUT bounds the wait, and after it
    SM_TRAIN_MASTER_LOST_TIMEOUT bounds each silence."""
    from .outcome import ask_master

    log.info("Waiting for the MPI master %s (status port %d)" % (master, settings.status_port))
    wait = Wait(settings.master_timeout, "SM_TRAIN_MASTER_TIMEOUT", "the MPI master %s" % master, stop)
    heard = False
    while True:
        _check_sshd(sshd)
        answer = ask_master(master, settings.status_port, host)
        if answer == "running" or (answer or "").startswith("exit "):
            if not heard:
                log.info("MPI master %s is up; waiting for the job to end" % master)
                heard = True
            if answer != "running":
                try:
                    return int(answer[5:])
                except ValueError:
                    raise JobError("the MPI master %s sent an unreadable status: %r" % (master, answer[:80]))
            wait = Wait(settings.master_lost_timeout, "SM_TRAIN_MASTER_LOST_TIMEOUT",
                        "the MPI job on %s to end" % master, stop)
        elif wait.expired():
            if heard:
                raise wait.fail("lost the MPI master %s: it did not answer again" % master)
            raise wait.fail("the MPI master %s did not answer on port %d" % (master, settings.status_port))
        else:
            wait.note("Still waiting for the MPI master %s" % master)
        wait.sleep(POLL)

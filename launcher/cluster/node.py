"""A distributed job's impure part for this node: wait for the hosts' names, start sshd, wait for the peers,
run mpirun and hand its outcome to the workers (outcome.py). Every wait is bounded and logs its progress.

SIGTERM and SIGINT are only recorded while we wait (``waits.Stop``); the waits' polls act on them, so that a
signal never lands inside starting or stopping sshd. The settings were checked with the options
(options.Settings).
"""

import os

from .. import log
from ..core.probes import which
from ..errors import JobError, LauncherError, NotFound, ProgramFailed
from .sshd import SSHD_GRACE, check_sshd, has_ssh_banner, start_sshd, stop_group
from .waits import POLL, Stop, Wait, signals_module, wait_for_names

LINGER = 60.0   # seconds the master keeps answering after mpirun ended, for workers yet to ask


def run(plan, env, layout, grace, shown_argv, finish=None):
    """This node's part; returns the exit status, or execs (role "exec"; supervised when ``grace`` is set, with
    ``finish`` as supervise.run takes it)."""
    cluster = plan.cluster
    settings = cluster.settings
    if "/" not in plan.argv[0] and which(plan.argv[0], env.get("PATH", os.defpath)) is None:
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
        from ..run import supervise

        return supervise.run(plan, env, layout, grace, shown_argv, finish)
    from ..run.launch import execute

    execute(plan, env)


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
            stop_group(sshd, signals_module().SIGTERM, SSHD_GRACE)
    from ..run.statuses import from_returncode

    server.finish(from_returncode(code), LINGER, stopped=lambda: bool(stop.received))
    stop.check("while telling the MPI workers the outcome")
    return _finish(code, plan.argv[0])


def _finish(code, name):
    """0 for a program that succeeded; ProgramFailed, with the shell's status, for one that did not."""
    if code == 0:
        return 0
    from ..run.statuses import describe_returncode, from_returncode

    how = "exited with status %d" % code if code > 0 else describe_returncode(code)
    raise ProgramFailed("%s %s" % (name, how), from_returncode(code))


def _wait_for_workers(workers, settings, sshd, stop):
    log.info("Waiting for the MPI workers' SSH daemons: %s" % ", ".join(workers))
    wait = Wait(settings.worker_timeout, "SM_TRAIN_WORKER_TIMEOUT", "the MPI workers' SSH daemons", stop)
    pending = list(workers)
    while pending:
        check_sshd(sshd)
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

    signals = signals_module()
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
            from ..run.launch import exec_error

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
            stop_group(sshd, signals_module().SIGTERM, SSHD_GRACE)
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
        check_sshd(sshd)
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

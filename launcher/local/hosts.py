"""Run one launcher process per host of a local job and wait for all of them: signals forwarded, the output
of several hosts passed through line by line with an ``[algo-K]`` prefix.

Each host runs in a session of its own, so that everything it starts can be found and stopped: a
supervised program sits in a process group of its own, which a signal to the host's group misses."""

import os
import signal
import subprocess
import sys

from ..errors import JobError

LINE = 64 * 1024  # a line longer than this is passed on in pieces


def run(commands):
    """``commands``: (host, argv, env) per host. Returns (return codes in host order, the first signal that
    arrived, or None). With one host the program keeps this terminal's stdin and stdout; a first Ctrl-C
    reaches each host's process group as SIGINT, a second one kills every process of every host."""
    many = len(commands) > 1
    procs, pumps, arrived = [], [], []

    def forward(signum, frame):
        arrived.append(signum)
        if signum == signal.SIGINT and arrived.count(signal.SIGINT) > 1:
            _kill_all(procs)  # a second Ctrl-C: stop waiting for a clean exit
            return
        for proc in procs:
            if proc.returncode is None:
                # SIGINT as a terminal sends it, to the whole group; SIGTERM and SIGHUP to the launcher, as
                # SageMaker and a hang-up send them to PID 1.
                _signal(proc.pid, signum, group=signum == signal.SIGINT)

    sys.stdout.flush()
    sys.stderr.flush()
    previous = [(s, signal.signal(s, forward)) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]
    try:
        lines = _Lines() if many else None
        for host, argv, env in commands:
            pipe = subprocess.PIPE if many else None
            try:
                proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL if many else None,
                                        stdout=pipe, stderr=pipe, start_new_session=True)
            except OSError as e:
                _kill_all(procs)
                for started in procs:
                    started.wait()
                raise JobError("cannot start %s for %s: %s" % (argv[0], host, e.strerror or e))
            procs.append(proc)
            if many:
                prefix = ("[%s] " % host).encode()
                pumps += [_start_pump(proc.stdout, 1, prefix, lines), _start_pump(proc.stderr, 2, prefix, lines)]
        codes = [proc.wait() for proc in procs]
    finally:
        for signum, handler in previous:
            signal.signal(signum, handler)
    for pump in pumps:
        pump.join(5)  # a daemon the program left behind may hold the pipe open; do not wait for it
    if lines is not None:
        lines.close()  # a pump still running from here on drains its pipe without writing after the report
    return codes, (arrived[0] if arrived else None)


def _signal(pid, signum, group):
    try:
        if group:
            os.killpg(pid, signum)  # the host is its session's and its group's leader: its pid names both
        else:
            os.kill(pid, signum)
    except OSError:
        pass


def _kill_all(procs):
    """SIGKILL to every process of every running host: its group, and the groups of its session (a supervised
    program's among them). A process that started a session of its own has left the job."""
    running = [proc.pid for proc in procs if proc.returncode is None]
    for pid in running:
        _signal(pid, signal.SIGKILL, group=True)
    for group in _groups_in_sessions(running):
        _signal(group, signal.SIGKILL, group=True)


def _groups_in_sessions(sessions):
    """The process groups in these sessions, found through /proc; none where there is no /proc."""
    groups = set()
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return groups
    for pid in pids:
        try:
            if os.getsid(pid) in sessions:
                groups.add(os.getpgid(pid))
        except OSError:
            pass  # gone already
    return groups


class _Lines(object):
    """Whole lines from several pumps, one at a time, straight to the file descriptor: a thread left behind
    never holds the lock of sys.stdout, which interpreter shutdown would need."""

    def __init__(self):
        import threading

        self.lock = threading.Lock()
        self.closed = False

    def write(self, fd, data):
        with self.lock:
            while data and not self.closed:
                try:
                    data = data[os.write(fd, data):]
                except OSError:
                    return  # keep draining, so that the host never blocks on a full pipe

    def close(self):
        self.closed = True  # without the lock: a pump may hold it, blocked on a stalled stdout


def _start_pump(pipe, fd, prefix, lines):
    import threading

    pump = threading.Thread(target=_pump, args=(pipe, fd, prefix, lines))
    pump.daemon = True
    pump.start()
    return pump


def _pump(pipe, fd, prefix, lines):
    """Whole lines, each prefixed, so that two hosts never interleave within a line."""
    with pipe:
        rest = b""
        while True:
            try:
                chunk = os.read(pipe.fileno(), LINE)
            except OSError:
                chunk = b""
            if not chunk:
                break
            parts = (rest + chunk).split(b"\n")
            rest = parts.pop()
            if len(rest) >= LINE:
                parts.append(rest)
                rest = b""
            if parts:
                lines.write(fd, b"".join(prefix + part + b"\n" for part in parts))
        if rest:
            lines.write(fd, prefix + rest + b"\n")

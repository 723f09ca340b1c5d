"""Run one launcher process per host of a local job and wait for all of them: signals forwarded, the output
of several hosts passed through line by line with an ``[algo-K]`` prefix."""

import os
import signal
import subprocess
import sys

from .errors import JobError


def run(commands):
    """``commands``: (host, argv, env) per host. Returns (return codes in host order, the first signal that
    arrived, or None). With one host the program keeps this terminal: stdin, a tty, Ctrl-C."""
    many = len(commands) > 1
    procs, pumps, arrived = [], [], []

    def forward(signum, frame):
        arrived.append(signum)
        if signum == signal.SIGINT:
            if arrived.count(signal.SIGINT) > 1:
                signum = signal.SIGKILL  # a second Ctrl-C: stop waiting for a clean exit
            elif _owns_terminal():
                return  # the terminal sent it to the whole process group, the hosts included
        for proc in procs:
            if proc.returncode is None:
                try:
                    os.kill(proc.pid, signum)
                except OSError:
                    pass

    previous = [(s, signal.signal(s, forward)) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)]
    try:
        lock = _lock() if many else None
        for host, argv, env in commands:
            pipe = subprocess.PIPE if many else None
            try:
                proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL if many else None,
                                        stdout=pipe, stderr=pipe)
            except OSError as e:
                forward(signal.SIGKILL, None)
                for started in procs:
                    started.wait()
                raise JobError("cannot start %s for %s: %s" % (argv[0], host, e.strerror or e))
            procs.append(proc)
            if many:
                pumps += [_start_pump(proc.stdout, sys.stdout, host, lock),
                          _start_pump(proc.stderr, sys.stderr, host, lock)]
        codes = [proc.wait() for proc in procs]
    finally:
        for signum, handler in previous:
            signal.signal(signum, handler)
    for pump in pumps:
        pump.join(5)  # a daemon the program left behind may hold the pipe open; do not wait for it
    return codes, (arrived[0] if arrived else None)


def _lock():
    import threading

    return threading.Lock()


def _start_pump(pipe, out, host, lock):
    import threading

    pump = threading.Thread(target=_pump, args=(pipe, getattr(out, "buffer", out), ("[%s] " % host).encode(), lock))
    pump.daemon = True
    pump.start()
    return pump


def _pump(pipe, out, prefix, lock):
    """Whole lines, each prefixed, so that two hosts never interleave within a line."""
    with pipe:
        for line in iter(pipe.readline, b""):
            with lock:
                try:
                    out.write(prefix + line + (b"" if line.endswith(b"\n") else b"\n"))
                    out.flush()
                except (OSError, ValueError):
                    pass  # keep draining, so that the host never blocks on a full pipe


def _owns_terminal():
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def status_of(code):
    """A return code as the shell reports it: 128+N for a process killed by signal N."""
    return 128 - code if code < 0 else code


def signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return "signal %d" % signum

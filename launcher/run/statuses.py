"""Exit statuses and their descriptions, the shell's way: what a finished program's status and stderr say.

A shell status of 128+N cannot by itself tell ``exit(137)`` from a kill by SIGKILL (the shell cannot
either), so ``describe`` takes the signal apart: callers pass the one they saw (a negative
``returncode`` from subprocess, ``WIFSIGNALED`` from ``waitpid``), and a status alone always reads
as an exit status.
"""

import os

FIRST_LINE = 600  # characters for the useful line, so the status and the command still fit in 1024


def from_returncode(code):
    """A subprocess return code as the shell reports it: the code, or 128+N for a kill by signal N."""
    return 128 - code if code < 0 else code


def from_waitstatus(raw):
    """An ``os.waitpid`` status as the shell reports it (``os.waitstatus_to_exitcode`` is Python 3.9+)."""
    if os.WIFSIGNALED(raw):
        return 128 + os.WTERMSIG(raw)
    return os.WEXITSTATUS(raw)


def signal_of_waitstatus(raw):
    """The signal that ended the process, or None when it exited."""
    return os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else None


def describe(status, signum=None):
    """"exit status 3", or "killed by SIGKILL (signal 9)" when ``signum`` (the signal seen) is given."""
    if signum is None:
        return "exit status %d" % status
    return "killed by %s (signal %d)" % (signal_name(signum), signum)


def describe_returncode(code):
    """A subprocess return code in words: a negative one is a kill."""
    return describe(from_returncode(code), -code if code < 0 else None)


def signal_name(signum):
    """SIGKILL for 9; "signal N" for a number this platform has no name for."""
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return "signal %d" % signum


def failure_reason(tail, how, argv):
    """The failure file's text: the most useful line of stderr (a Python exception, else its last line), how
    the program ended (``describe``), the command. ``tail`` is the last bytes of stderr."""
    lines = tail.decode("utf-8", "replace").splitlines()
    useful = exception_line(lines) or last_line(lines)
    if len(useful) > FIRST_LINE:
        useful = useful[:FIRST_LINE - 3] + "..."
    parts = [useful, how, "command: " + " ".join(argv)]
    return "\n".join(p for p in parts if p)


def exception_line(lines):
    """The final line of the last Python traceback: the first unindented line after its header. A prefix
    before the header (torchrun's "[rank0]: ") is expected on the lines that follow it too."""
    header = "Traceback (most recent call last):"
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].rstrip()
        if not line.endswith(header):
            continue
        prefix = line[:-len(header)]
        for later in lines[i + 1:]:
            if not later.startswith(prefix):
                continue
            rest = later[len(prefix):]
            if rest.strip() and not rest[0].isspace():
                return later.strip()
        return None
    return None


def last_line(lines):
    """The last line that is not blank, stripped; "" when there is none."""
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return ""

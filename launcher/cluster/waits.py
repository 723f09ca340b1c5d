"""A distributed node's bounded waits: signals recorded while waiting (Stop), one wait with its deadline and
progress lines (Wait), and the wait for every host name to resolve."""

import time

from .. import jsonc, log
from ..errors import JobError, Stopped

POLL = 1.0      # seconds between two polls of a wait, and between two looks for a signal
NOTE = 30.0     # seconds between two progress lines of a long wait


def signals_module():
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
        signals = signals_module()
        for sig in (signals.SIGTERM, signals.SIGINT):
            self.previous[sig] = signals.signal(sig, self._record)
        return self

    def __exit__(self, *exc):
        signals = signals_module()
        for sig, handler in self.previous.items():
            if handler is not None:  # None: a handler not set from Python, which cannot be put back
                signals.signal(sig, handler)
        return False

    def _record(self, signum, frame):
        self.received.append(signum)

    def check(self, when):
        if self.received:
            from ..run.statuses import signal_name

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

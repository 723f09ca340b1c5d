"""The one retry policy of the AWS calls: which answers are worth another attempt, how long to wait before it
(exponential backoff with full jitter, a longer base when throttled), and the bounded loop around an attempt:
so many failures in a row, a deadline where the caller has one, a log line per retry where the caller wants it."""

import random
import time

from .. import log

ATTEMPTS = 3  # botocore's standard retry mode
S3_ATTEMPTS = 5  # failed attempts in a row (an attempt that brought bytes resets the count)
REQUEST_TIMEOUT = 60.0  # botocore's connect and read timeouts, the default of each S3 request
BASE, THROTTLED_BASE, MAX_DELAY = 0.05, 1.0, 20.0  # seconds
THROTTLING = frozenset(("SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
                        "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
                        "ProvisionedThroughputExceededException", "BandwidthLimitExceeded", "EC2ThrottledException",
                        "PriorRequestNotComplete", "TransactionInProgressException"))
TRANSIENT = frozenset(("RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable"))


class Again(Exception):
    """One attempt failed in a way worth another; ``throttled`` waits longer; ``free`` (a one-off correction,
    such as the bucket's region or the clock's skew) is tried again at once and not counted."""

    def __init__(self, detail, throttled=False, free=False):
        Exception.__init__(self, detail)
        self.throttled, self.free = throttled, free


class GaveUp(Exception):
    """The retries are over: ``failures`` in a row, or (``late``) the next wait would end past the deadline;
    ``last`` is the last attempt's Again."""

    def __init__(self, last, failures, late=False):
        Exception.__init__(self, str(last))
        self.last, self.failures, self.late = last, failures, late


def retryable(status, code):
    """Whether an error answer (HTTP ``status``, error ``code`` or None) is worth another attempt."""
    return status >= 500 or status == 429 or code in THROTTLING or code in TRANSIENT


def throttling(status, code):
    """Whether an error answer asks us to slow down, so the wait before the next attempt is longer."""
    return status in (429, 503) or code in THROTTLING


def delay(failures, throttled=False):
    """Seconds to wait after ``failures`` failures in a row: full jitter over a doubling, capped window."""
    return random.random() * min((THROTTLED_BASE if throttled else BASE) * 2 ** failures, MAX_DELAY)


def loop(attempt, attempts, deadline=None, what=None, progress=None):
    """``attempt()``'s value, calling it again after each Again it raises; GaveUp when ``attempts`` failures
    come in a row or the wait would end past ``deadline()`` (a time.monotonic() value or None). ``progress()``
    grows when a failed attempt still got somewhere, which starts the count again; ``what`` begins the log line
    of each retry (no line without it)."""
    failures = 0
    while True:
        before = progress() if progress else 0
        try:
            return attempt()
        except Again as again:
            if again.free:
                continue
            failures = 0 if progress and progress() > before else failures + 1
            if failures >= attempts:
                raise GaveUp(again, failures)
            wait = delay(failures, again.throttled)
            end = deadline() if deadline else None
            if end is not None and time.monotonic() + wait >= end:
                raise GaveUp(again, failures, late=True)
            if what:
                log.info("%s: %s; retrying in %.2f s (%d of %d failures)" % (what, again, wait, failures, attempts))
            time.sleep(wait)

"""What every S3 operation of the client shares: its signed requests, the deadline and the stop request it honours,
the skewed-clock correction, the bucket's region from HeadBucket, and the one JobError line that ends it (the
URI, what went wrong, the credential source and the endpoint; never a secret)."""

import time

from .. import log
from ..errors import JobError
from ..masking import scrub
from . import endpoints, http, retry, s3error, sigv4


class DeadlinePassed(JobError):
    """The whole fetch ran past its deadline."""


class Cancelled(JobError):
    """The caller asked the operation to stop: another transfer of the same run failed, or a signal came."""


class Call(object):
    """One operation on one bucket (``verb`` begins its error line: "cannot download s3://...")."""

    verb = "download"

    def __init__(self, uri, bucket, credentials, region, environ, deadline, request_timeout, stop=None):
        self.uri, self.bucket, self.credentials, self.environ = uri, bucket, credentials, environ
        self.region, self.deadline, self.request_timeout, self.stop = region, deadline, request_timeout, stop
        self.url = None
        self.skew, self.skew_fixed, self.keys = 0.0, False, None
        self.written, self.total = 0, None

    def where(self):
        return "(credentials: %s; endpoint %s)" % (self.credentials.source, http.shown_host(self.url))

    def fail(self, text, kind=JobError):
        if self.keys:
            text = scrub(text, self.keys.secret_key, self.keys.token)
        return kind("cannot %s %s: %s %s" % (self.verb, self.uri, text, self.where()))

    def timeout(self):
        """The time left for the next request or read; Cancelled once the caller asked to stop."""
        if self.stop is not None and self.stop.is_set():
            raise Cancelled("cannot %s %s: stopped" % (self.verb, self.uri))
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.fail("the fetch deadline passed with %d of %s bytes written" % (
                self.written, self.total if self.total is not None else "?"), DeadlinePassed)
        return min(self.request_timeout, left)

    def send(self, method, url, headers):
        try:
            self.keys = self.credentials.get()
        except http.ConnectionFailed as error:  # a source that fetches keys and failed without saying so itself
            raise self.fail("cannot get credentials: %s" % error)
        signed = sigv4.sign(method, url, headers, sigv4.EMPTY_SHA256, self.keys, self.region, "s3",
                            time.time() + self.skew)
        try:
            return http.request(method, url, signed, timeout=self.timeout(), environ=self.environ)
        except http.ConnectionFailed as error:
            raise retry.Again(str(error))

    def document(self, answer):
        """The fields of an error answer's document; a body cut short is worth another attempt."""
        try:
            return s3error.parse(answer.body(64 << 10))
        except http.ConnectionFailed as error:
            raise retry.Again(str(error))

    def retried(self, attempt, operation):
        """``attempt()`` under the retry policy; its failures as this call's one line."""
        try:
            return retry.loop(attempt, retry.S3_ATTEMPTS, lambda: self.deadline, self.uri, lambda: self.written)
        except retry.GaveUp as stop:
            if stop.late:
                raise self.fail("the fetch deadline passed; the last error: %s" % stop.last, DeadlinePassed)
            raise self.fail("%s failed %d times in a row; the last: %s" % (operation, stop.failures, stop.last))

    def fix_skew(self, answer, document, operation, detail):
        """A first RequestTimeTooSkewed: sign again with the server's clock (retry.Again, free)."""
        if document.get("Code") != "RequestTimeTooSkewed" or self.skew_fixed:
            return
        self.skew_fixed = True
        server = _server_time(answer.header("Date"), document.get("ServerTime"))
        if server is not None:
            self.skew = server - time.time()
            log.info("%s %s: the clock is %.0f s off S3's; signing with S3's time" % (operation, self.uri, -self.skew))
            raise retry.Again(detail, free=True)

    def bucket_region(self):
        """The region HeadBucket reports in x-amz-bucket-region, even on an error answer."""
        url = endpoints.s3_url(self.bucket, None, self.region, self.environ, self.uri)[0]
        try:
            answer = self.send("HEAD", url, {})
        except retry.Again:
            return None
        answer.close()
        return answer.header("x-amz-bucket-region")


def _server_time(date_header, server_time):
    import calendar
    from email.utils import mktime_tz, parsedate_tz
    parsed = parsedate_tz(date_header) if date_header else None
    if parsed:
        return float(mktime_tz(parsed))
    try:
        return float(calendar.timegm(time.strptime(server_time[:19], "%Y-%m-%dT%H:%M:%S")))
    except (TypeError, ValueError):
        return None

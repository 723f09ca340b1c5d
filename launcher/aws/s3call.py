"""What every S3 operation of the client shares: its endpoint (the configured one, read once), its signed requests,
the deadline and the stop request it honours, the corrections S3's answers call for (s3error.Corrections: the
bucket's region, S3's clock), and the one JobError line that ends it (the URI, what went wrong, the credential
source and the endpoint; never a secret)."""

import time

from ..errors import JobError
from ..masking import scrub
from . import endpoints, http, retry, s3error, sigv4

READ = object()  # a Call's ``configured`` when its caller has not read the configured endpoint


class DeadlinePassed(JobError):
    """The whole fetch ran past its deadline."""


class Cancelled(JobError):
    """The caller asked the operation to stop: another transfer of the same run failed, or a signal came."""


class Call(object):
    """One operation on one bucket, on ``key`` (None: the bucket itself); ``verb`` begins its error line
    ("cannot download s3://..."). The whole operation is one request for its corrections: each is made once.
    ``configured``: the client's configured endpoint as endpoints.configured_endpoint read it."""

    verb = "download"

    def __init__(self, uri, bucket, key, credentials, region, environ, deadline, request_timeout, stop=None,
                 configured=READ):
        self.uri, self.bucket, self.credentials, self.environ = uri, bucket, credentials, environ
        self.deadline, self.request_timeout, self.stop = deadline, request_timeout, stop
        self.key, self.keys = key, None
        self.written, self.total = 0, None
        # endpoints.configured_endpoint(environ), read once per client (it may read the config file)
        self.configured = endpoints.configured_endpoint(environ) if configured is READ else configured
        self.url, signing = self.locate(key, region)
        self.fix = s3error.Corrections(signing)  # the bucket's region and S3's clock, as learnt

    def locate(self, key, region):
        """(URL, signing region) of ``key`` (None: the bucket) in ``region``, at the configured endpoint if any."""
        return endpoints.s3_url(self.bucket, key, region, self.environ, self.uri, self.verb, self.configured)

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
        signed = sigv4.sign(method, url, headers, sigv4.EMPTY_SHA256, self.keys, self.fix.region, "s3",
                            self.fix.now())
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

    def corrected(self, operation, answer, document):
        """Whether S3's error ``answer`` calls for the request again, re-signed for the bucket's region (the URL
        then follows it) or with S3's clock: s3error.Corrections.again."""
        if not self.fix.again(operation, self.uri, answer, document, self.head_bucket):
            return False
        self.url = self.locate(self.key, self.fix.region)[0]
        return True

    def head_bucket(self):
        """HeadBucket, signed for the region we have: its x-amz-bucket-region names the bucket's."""
        return self.send("HEAD", self.locate(None, self.fix.region)[0], {})

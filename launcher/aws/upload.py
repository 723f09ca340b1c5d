"""Upload one file to S3 as boto3's S3Transfer.upload_file does, on the standard library (reference §6): a
PutObject below 8 MiB, from 8 MiB a multipart upload in 8 MiB parts. Each request is signed afresh (so
temporary credentials are refreshed during a long job) and retried on its own with backoff and jitter on
connection failures, 5xx and throttling, as retry.py classifies S3's answers; a wrong-region answer is signed
again for the bucket's region and a RequestTimeTooSkewed with S3's clock, once per request, as the download
does (s3error.Corrections); a multipart upload that fails is aborted. Memory is bounded by one part. Every
body carries Content-MD5 and an explicit Content-Type: urllib's default form type makes moto store empty
objects (§4.3)."""

import base64
import hashlib
import os
import time
from urllib.parse import quote

from .. import log
from ..errors import JobError
from ..masking import scrub
from . import endpoints, http, retry, s3error, sigv4

THRESHOLD = 8 << 20  # TransferConfig.multipart_threshold: multipart when size >= this
PART = 8 << 20       # TransferConfig.multipart_chunksize
ABORT_TIMEOUT = 5.0  # seconds for each attempt to abort an incomplete multipart upload
OCTETS = "application/octet-stream"
COMPLETE = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s</CompleteMultipartUpload>'


class UploadFailed(JobError):
    """A request failed for good, or ran past the deadline."""


class Client(object):
    """Uploads into one bucket. ``credentials``: .get() and .source; ``deadline``: () -> a time.monotonic()
    value by which every request must be over, or None (read before each request: SIGTERM sets it)."""

    def __init__(self, bucket, credentials, region, environ, deadline=lambda: None,
                 request_timeout=retry.REQUEST_TIMEOUT):
        self.bucket, self.credentials, self.region, self.environ = bucket, credentials, region, environ
        self.deadline, self.request_timeout = deadline, request_timeout
        self.configured = endpoints.configured_endpoint(environ)  # read once: it may read the config file
        # a bad endpoint or region fails here, at the start
        self.url, signing = endpoints.s3_url(bucket, "", region, environ, "s3://%s/" % bucket, "upload",
                                             self.configured)
        self.fix = s3error.Corrections(signing)  # the bucket's region and S3's clock, as learnt, for every request

    def upload(self, path, key):
        """Upload the file ``path`` (not changing while we read it: a snapshot) to ``key``; its size."""
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < THRESHOLD:
                self.call("PutObject", "PUT", key, "", f.read())
            else:
                self.multipart(f, key)
        return size

    def multipart(self, f, key):
        created = self.call("CreateMultipartUpload", "POST", key, "uploads", b"")
        upload_id = _element(created, "UploadId")
        if not upload_id:
            raise self.fail("CreateMultipartUpload", key, "the answer holds no UploadId")
        query = "uploadId=" + quote(upload_id, safe="")
        try:
            parts = []
            buffer = bytearray(PART)  # one part in memory, reused
            while True:
                n = f.readinto(buffer)
                if not n and parts:
                    break
                data = buffer if n == PART else bytes(buffer[:n])
                number = len(parts) + 1
                etag = self.call("UploadPart", "PUT", key, "partNumber=%d&%s" % (number, query), data, etag=True)
                parts.append("<Part><ETag>%s</ETag><PartNumber>%d</PartNumber></Part>" % (_xml(etag), number))
                if n < PART:
                    break
            self.call("CompleteMultipartUpload", "POST", key, query, (COMPLETE % "".join(parts)).encode(),
                      "application/xml", document=True)
        except BaseException:
            try:
                # Past the deadline too: an incomplete upload left behind is stored, and billed, until aborted.
                self.call("AbortMultipartUpload", "DELETE", key, query, None, attempts=2, fixed_timeout=ABORT_TIMEOUT)
            except JobError as error:
                log.warning("could not abort the incomplete multipart upload of %s: %s" % (key, error))
            raise

    def call(self, operation, method, key, query, body, content_type=OCTETS, etag=False, document=False,
             attempts=retry.S3_ATTEMPTS, fixed_timeout=None):
        """One operation with its retries: the ETag header (``etag``) or the answer's body. ``fixed_timeout``:
        each attempt gets that long, whatever the deadline."""
        headers = {}
        if body is not None:
            headers["Content-Type"] = content_type
            headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")
        payload = hashlib.sha256(body or b"").hexdigest()
        self.fix.fresh()  # a new request: each correction may be made once more
        try:
            return retry.loop(lambda: self.attempt(operation, method, key, query, headers, body, payload, etag,
                                                   document, fixed_timeout),
                              attempts, None if fixed_timeout else self.deadline, "%s %s" % (operation, key))
        except retry.GaveUp as stop:
            if stop.late:
                raise self.fail(operation, key, "the deadline passed; the last error: %s" % stop.last)
            raise self.fail(operation, key, "failed %d times in a row; the last: %s" % (stop.failures, stop.last))

    def attempt(self, operation, method, key, query, headers, body, payload, etag, document, fixed_timeout=None):
        timeout = fixed_timeout or self.request_timeout
        deadline = None if fixed_timeout else self.deadline()
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0:
                raise self.fail(operation, key, "the deadline passed")
        self.url = self.object_url(key)[0] + ("?" + query if query else "")  # the bucket's region, as learnt
        answer, keys = self.send(operation, key, method, self.url, headers, body, payload, timeout)
        try:
            try:
                data = answer.body(1 << 20)
            except http.ConnectionFailed as error:
                raise retry.Again("%s returned HTTP %d, then %s" % (operation, answer.status, error))
        finally:
            answer.close()
        found = s3error.parse(data) if data and answer.status < 300 and document else {}
        if 200 <= answer.status < 300 and not found.get("Code"):
            if etag:
                value = answer.header("ETag")
                if not value:
                    raise retry.Again("%s returned no ETag" % operation)
                return value
            return data
        # S3 can answer Complete with 200 and an <Error> body: botocore retries it as a 500 (§6.2)
        found = found if found.get("Code") else s3error.parse(data)
        code = found.get("Code", "")
        status = 500 if 200 <= answer.status < 300 else answer.status
        detail = s3error.describe(operation, answer.status, answer.reason, found)
        if self.fix.again(operation, "s3://%s/%s" % (self.bucket, key), answer, found,
                          lambda: self.head_bucket(operation, key, timeout)):
            raise retry.Again(detail, free=True)
        if retry.retryable(status, code):
            raise retry.Again(detail, throttled=retry.throttling(status, code))
        raise self.fail(operation, key, detail, keys)

    def send(self, operation, key, method, url, headers, body, payload, timeout):
        """The answer to one request signed now, and the keys that signed it; retry.Again when none came."""
        try:
            keys = self.credentials.get()
        except http.ConnectionFailed as error:
            raise self.fail(operation, key, "cannot get credentials: %s" % error)
        signed = sigv4.sign(method, url, headers, payload, keys, self.fix.region, "s3", self.fix.now())
        try:
            return http.request(method, url, signed, body, timeout=timeout, environ=self.environ), keys
        except http.ConnectionFailed as error:
            raise retry.Again(str(error))

    def head_bucket(self, operation, key, timeout):
        url = endpoints.s3_url(self.bucket, None, self.fix.region, self.environ, "s3://%s" % self.bucket, "upload",
                               self.configured)[0]
        return self.send(operation, key, "HEAD", url, {}, None, sigv4.EMPTY_SHA256, timeout)[0]

    def object_url(self, key):
        return endpoints.s3_url(self.bucket, key, self.fix.region, self.environ, "s3://%s/%s" % (self.bucket, key),
                                "upload", self.configured)

    def fail(self, operation, key, text, keys=None):
        if keys:
            text = scrub(text, keys.secret_key, keys.token)
        return UploadFailed("cannot upload s3://%s/%s: %s (%s; credentials: %s; endpoint %s)" % (
            self.bucket, key, text, operation, self.credentials.source, http.shown_host(self.url)))


def _element(data, name):
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
    for child in root.iter():
        if child.tag.rpartition("}")[2] == name:
            return (child.text or "").strip()
    return None


def _xml(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

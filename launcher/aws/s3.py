"""Download one S3 object to a file, as boto3 would fetch it but on the standard library.

One GetObject (no HeadObject first), asking for the object's checksum; the body streamed to the file in
bounded memory, its length checked against Content-Length, a cut connection resumed with Range (If-Match on
the ETag, so a changed object is never spliced). Bounded retries with backoff and jitter on connection
failures, 5xx and throttling; one re-signed retry for a wrong-region answer and one for a skewed clock. Every
request has a timeout and the whole download a deadline. Each failure is one JobError line: the URI, the
operation, the HTTP status, S3's error code and message, and the credential source; never a secret."""

import base64
import hashlib
import os
import struct
import time
import zlib

from ..errors import JobError
from ..masking import scrub
from . import endpoints, http, retry, s3error, sigv4

CHUNK = 1 << 20


class DeadlinePassed(JobError):
    """The whole fetch ran past its deadline."""


def parse_uri(uri):
    if not uri.startswith("s3://") or "/" not in uri[5:] or not uri[5:].split("/", 1)[0]:
        raise JobError("cannot download %s: not an s3://bucket/key URI" % uri)
    bucket, key = uri[5:].split("/", 1)
    if not key:
        raise JobError("cannot download %s: the URI names a bucket, not an object" % uri)
    return bucket, key


class _Checksum:
    """The first full-object checksum S3 sent that the standard library can compute (CRC32, SHA-256, SHA-1);
    CRC32C and CRC64NVME cannot be, and composite (multipart) checksums cover parts, not the object."""

    def __init__(self, answer):
        self.name = self.expected = self._hash = None
        self._crc = 0
        if (answer.header("x-amz-checksum-type") or "FULL_OBJECT").upper() != "FULL_OBJECT":
            return
        for name in ("crc32", "sha256", "sha1"):
            value = answer.header("x-amz-checksum-" + name)
            if value and "-" not in value:
                self.name, self.expected = name, value.strip()
                self._hash = None if name == "crc32" else hashlib.new(name)
                return

    def update(self, data):
        if self._hash is not None:
            self._hash.update(data)
        elif self.name:
            self._crc = zlib.crc32(data, self._crc)

    def actual(self):
        digest = self._hash.digest() if self._hash is not None else struct.pack(">I", self._crc & 0xFFFFFFFF)
        return base64.b64encode(digest).decode("ascii")


class _Download:
    def __init__(self, uri, out, credentials, region, environ, deadline, request_timeout):
        self.uri, self.out, self.credentials, self.environ, self.deadline = uri, out, credentials, environ, deadline
        self.request_timeout = request_timeout
        self.bucket, self.key = parse_uri(uri)
        self.configured = endpoints.configured_endpoint(environ)  # read once: it may read the config file
        self.url, signing = endpoints.s3_url(self.bucket, self.key, region, environ, uri, configured=self.configured)
        self.fix = s3error.Corrections(signing)  # the whole download is one request: each correction once
        self.written, self.total, self.etag, self.checksum, self.keys = 0, None, None, None, None

    def where(self):
        return "(credentials: %s; endpoint %s)" % (self.credentials.source, http.shown_host(self.url))

    def fail(self, text, kind=JobError):
        if self.keys:
            text = scrub(text, self.keys.secret_key, self.keys.token)
        return kind("cannot download %s: %s %s" % (self.uri, text, self.where()))

    def timeout(self):
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

    def run(self):
        try:
            return retry.loop(self.attempt, retry.S3_ATTEMPTS, lambda: self.deadline, self.uri, lambda: self.written)
        except retry.GaveUp as stop:
            if stop.late:
                raise self.fail("the fetch deadline passed; the last error: %s" % stop.last, DeadlinePassed)
            raise self.fail("GetObject failed %d times in a row; the last: %s" % (stop.failures, stop.last))

    def attempt(self):
        headers = {"x-amz-checksum-mode": "ENABLED"}
        if self.written:
            headers["Range"] = "bytes=%d-" % self.written
            if self.etag:
                headers["If-Match"] = self.etag
        answer = self.send("GET", self.url, headers)
        try:
            if answer.status == 200 or (answer.status == 206 and self.written):
                return self.stream(answer)
            self.refuse(answer)
        finally:
            answer.close()

    def stream(self, answer):
        if answer.status == 200:  # a first answer, or a server that ignored Range: start over
            self.out.seek(0)
            self.out.truncate()
            self.written, self.etag, self.checksum = 0, answer.header("ETag"), _Checksum(answer)
            length = answer.header("Content-Length")
            self.total = int(length) if length and length.strip().isdigit() else None
        else:
            first, _, size = (answer.header("Content-Range") or "").replace("bytes ", "").partition("/")
            if first.split("-")[0] != str(self.written) or (self.total is not None and size != str(self.total)):
                raise self.fail("GetObject answered Range bytes=%d- with Content-Range %r"
                                % (self.written, answer.header("Content-Range")))
        buffer = memoryview(bytearray(CHUNK))
        while True:
            self.timeout()
            try:
                n = answer.readinto(buffer)
            except http.ConnectionFailed as error:
                raise retry.Again("%s after %d bytes" % (error, self.written))
            if not n:
                break
            self.out.write(buffer[:n])
            self.checksum.update(buffer[:n])
            self.written += n
        if self.total is not None and self.written != self.total:
            raise retry.Again("the body ended after %d of %d bytes" % (self.written, self.total))
        if self.checksum.name and self.checksum.actual() != self.checksum.expected:
            detail = "the body's %s is %s, S3 sent %s" % (self.checksum.name.upper(), self.checksum.actual(),
                                                          self.checksum.expected)
            self.written = 0
            raise retry.Again(detail)
        return self.written

    def refuse(self, answer):
        """Raise the right thing for an answer that is not the object."""
        document = s3error.parse(answer.body(64 << 10)) if answer.status != 304 else {}
        code = document.get("Code", "")
        detail = s3error.describe("GetObject", answer.status, answer.reason, document)
        if self.written:
            detail = "after %d of %s bytes, %s" % (self.written, self.total, detail)
        if self.fix.again("GetObject", self.uri, answer, document, self.head_bucket):
            self.url = endpoints.s3_url(self.bucket, self.key, self.fix.region, self.environ, self.uri,
                                        configured=self.configured)[0]
            raise retry.Again(detail, free=True)
        if answer.status == 412 and self.written:  # If-Match failed: the object changed; start over
            self.written = 0
            raise retry.Again("the object changed during the download")
        if retry.retryable(answer.status, code):
            raise retry.Again(detail, throttled=retry.throttling(answer.status, code))
        raise self.fail(detail)

    def head_bucket(self):
        url = endpoints.s3_url(self.bucket, None, self.fix.region, self.environ, self.uri, configured=self.configured)
        return self.send("HEAD", url[0], {})


def download(uri, dest_path, credentials, region, environ, deadline, request_timeout=retry.REQUEST_TIMEOUT):
    """Fetch ``uri`` (s3://bucket/key) into ``dest_path`` and return the bytes written; the file is removed
    again if the download fails. ``credentials`` has ``.get()`` (access_key, secret_key, token) and ``.source``;
    ``deadline`` is a time.monotonic() value for the whole download; ``request_timeout`` bounds each connection
    and each read within it."""
    try:
        out = open(dest_path, "wb")
    except OSError as error:
        raise JobError("cannot download %s: cannot write %s: %s" % (uri, dest_path, error.strerror or error))
    with out:
        done = False
        try:
            written = _Download(uri, out, credentials, region, environ, deadline, request_timeout).run()
            done = True
            return written
        finally:
            if not done:
                out.close()
                os.unlink(dest_path)

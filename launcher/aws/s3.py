"""Download one S3 object, or one byte range of it, to a file, as boto3 would fetch it but on the standard library.

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
import zlib

from ..errors import JobError
from . import http, retry, s3error
from .s3call import READ, Call, Cancelled, DeadlinePassed  # noqa: F401 - the callers' names for them

CHUNK = 1 << 20


def parse_uri(uri):
    if not uri.startswith("s3://") or "/" not in uri[5:] or not uri[5:].split("/", 1)[0]:
        raise JobError("cannot download %s: not an s3://bucket/key URI" % uri)
    bucket, key = uri[5:].split("/", 1)
    if not key:
        raise JobError("cannot download %s: the URI names a bucket, not an object" % uri)
    return bucket, key


class _Checksum:
    """The first full-object checksum S3 sent that the standard library can compute (CRC32, SHA-256, SHA-1);
    CRC32C and CRC64NVME cannot be, and composite (multipart) checksums cover parts, not the object. None for
    a byte range, which has no checksum of its own."""

    def __init__(self, answer):
        self.name = self.expected = self._hash = None
        self._crc = 0
        if answer is None or (answer.header("x-amz-checksum-type") or "FULL_OBJECT").upper() != "FULL_OBJECT":
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


class _Download(Call):
    """The object whole (``span`` None), or ``span`` = (first byte, length) of it written at the same offset."""

    def __init__(self, uri, out, credentials, region, environ, deadline, request_timeout, etag=None, span=None,
                 stop=None, progress=None, configured=READ):
        self.bucket, self.key = parse_uri(uri)
        Call.__init__(self, uri, self.bucket, self.key, credentials, region, environ, deadline, request_timeout, stop,
                      configured)
        self.out, self.etag, self.expected, self.progress = out, etag, etag, progress
        self.first, self.total = span if span is not None else (0, None)
        self.span = span is not None
        self.checksum = _Checksum(None)

    def run(self):
        return self.retried(self.attempt, "GetObject")

    def attempt(self):
        headers = {} if self.span else {"x-amz-checksum-mode": "ENABLED"}
        ranged = self.span or self.written
        if ranged:
            last = "" if self.total is None or not self.span else str(self.first + self.total - 1)
            headers["Range"] = "bytes=%d-%s" % (self.first + self.written, last)
        if self.etag:
            headers["If-Match"] = self.etag
        answer = self.send("GET", self.url, headers)
        try:
            if (answer.status == 200 and not self.span) or (answer.status == 206 and ranged):
                return self.stream(answer)
            self.refuse(answer)
        finally:
            answer.close()

    def stream(self, answer):
        if answer.status == 200:  # a first answer, or a server that ignored Range: start over
            self.restart()
            self.out.seek(0)
            self.out.truncate()
            self.etag, self.checksum = answer.header("ETag"), _Checksum(answer)
            if self.expected and self.etag != self.expected:
                raise self.fail("GetObject answered with ETag %s, not %s: the object changed" % (self.etag,
                                                                                                 self.expected))
            length = answer.header("Content-Length")
            self.total = int(length) if length and length.strip().isdigit() else None
        else:
            first, _, size = (answer.header("Content-Range") or "").replace("bytes ", "").partition("/")
            length = answer.header("Content-Length")
            if first.split("-")[0] != str(self.first + self.written) or (
                    not self.span and self.total is not None and size != str(self.total)) or (
                    self.span and length != str(self.total - self.written)):
                raise self.fail("GetObject answered Range bytes=%d- with Content-Range %r%s"
                                % (self.first + self.written, answer.header("Content-Range"),
                                   " and Content-Length %r" % length if self.span else ""))
        self.out.seek(self.first + self.written)
        self.pump(answer)
        if self.total is not None and self.written != self.total:
            raise retry.Again("the body ended after %d of %d bytes" % (self.written, self.total))
        if self.checksum.name and self.checksum.actual() != self.checksum.expected:
            detail = "the body's %s is %s, S3 sent %s" % (self.checksum.name.upper(), self.checksum.actual(),
                                                          self.checksum.expected)
            self.restart()
            raise retry.Again(detail)
        return self.written

    def pump(self, answer):
        """The body into the file, a piece at a time, into one buffer reused for every piece."""
        buffer = memoryview(bytearray(CHUNK))
        while True:
            self.timeout()
            try:
                n = answer.readinto(buffer)
            except http.ConnectionFailed as error:  # resumed from here with Range
                raise retry.Again("%s after %d bytes" % (error, self.written))
            if not n:
                return
            self.out.write(buffer[:n])
            self.checksum.update(buffer[:n])
            self.written += n
            if self.progress is not None:
                self.progress(n)

    def restart(self):
        """Back to the first byte: what was counted as progress is taken back."""
        if self.progress is not None and self.written:
            self.progress(-self.written)
        self.written = 0

    def refuse(self, answer):
        """Raise the right thing for an answer that is not the object."""
        document = self.document(answer) if answer.status != 304 else {}
        code = document.get("Code", "")
        detail = s3error.describe("GetObject", answer.status, answer.reason, document)
        if answer.status == 200:
            raise self.fail("GetObject ignored the Range header: the server sent the whole object")
        if self.written:
            detail = "after %d of %s bytes, %s" % (self.written, self.total, detail)
        if self.corrected("GetObject", answer, document):
            raise retry.Again(detail, free=True)
        if answer.status == 412 and self.expected:
            raise self.fail("the object changed after it was listed (its ETag is no longer %s); run again"
                            % self.expected)
        if answer.status == 412 and self.written:  # If-Match failed: the object changed; start over
            self.restart()
            raise retry.Again("the object changed during the download")
        if retry.retryable(answer.status, code):
            raise retry.Again(detail, throttled=retry.throttling(answer.status, code))
        raise self.fail(detail)


def download(uri, dest_path, credentials, region, environ, deadline, request_timeout=retry.REQUEST_TIMEOUT,
             etag=None, stop=None, progress=None, configured=READ):
    """Fetch ``uri`` (s3://bucket/key) into ``dest_path`` and return the bytes written; the file is removed
    again if the download fails. ``credentials`` has ``.get()`` (access_key, secret_key, token) and ``.source``;
    ``deadline`` is a time.monotonic() value for the whole download; ``request_timeout`` bounds each connection
    and each read within it. With ``etag`` (as listed) every request asks for that version (If-Match); ``stop``
    (a threading.Event) ends it with Cancelled between pieces; ``progress(n)`` is told of each piece written;
    ``configured``: the client's endpoints.configured_endpoint(environ), read once (else read here)."""
    try:
        out = open(dest_path, "wb")
    except OSError as error:
        raise JobError("cannot download %s: cannot write %s: %s" % (uri, dest_path, error.strerror or error))
    with out:
        done = False
        try:
            written = _Download(uri, out, credentials, region, environ, deadline, request_timeout, etag, None,
                                stop, progress, configured).run()
            done = True
            return written
        finally:
            if not done:
                out.close()
                os.unlink(dest_path)


def download_part(uri, dest_path, first, length, etag, credentials, region, environ, deadline, stop=None,
                  progress=None, request_timeout=retry.REQUEST_TIMEOUT, configured=READ):
    """Fetch bytes ``first`` to ``first + length - 1`` of the object (its version ``etag``, as listed) into the
    same bytes of ``dest_path``, a file the caller made; on failure the caller removes it. Several parts of one
    object may be fetched at once, each by its own call."""
    try:
        out = open(dest_path, "r+b")
    except OSError as error:
        raise JobError("cannot download %s: cannot write %s: %s" % (uri, dest_path, error.strerror or error))
    with out:
        return _Download(uri, out, credentials, region, environ, deadline, request_timeout, etag, (first, length),
                         stop, progress, configured).run()

"""ListObjectsV2: every object under a prefix, page by page with the continuation token, in key order.

The same endpoint, signed requests, retries, deadline, clock correction and one-line errors as the download. A
bucket in another region than the client's is not followed but reported (OtherRegion): a SageMaker job reads its
channels from its own region."""

from urllib.parse import quote, unquote_plus

from ..errors import JobError
from . import http, retry, s3error
from .s3call import READ, Call

PAGE = 1000  # S3's most keys a page


class OtherRegion(JobError):
    """The bucket answered that it lives in ``bucket_region``, not in the region the client signed for."""

    def __init__(self, message, bucket_region, region):
        JobError.__init__(self, message)
        self.bucket_region, self.region = bucket_region, region


class _Listing(Call):
    verb = "list"

    def __init__(self, uri, bucket, prefix, credentials, region, environ, deadline, request_timeout, stop,
                 configured=READ):
        Call.__init__(self, uri, bucket, None, credentials, region, environ, deadline, request_timeout, stop,
                      configured)
        self.prefix, self.token = prefix, None

    def page(self):
        """(objects of the next page as (key, size, etag), whether more follow)."""
        self.fix.fresh()  # a new request: S3's clock may be corrected once more
        return self.retried(self.attempt, "ListObjectsV2")

    def attempt(self):
        query = [("list-type", "2"), ("encoding-type", "url"), ("max-keys", str(PAGE)), ("prefix", self.prefix)]
        if self.token:
            query.append(("continuation-token", self.token))
        url = self.url + "?" + "&".join("%s=%s" % (name, quote(value, safe="-_.~")) for name, value in query)
        answer = self.send("GET", url, {})
        try:
            if answer.status != 200:
                self.refuse(answer)
            try:
                body = answer.body(16 << 20)
            except http.ConnectionFailed as error:
                raise retry.Again(str(error))
        finally:
            answer.close()
        return self.read(body)

    def read(self, body):
        from xml.etree import ElementTree

        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as error:
            raise retry.Again("ListObjectsV2 sent a document that does not parse: %s" % error)
        found, more = [], False
        for child in root:
            tag = child.tag.rpartition("}")[2]
            if tag == "Contents":
                fields = {item.tag.rpartition("}")[2]: item.text or "" for item in child}
                size = fields.get("Size", "")
                if "Key" not in fields or not size.isdigit():
                    raise self.fail("ListObjectsV2 sent an object without a key or a size")
                found.append((unquote_plus(fields["Key"]), int(size), fields.get("ETag", "")))
            elif tag == "IsTruncated":
                more = (child.text or "").strip() == "true"
            elif tag == "NextContinuationToken":
                self.token = child.text or ""
        if more and not self.token:
            raise self.fail("ListObjectsV2 said more objects follow but sent no continuation token")
        return found, more

    def refuse(self, answer):
        document = self.document(answer)
        code = document.get("Code", "")
        detail = s3error.describe("ListObjectsV2", answer.status, answer.reason, document)
        region = self.fix.elsewhere(answer, document, self.head_bucket)
        if region:
            raise OtherRegion(self.fail("the bucket is in %s, not in %s" % (region, self.fix.region)).args[0],
                              region, self.fix.region)
        if self.corrected("ListObjectsV2", answer, document):
            raise retry.Again(detail, free=True)
        if retry.retryable(answer.status, code):
            raise retry.Again(detail, throttled=retry.throttling(answer.status, code))
        raise self.fail(detail)


def list_objects(uri, bucket, prefix, credentials, region, environ, deadline, stop=None,
                 request_timeout=retry.REQUEST_TIMEOUT, configured=READ):
    """Yield (key, size, etag) of every object whose key starts with ``prefix``, in key order, a page at a time:
    a caller that has enough stops asking. ``uri`` names the listing in errors; the rest as s3.download."""
    listing = _Listing(uri, bucket, prefix, credentials, region, environ, deadline, request_timeout, stop,
                       configured)
    while True:
        found, more = listing.page()
        for item in found:
            yield item
        if not more:
            return

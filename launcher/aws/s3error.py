"""An S3 error answer, read the same way by the download, the listing and the upload: the fields of its XML error
document, the one line that says what went wrong, and the two answers worth the request again, re-signed (a wrong
region, a skewed clock)."""

import time

from .. import log
from .retry import Again


def parse(body):
    """{Code, Message, Region, ServerTime, ...} of an S3 XML error body; {} when there is none."""
    if not body.strip():
        return {}
    from xml.etree import ElementTree
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return {}
    return {child.tag.rpartition("}")[2]: (child.text or "").strip() for child in root}


def describe(operation, status, reason, document):
    """'<operation> returned HTTP <status> <Code>: <Message>' (the reason when there is no document) on one
    line of at most 600 characters."""
    code = document.get("Code", "")
    text = "%s returned HTTP %d %s" % (operation, status, (code + ": " + document.get("Message", ""))
                                       if code else reason + " (no error document)")
    return " ".join(text.split())[:600]


REDIRECTS = frozenset(("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"))


class Corrections(object):
    """What an S3 client learns from S3's answers, as botocore learns it: the bucket's region from a wrong-region
    answer (its S3RegionRedirectorv2) and S3's clock from RequestTimeTooSkewed. Each is corrected at most once per
    request (``fresh`` starts one) and then kept for the client's later requests. Shared by the download, the
    listing (s3call.Call) and the upload, which sign with ``region`` at ``now()``."""

    def __init__(self, region):
        self.region, self.skew = region, 0.0
        self.fresh()

    def fresh(self):
        self.redirected = self.skew_fixed = False

    def now(self):
        return time.time() + self.skew

    def again(self, operation, what, answer, document, head_bucket):
        """Whether the error ``answer`` (``document``: its parsed error document) is worth the request again at
        once, re-signed: for the bucket's region (its x-amz-bucket-region header, else the document's Region,
        else what ``head_bucket()`` answers: HeadBucket, signed for the region we had, or retry.Again) or with
        S3's clock (the Date header, else the document's ServerTime). Logged."""
        region = self.elsewhere(answer, document, head_bucket)
        if region:
            log.info("%s %s: the bucket is in %s, not %s; asking there" % (operation, what, region, self.region))
            self.region = region
            return True
        if document.get("Code") == "RequestTimeTooSkewed" and not self.skew_fixed:
            self.skew_fixed = True
            server = _server_time(answer.header("Date"), document.get("ServerTime"))
            if server is not None:
                self.skew = server - time.time()
                log.info("%s %s: the clock is %.0f s off S3's; signing with S3's time" % (operation, what, -self.skew))
                return True
        return False

    def elsewhere(self, answer, document, head_bucket):
        """The bucket's region when ``answer`` is the request's first wrong-region answer and names (or HeadBucket
        names) a region other than ``region``; else None. ``again`` asks it first; the listing, which reports a
        bucket in another region rather than follow it, asks it before ``again``."""
        if self.redirected or not (answer.status in (301, 302, 307) or document.get("Code", "") in REDIRECTS):
            return None
        self.redirected = True
        region = answer.header("x-amz-bucket-region") or document.get("Region") or _bucket_region(head_bucket)
        return region if region and region != self.region else None


def _bucket_region(head_bucket):
    """The region HeadBucket reports in x-amz-bucket-region, even on an error answer; None without an answer."""
    try:
        answer = head_bucket()
    except Again:
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

"""AWS Signature Version 4 in a header, byte-identical to botocore's signers.

Service "s3" is botocore's S3SigV4Auth: the path is signed exactly as sent and X-Amz-Content-SHA256 is always
set and signed. Any other service ("sts", "codeartifact") is SigV4Auth: dot segments and empty segments are
removed from the path and it is percent-encoded a second time. The query is canonicalised from the decoded
names and values, as botocore does from a request's parameters."""

import hashlib
import hmac
import time
from urllib.parse import quote, unquote, urlsplit

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
ALGORITHM = "AWS4-HMAC-SHA256"
# Hop-by-hop and tracing headers botocore never signs.
UNSIGNED = frozenset(("baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
                      "te", "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade", "user-agent",
                      "x-amzn-trace-id"))


def amz_date(when):
    """``YYYYMMDDTHHMMSSZ`` for a datetime (naive means UTC) or epoch seconds."""
    if isinstance(when, (int, float)):
        return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
    if when.tzinfo is not None:
        import datetime
        when = when.astimezone(datetime.timezone.utc)
    return when.strftime("%Y%m%dT%H%M%SZ")


def _remove_dot_segments(path):
    kept = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and kept else ""
    return first + "/".join(kept) + last


def canonical_uri(path, service):
    if service == "s3":
        return path
    return quote(_remove_dot_segments(path) if path else "/", safe="/~")


def canonical_query(query):
    pairs = []
    for pair in query.split("&") if query else ():
        name, _, value = pair.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join("%s=%s" % pair for pair in sorted(pairs))


def host_header(parts):
    """The Host value botocore signs (``parts`` from urlsplit): the host in lower case (IPv6 in brackets), with a
    port only when it is not the scheme's default. http.request sends the same."""
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = "[%s]" % host
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme.lower()):
        host = "%s:%d" % (host, parts.port)
    return host


def _signed(headers, parts):
    """{lower-case name: [values]} of the headers that are signed, host added as botocore derives it."""
    signed = {}
    for name, value in headers:
        if name.lower() not in UNSIGNED:
            signed.setdefault(name.lower(), []).append(value)
    if "host" not in signed:
        signed["host"] = [host_header(parts)]
    return signed


def canonical_request(method, url, headers, payload_sha256, service):
    """The canonical request and the SignedHeaders list; ``headers`` is a list of (name, value) pairs."""
    parts = urlsplit(url)
    signed = _signed(headers, parts)
    names = sorted(signed)
    lines = ["%s:%s" % (name, ",".join(" ".join(v.split()) for v in signed[name])) for name in names]
    for name, value in headers:
        if name.lower() == "x-amz-content-sha256":
            payload_sha256 = value
            break
    signed_names = ";".join(names)
    text = "\n".join([method.upper(), canonical_uri(parts.path, service), canonical_query(parts.query),
                      "\n".join(lines) + "\n", signed_names, payload_sha256])
    return text, signed_names


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256)


def signature(secret_key, scope, string_to_sign):
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in scope.split("/"):
        key = _hmac(key, part).digest()
    return _hmac(key, string_to_sign).hexdigest()


def sign(method, url, headers, payload_sha256, credentials, region, service, when):
    """The request's headers with the signature added, in the form they came (a dict, or a list of pairs).

    A ``Date`` header is rewritten to the signing time and then replaces X-Amz-Date, as botocore does."""
    pairs = list(headers.items() if hasattr(headers, "items") else headers)
    stamp = amz_date(when)
    drop = {"authorization", "x-amz-date"}
    if credentials.token:
        drop.add("x-amz-security-token")
    if service == "s3":
        drop.add("x-amz-content-sha256")
    has_date = any(name.lower() == "date" for name, _ in pairs)
    if has_date:
        drop.add("date")
    pairs = [(name, value) for name, value in pairs if name.lower() not in drop]
    if has_date:
        import calendar
        from email.utils import formatdate
        pairs.append(("Date", formatdate(calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")))))
    else:
        pairs.append(("X-Amz-Date", stamp))
    if credentials.token:
        pairs.append(("X-Amz-Security-Token", credentials.token))
    if service == "s3":
        pairs.append(("X-Amz-Content-SHA256", payload_sha256))
    creq, signed_names = canonical_request(method, url, pairs, payload_sha256, service)
    scope = "%s/%s/%s/aws4_request" % (stamp[:8], region, service)
    string_to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    pairs.append(("Authorization", "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        ALGORITHM, credentials.access_key, scope, signed_names, signature(credentials.secret_key, scope,
                                                                          string_to_sign))))
    return dict(pairs) if hasattr(headers, "items") else pairs

"""Where an S3 request goes: the endpoint settings in botocore's order, then the regional endpoint with
botocore's addressing rules. Pure: a function of the bucket, the key, the region and the environment."""

from urllib.parse import quote, urlsplit

from ..errors import JobError

# Partition DNS suffixes by region prefix, longest first (botocore's partitions.json); anything else is "aws".
_SUFFIXES = (("us-isob-", "sc2s.sgov.gov"), ("us-isof-", "csp.hci.ic.gov"), ("us-iso-", "c2s.ic.gov"),
             ("eu-isoe-", "cloud.adc-e.uk"), ("eusc-", "amazonaws.eu"), ("cn-", "amazonaws.com.cn"))
_LABEL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def _is_label(text):
    return 0 < len(text) <= 63 and set(text) <= _LABEL and text[0] != "-" and text[-1] != "-"


def _is_ipv4(text):
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def virtual_hostable(bucket):
    """botocore's isVirtualHostableS3Bucket without sub-domains: a lower-case DNS label of 3 to 63 characters."""
    return len(bucket) >= 3 and bucket == bucket.lower() and not _is_ipv4(bucket) and _is_label(bucket)


def dns_suffix(region):
    for prefix, suffix in _SUFFIXES:
        if region.startswith(prefix):
            return suffix
    return "amazonaws.com"


def configured_endpoint(environ):
    """(name, URL) of the endpoint setting that applies, or None: the toolkit's S3_ENDPOINT_URL, then botocore's
    AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL (which AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns off)."""
    names = ["S3_ENDPOINT_URL"]
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() != "true":
        names += ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
    for name in names:
        if environ.get(name):
            return name, environ[name]
    return None


def s3_url(bucket, key, region, environ, uri, action="download"):
    """(object URL, signing region) for ``key`` in ``bucket`` (the bucket's own URL for key None). A configured
    endpoint is used path-style, as botocore does with an endpoint_url; otherwise virtual-hosted where the name
    allows it, and us-east-1 on the legacy global host unless AWS_S3_US_EAST_1_REGIONAL_ENDPOINT=regional."""
    path = "/" + quote(key, safe="/~") if key is not None else ""
    configured = configured_endpoint(environ)
    if region and not (_is_label(region) and not region.isdigit()):
        raise JobError("cannot %s %s: the region %r is not a valid region name" % (action, uri, region))
    if configured:
        name, endpoint = configured
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise JobError("cannot %s %s: %s=%s is not an http(s) URL" % (action, uri, name, endpoint))
        base = "%s://%s%s" % (parts.scheme, parts.netloc, parts.path.rstrip("/"))
        return "%s/%s%s" % (base, quote(bucket, safe="~"), path), region or "us-east-1"
    if not region:
        raise JobError("cannot %s %s: Invalid endpoint: https://s3..amazonaws.com (no region: AWS_REGION and "
                       "SAGEMAKER_REGION are empty)" % (action, uri))
    regional = environ.get("AWS_S3_US_EAST_1_REGIONAL_ENDPOINT", "").strip().lower() == "regional"
    if region == "us-east-1" and not regional:
        host = "s3.amazonaws.com"
    else:
        host = "s3.%s.%s" % (region, dns_suffix(region))
    if virtual_hostable(bucket):
        return "https://%s.%s%s" % (bucket, host, path or "/"), region
    return "https://%s/%s%s" % (host, quote(bucket, safe="~"), path), region


def client_region(environ):
    """The region of the toolkit's S3 clients: AWS_REGION when it is set (even empty), else SAGEMAKER_REGION."""
    return environ["AWS_REGION"] if "AWS_REGION" in environ else environ.get("SAGEMAKER_REGION", "")

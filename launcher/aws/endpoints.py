"""Where an AWS request goes: the configured endpoint URL as botocore resolves it (the variables, the config
file's profile and services sections), then for S3 the regional endpoint with botocore's addressing rules."""

from urllib.parse import quote, urlsplit

from ..core import awsfiles
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


def configured_endpoint(environ, service="s3"):
    """(where it is set, URL) of the endpoint URL configured for ``service`` ("s3", "sts", "codeartifact"), or
    None, as botocore 1.44's ConfiguredEndpointProvider finds it: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
    the `<service>` sub-section's endpoint_url in the [services NAME] section the profile's `services` names, the
    profile's endpoint_url; the first that is not empty. None of them when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
    when set (even empty), else the profile's ignore_configured_endpoint_urls, is "true" in any case. For S3 the
    toolkit's S3_ENDPOINT_URL, its client's endpoint_url, comes first and is never ignored. The files are read
    whatever the variables say, as boto3 reads them: a missing profile or services section is a JobError."""
    files = awsfiles.Files(environ)
    values, profile = files.scoped(), files.name()
    if service == "s3" and environ.get("S3_ENDPOINT_URL"):
        return "S3_ENDPOINT_URL", environ["S3_ENDPOINT_URL"]
    ignore = environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", values.get("ignore_configured_endpoint_urls"))
    if isinstance(ignore, str) and ignore.lower() == "true":  # botocore's ensure_boolean: no stripping
        return None
    for name in ("AWS_ENDPOINT_URL_" + service.upper(), "AWS_ENDPOINT_URL"):
        if environ.get(name):
            return name, environ[name]
    section = files.value(values, "services", profile)
    if section is not None:
        where = "%s: [services %s]" % (files.config_file, section)
        found = files.services.get(section)
        if not found:
            raise JobError("%s: profile %s names services %s, but the config file has no such section, so boto3 "
                           "cannot start" % (files.path_of("services", profile), awsfiles.quote(profile),
                                             awsfiles.quote(section)))
        if not isinstance(found.get(service, {}), dict):
            raise JobError("%s: '%s' is a value, not a sub-section of `key = value` lines" % (where, service))
        if found.get(service, {}).get("endpoint_url"):
            return "%s %s.endpoint_url" % (where, service), found[service]["endpoint_url"]
    url = files.value(values, "endpoint_url", profile)
    if url:
        return "%s: profile %s: endpoint_url" % (files.path_of("endpoint_url", profile), awsfiles.quote(profile)), url
    return None


def checked(configured, context):
    """The URL of ``configured`` (configured_endpoint's answer), which must be http(s) with a host; a JobError
    beginning with ``context`` otherwise."""
    where, url = configured
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise JobError("%s: %s=%s is not an http(s) URL" % (context, where, url))
    return url


_READ = object()  # s3_url's ``configured`` when the caller has not read it


def s3_url(bucket, key, region, environ, uri, action="download", configured=_READ):
    """(object URL, signing region) for ``key`` in ``bucket`` (the bucket's own URL for key None). A configured
    endpoint is used path-style, as botocore does with an endpoint_url; otherwise virtual-hosted where the name
    allows it, and us-east-1 on the legacy global host unless AWS_S3_US_EAST_1_REGIONAL_ENDPOINT=regional.
    ``configured``: configured_endpoint(environ), which a client reads once (it may read the config file)."""
    path = "/" + quote(key, safe="/~") if key is not None else ""
    configured = configured_endpoint(environ) if configured is _READ else configured
    if region and not (_is_label(region) and not region.isdigit()):
        raise JobError("cannot %s %s: the region %r is not a valid region name" % (action, uri, region))
    if configured:
        parts = urlsplit(checked(configured, "cannot %s %s" % (action, uri)))
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

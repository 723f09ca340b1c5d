"""The two credential endpoints on the host: the container endpoint (ECS, SageMaker training, EKS Pod
Identity) and the EC2 instance metadata service, with botocore 1.44's protocols, timeouts and attempts
(botocore utils.py ContainerMetadataFetcher, IMDSFetcher, InstanceMetadataFetcher).

The link-local addresses are never contacted by a test: the relative URI's host can be replaced with
SM_TRAIN_CONTAINER_CREDENTIALS_HOST (sm-train's own), IMDS's base with AWS_EC2_METADATA_SERVICE_ENDPOINT
(botocore's)."""

import json
import random
import time
from urllib.parse import urlsplit

from ..core.awsfiles import quote
from ..errors import JobError
from ..masking import scrub
from . import http

CONTAINER_HOST = "169.254.170.2"
CONTAINER_HOST_OVERRIDE = "SM_TRAIN_CONTAINER_CREDENTIALS_HOST"  # checked with the options (options.host)
RELATIVE = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
FULL = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
_ALLOWED_HOSTS = ("169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost")
CONTAINER_TIMEOUT, CONTAINER_ATTEMPTS, CONTAINER_SLEEP = 2.0, 3, 1.0
IMDS_BASE, IMDS_BASE_V6 = "http://169.254.169.254/", "http://[fd00:ec2::254]/"
IMDS_ROLE_PATH = "latest/meta-data/iam/security-credentials/"
IMDS_REQUIRED = ("AccessKeyId", "SecretAccessKey", "Token", "Expiration")
STATIC_STABILITY_WINDOW = 15 * 60  # botocore's ec2_credential_refresh_window (its advisory refresh time)
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


class Container(object):
    """Credentials from AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (preferred) or _FULL_URI."""

    def __init__(self, environ):
        self.environ = environ
        if RELATIVE in environ:
            self.variable = RELATIVE
            host = environ.get(CONTAINER_HOST_OVERRIDE) or CONTAINER_HOST
            self.url = "http://%s%s" % (host, environ[RELATIVE])
        else:
            self.variable = FULL
            self.url = environ[FULL]
        self.where = "container endpoint (%s, host %s)" % (self.variable, urlsplit(self.url).hostname)
        # botocore's container fetcher sends no proxy: the endpoint is on the host.
        self.direct = {k: v for k, v in environ.items() if k.lower() not in _PROXY_VARIABLES}

    def _check_host(self):
        if self.variable == RELATIVE:
            return
        parts = urlsplit(self.url)
        if parts.scheme == "https" or _is_loopback(parts.hostname) or parts.hostname in _ALLOWED_HOSTS:
            return
        raise JobError("%s: unsupported host %s; botocore fetches only over https, from a loopback address or "
                       "from %s" % (self.where, quote(parts.hostname), ", ".join(_ALLOWED_HOSTS)))

    def _token(self):
        """AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch) wins over the variable."""
        name = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
        if name in self.environ:
            try:
                with open(self.environ[name]) as f:
                    token = f.read()
            except (OSError, UnicodeDecodeError) as e:
                raise JobError("%s: cannot read %s=%s: %s" % (self.where, name, self.environ[name],
                                                               getattr(e, "strerror", None) or e))
        elif "AWS_CONTAINER_AUTHORIZATION_TOKEN" in self.environ:
            name = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
            token = self.environ[name]
        else:
            return None
        if "\r" in token or "\n" in token:
            raise JobError("%s: the token of %s holds a CR or LF (a trailing newline?); botocore refuses it as a "
                           "header value" % (self.where, name))
        return token

    def fetch(self):
        """The credentials dict (access_key, secret_key, token, expiry text); JobError after 3 attempts."""
        self._check_host()
        headers = {"Accept": "application/json"}
        token = self._token()
        if token is not None:
            headers["Authorization"] = token
        for attempt in range(CONTAINER_ATTEMPTS):
            if attempt:
                time.sleep(CONTAINER_SLEEP)
            try:
                doc = _get_json(self.url, headers, CONTAINER_TIMEOUT, self.direct, secret=token)
                break
            except _Failed as e:
                failure = e
        else:
            raise JobError("%s: %s (%d attempts)" % (self.where, failure, CONTAINER_ATTEMPTS))
        return _credentials(doc, ("AccessKeyId", "SecretAccessKey", "Token", "Expiration"), self.where)


class InstanceMetadata(object):
    """IMDSv2 (a token from PUT latest/api/token) with botocore's fallback to v1 on 403/404/405 or a timeout."""

    def __init__(self, environ, profile):
        def setting(variable, key, default=None):
            if variable in environ:
                return environ[variable]
            if isinstance(profile.get(key), dict):
                raise JobError("instance metadata service: the profile's '%s' is a sub-section, not a value" % key)
            return profile.get(key, default)

        self.environ = environ
        self.disabled = environ.get("AWS_EC2_METADATA_DISABLED", "false").lower() == "true"
        self.timeout = _number(setting("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout", 1),
                               "AWS_METADATA_SERVICE_TIMEOUT")
        self.attempts = _number(setting("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts", 1),
                                "AWS_METADATA_SERVICE_NUM_ATTEMPTS")
        self.v1_disabled = str(setting("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled",
                                       "false")).lower() == "true"
        mode = setting("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode")
        if mode is not None and mode.lower() not in ("ipv4", "ipv6"):
            raise JobError("instance metadata service: endpoint mode %s is not ipv4 or ipv6" % quote(mode))
        ipv6 = mode.lower() == "ipv6" if mode is not None else str(
            setting("AWS_IMDS_USE_IPV6", "imds_use_ipv6", "false")).lower() == "true"
        self.base = setting("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint") or (
            IMDS_BASE_V6 if ipv6 else IMDS_BASE)
        parts = urlsplit(self.base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise JobError("instance metadata service: endpoint %s is not a valid URI" % quote(self.base))
        self.where = "instance metadata service (%s)" % self.base

    def _url(self, path):
        return self.base + ("" if self.base.endswith("/") else "/") + path

    def _token(self):
        """The IMDSv2 token, or None to fall back to v1."""
        for _ in range(self.attempts):
            try:
                status, body = http.exchange("PUT", self._url("latest/api/token"), timeout=self.timeout,
                                             headers={"x-aws-ec2-metadata-token-ttl-seconds": "21600"},
                                             environ=self.environ, limit=1 << 16)
            except http.ConnectionFailed as e:
                if "timed out" in str(e):
                    return None
                continue
            if status == 200:
                return body.decode("utf-8", "replace")
            if status in (403, 404, 405):
                return None
            if status == 400:
                raise _NoAnswer("the token request was refused (HTTP 400)")
        return None

    def _get(self, path, token, is_json):
        headers = {"x-aws-ec2-metadata-token": token} if token is not None else {}
        for _ in range(self.attempts):
            try:
                status, body = http.exchange("GET", self._url(path), headers=headers, timeout=self.timeout,
                                             environ=self.environ, limit=1 << 16)
            except http.ConnectionFailed:
                continue
            if status != 200 or not body:
                continue
            if not is_json:
                return body.decode("utf-8", "replace")
            try:
                return json.loads(body.decode("utf-8"))
            except (ValueError, RecursionError):
                continue
        raise _NoAnswer("no answer to GET %s after %d attempt(s)" % (path, self.attempts))

    def fetch(self):
        """The credentials dict, or None where botocore finds none here (disabled, unreachable, incomplete)."""
        if self.disabled:
            return None
        try:
            token = self._token()
            if not token and self.v1_disabled:
                raise JobError("%s: unable to retrieve a token for an IMDSv2 call and IMDSv1 is disabled "
                               "(AWS_EC2_METADATA_V1_DISABLED)" % self.where)
            role = self._get(IMDS_ROLE_PATH, token, False)
            doc = self._get(IMDS_ROLE_PATH + role, token, True)
        except _NoAnswer:
            return None
        if not isinstance(doc, dict) or any(key not in doc for key in IMDS_REQUIRED):
            return None
        return _credentials(doc, IMDS_REQUIRED, self.where)


def static_stability(expiry, now, log_warning):
    """botocore's extension of IMDS credentials that are (nearly) expired: a new expiry 17 to 25 minutes
    from now, so that a metadata service outage does not stop the job at once."""
    window = STATIC_STABILITY_WINDOW + random.randint(120, 600)
    if expiry is not None and now >= expiry - window:
        log_warning("Attempting credential expiration extension due to a credential service availability issue."
                    " A refresh of these credentials will be attempted again within the next %.0f minutes."
                    % (window / 60.0))
        return now + window
    return expiry


class _Failed(Exception):
    pass


class _NoAnswer(Exception):
    pass


def _get_json(url, headers, timeout, environ, secret=None):
    try:
        status, body = http.exchange("GET", url, headers=headers, timeout=timeout, environ=environ)
    except http.ConnectionFailed as e:
        raise _Failed(scrub(str(e), secret))
    text = body.decode("utf-8", "replace")
    if status != 200:
        raise _Failed("HTTP %d from the endpoint: %s" % (status, scrub(" ".join(text.split())[:200], secret)))
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise _Failed("the answer is not JSON")
    if not isinstance(doc, dict):
        raise _Failed("the answer is not a JSON object")
    return doc


def _credentials(doc, required, where):
    for key in required:
        if not isinstance(doc.get(key), str):
            raise JobError("%s: the answer has no '%s'" % (where, key))
    return {"access_key": doc["AccessKeyId"], "secret_key": doc["SecretAccessKey"],
            "token": doc.get("Token") or None, "expiry": doc.get("Expiration")}


def _is_loopback(host):
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _number(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise JobError("%s=%s: not a whole number" % (name, quote(str(value))))

"""STS AssumeRoleWithWebIdentity as botocore 1.44 sends it: an unsigned form POST to the regional endpoint
(or AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL), the token file read again on every call, the XML answer;
retried as botocore's standard mode retries (3 attempts, on connection errors and the answers retry.py counts
as worth another, and on IDPCommunicationError, which botocore retries for STS alone)."""

import time
from urllib.parse import quote

from ..errors import JobError
from ..masking import scrub
from . import http, retry
from .endpoints import checked, configured_endpoint

NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
TIMEOUT = 10.0


def endpoint(environ, region):
    """Where botocore sends STS calls: the configured endpoint URL (endpoints.configured_endpoint: the variables,
    the config file's services section and profile), else sts.<region> (sts_regional_endpoints is 'regional' by
    default), else the global endpoint."""
    configured = configured_endpoint(environ, "sts")
    if configured:
        return checked(configured, "STS (web identity credentials)")
    if not region:
        return "https://sts.amazonaws.com/"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return "https://sts.%s.%s/" % (region, suffix)


class WebIdentity(object):
    def __init__(self, environ, token_file, role_arn, session_name, region):
        self.environ = environ
        self.token_file = token_file
        self.role_arn = role_arn
        self.session_name = session_name or "botocore-session-%d" % int(time.time())
        self.url = endpoint(environ, region)
        self.where = "web identity (role %s, token file %s, STS %s)" % (role_arn, token_file, self.url)

    def _body(self):
        try:
            with open(self.token_file) as f:
                token = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise JobError("%s: cannot read the token file: %s" % (self.where, getattr(e, "strerror", None) or e))
        fields = (("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", self.role_arn),
                  ("RoleSessionName", self.session_name), ("WebIdentityToken", token))
        return "&".join("%s=%s" % (k, quote(v, safe="-_.~")) for k, v in fields).encode("utf-8"), token

    def fetch(self):
        """The credentials dict (access_key, secret_key, token, expiry text)."""
        body, token = self._body()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

        def attempt():
            try:
                status, text = http.exchange("POST", self.url, headers=headers, body=body, timeout=TIMEOUT,
                                             environ=self.environ)
            except http.ConnectionFailed as e:
                raise retry.Again(str(e))
            if status == 200:
                return self._credentials(text)
            code, message = error_fields(text)
            failure = "HTTP %d %s: %s" % (status, code, message)
            if retry.retryable(status, code) or code == "IDPCommunicationError":
                raise retry.Again(failure)
            raise self._failed(failure, token)

        try:
            return retry.loop(attempt, retry.ATTEMPTS)
        except retry.GaveUp as stop:
            raise self._failed(str(stop.last), token)

    def _failed(self, failure, token):
        return JobError("%s: AssumeRoleWithWebIdentity failed: %s" % (self.where, scrub(failure, token)))

    def _credentials(self, text):
        import xml.etree.ElementTree as ElementTree

        try:
            root = ElementTree.fromstring(text)
        except ElementTree.ParseError:
            raise JobError("%s: the AssumeRoleWithWebIdentity answer is not XML" % self.where)
        found = root.find("%sAssumeRoleWithWebIdentityResult/%sCredentials" % (NS, NS))
        values = {}
        for key in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
            node = None if found is None else found.find(NS + key)
            if node is None or not node.text:
                raise JobError("%s: the AssumeRoleWithWebIdentity answer has no %s" % (self.where, key))
            values[key] = node.text.strip()
        return {"access_key": values["AccessKeyId"], "secret_key": values["SecretAccessKey"],
                "token": values["SessionToken"], "expiry": values["Expiration"]}


def error_fields(text):
    """(Code, Message) of an XML error document (STS's ErrorResponse, or any with a Code), or a placeholder for
    the code when the body is not XML."""
    import xml.etree.ElementTree as ElementTree

    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return "(no error document)", " ".join(text.decode("utf-8", "replace").split())[:200]
    code = root.find("%sError/%sCode" % (NS, NS))
    message = root.find("%sError/%sMessage" % (NS, NS))
    if code is None:  # some servers answer without the namespace
        code, message = root.find(".//Code"), root.find(".//Message")
    return (code.text if code is not None else "(no code)"), (message.text if message is not None else "")

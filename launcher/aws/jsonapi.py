"""One signed call to an AWS JSON API (CodeArtifact's rest-json, SageMaker's JSON 1.1): SigV4 over the body,
retried by the one policy, the answer a JSON object; an error answer not worth another attempt is an ApiError
carrying the API's code and message, so the caller can say what it means for its user."""

import hashlib
import time

from .. import jsonc
from ..errors import JobError
from . import http, retry, sigv4


class ApiError(JobError):
    """The API refused the call: ``http_status``, ``code`` (None when the body named none) and ``message``."""

    def __init__(self, text, status, code, message):
        JobError.__init__(self, text)
        self.http_status, self.code, self.message = status, code, message  # .status is the exit status


def call(method, url, headers, body, source, region, service, environ, where, timeout=30.0):
    """The JSON object of a 200 answer to the signed request. ``body``: bytes (b"" for none; None: a GET);
    ``source``: credentials.Source; ``where`` begins every error line ("CodeArtifact GetAuthorizationToken for
    ARN"). A JobError names the credentials' source and never holds a secret."""
    digest = hashlib.sha256(body or b"").hexdigest()

    def attempt():
        signed = sigv4.sign(method, url, dict(headers), digest, source.get(), region, service, time.time())
        try:
            status, answer = http.exchange(method, url, signed, body, timeout=timeout, environ=environ)
        except http.ConnectionFailed as e:
            raise retry.Again(str(e))
        if status == 200:
            try:
                value = jsonc.loads(answer.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, RecursionError):
                value = None
            if not isinstance(value, dict):
                raise JobError("%s: the answer is not a JSON object (credentials from %s)" % (where, source.source))
            return value
        code, message = error_fields(answer)
        failure = "HTTP %d %s: %s" % (status, code or "(no error code)", message or "(no message)")
        if retry.retryable(status, code):
            raise retry.Again(failure)
        raise ApiError("%s failed: %s (credentials from %s)" % (where, failure, source.source), status, code,
                       message)

    try:
        return retry.loop(attempt, retry.ATTEMPTS)
    except retry.GaveUp as stop:
        raise JobError("%s failed: %s (credentials from %s)" % (where, stop.last, source.source))


def error_fields(body):
    """(code, message) of a JSON error body (``__type``, ``code`` or ``Code``, less any ``namespace#``; ``message``
    or ``Message``), else as sts.error_fields reads an XML one (what some servers answer); None where absent."""
    try:
        value = jsonc.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        from .sts import error_fields as xml_fields

        return xml_fields(body)
    if not isinstance(value, dict):
        return None, None
    code = value.get("__type") or value.get("code") or value.get("Code")
    code = code.split("#")[-1] if isinstance(code, str) else None
    message = value.get("message") or value.get("Message")
    return code, message if isinstance(message, str) else None

"""CA_REPOSITORY_ARN: pip's index from CodeArtifact, as sagemaker-training 5.1.4's _get_codeartifact_index builds
it (GetAuthorizationToken, GetRepositoryEndpoint, then ``https://aws:<token>@.../simple/``). The token is a
secret: it reaches pip's argv and nothing sm-train logs."""

import hashlib
import time

from .. import jsonc, log
from ..errors import JobError
from ..masking import MASK

_ARN = ("arn:(?P<partition>[^:]+):codeartifact:(?P<region>[^:]+):(?P<account>[^:]+)"
        ":repository/(?P<domain>[^/]+)/(?P<repository>.+)")
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class Repository(object):
    def __init__(self, arn):
        import re

        match = re.match(_ARN, arn)
        if not match:
            raise JobError("CA_REPOSITORY_ARN: invalid CodeArtifact repository arn %s" % arn)
        self.arn = arn
        self.partition, self.region, self.owner, self.domain, self.repository = match.group(
            "partition", "region", "account", "domain", "repository")


def index(arn, env):
    """The authenticated index URL for pip's -i, and the same with the token hidden; a JobError naming the call
    that failed, never the token."""
    import re

    repo = Repository(arn)
    log.info("configuring pip to use codeartifact (domain: %s, domain owner: %s, repository: %s, region: %s)"
             % (repo.domain, repo.owner, repo.repository, repo.region))
    from . import credentials

    source = credentials.resolve(env, repo.region)
    token = _call(repo, env, source, "POST", "/v1/authorization-token",
                  [("domain", repo.domain), ("domain-owner", repo.owner)], "GetAuthorizationToken",
                  "authorizationToken")
    endpoint = _call(repo, env, source, "GET", "/v1/repository/endpoint",
                     [("domain", repo.domain), ("domain-owner", repo.owner), ("repository", repo.repository),
                      ("format", "pypi")], "GetRepositoryEndpoint", "repositoryEndpoint")
    # The toolkit's two re.sub calls, to the byte (the repository name is not escaped, the token not quoted).
    simple = re.sub("{}/?$".format(repo.repository), "{}/simple/".format(repo.repository), endpoint)
    real = re.sub("https://", "https://aws:{}@".format(token), simple)
    return real, real.replace(token, MASK) if token else real


def base_url(repo, env):
    """The configured endpoint URL (endpoints.configured_endpoint: the variables, the config file's services
    section and profile), else the regional endpoint of the ARN's partition."""
    from .endpoints import checked, configured_endpoint

    configured = configured_endpoint(env, "codeartifact")
    if configured:
        return checked(configured, "CodeArtifact for %s" % repo.arn).rstrip("/")
    suffix = "amazonaws.com.cn" if repo.partition == "aws-cn" else "amazonaws.com"
    return "https://codeartifact.%s.%s" % (repo.region, suffix)


def _call(repo, env, source, method, path, query, operation, field):
    from urllib.parse import quote

    from . import http, retry, sigv4

    url = "%s%s?%s" % (base_url(repo, env), path,
                       "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in query))
    where = "CodeArtifact %s for %s" % (operation, repo.arn)

    def attempt():
        headers = {"Content-Length": "0"} if method == "POST" else {}
        headers = sigv4.sign(method, url, headers, _EMPTY_SHA256, source.get(), repo.region, "codeartifact",
                             time.time())
        try:
            status, body = http.exchange(method, url, headers, b"" if method == "POST" else None, timeout=30.0,
                                         environ=env)
        except http.ConnectionFailed as e:
            raise retry.Again(str(e))
        if status == 200:
            try:
                value = jsonc.loads(body.decode("utf-8"))[field]
            except (ValueError, KeyError, TypeError, RecursionError):
                value = None
            if not isinstance(value, str):
                raise JobError("%s: the answer has no %s string" % (where, field))
            return value
        code, message = _error(body)
        failure = "HTTP %d %s: %s" % (status, code or "(no error code)", message or "(no message)")
        if retry.retryable(status, code if isinstance(code, str) else None):  # JSON may hold any type there
            raise retry.Again(failure)
        raise JobError("%s failed: %s (credentials from %s)" % (where, failure, source.source))

    try:
        return retry.loop(attempt, retry.ATTEMPTS)
    except retry.GaveUp as stop:
        raise JobError("%s failed: %s (credentials from %s)" % (where, stop.last, source.source))


def _error(body):
    """The error code and message of a rest-json error body (``__type`` or ``code``, and ``message``)."""
    try:
        value = jsonc.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None, body[:200].decode("utf-8", "replace").strip()
    if not isinstance(value, dict):
        return None, None
    code = value.get("__type") or value.get("code") or value.get("Code")
    if isinstance(code, str) and "#" in code:
        code = code.split("#")[-1]
    return code, value.get("message") or value.get("Message")

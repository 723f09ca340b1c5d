"""CA_REPOSITORY_ARN: pip's index from CodeArtifact, as sagemaker-training 5.1.4's _get_codeartifact_index builds
it (GetAuthorizationToken, GetRepositoryEndpoint, then ``https://aws:<token>@.../simple/``). The token is a
secret: it reaches pip's argv and nothing sm-train logs."""

from .. import log
from ..errors import JobError
from ..masking import MASK

_ARN = ("arn:(?P<partition>[^:]+):codeartifact:(?P<region>[^:]+):(?P<account>[^:]+)"
        ":repository/(?P<domain>[^/]+)/(?P<repository>.+)")


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

    from .jsonapi import call

    url = "%s%s?%s" % (base_url(repo, env), path,
                       "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in query))
    where = "CodeArtifact %s for %s" % (operation, repo.arn)
    headers = {"Content-Length": "0"} if method == "POST" else {}
    value = call(method, url, headers, b"" if method == "POST" else None, source, repo.region, "codeartifact", env,
                 where).get(field)
    if not isinstance(value, str):
        raise JobError("%s: the answer has no %s string" % (where, field))
    return value

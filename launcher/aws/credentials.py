"""botocore 1.44's default credential chain, in its order (credentials.py create_credential_resolver):

 1. environment variables      AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SECURITY_TOKEN before
                               AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION
 2. assume-role profiles       role_arn + source_profile / credential_source: NOT implemented, an error
 3. web identity               AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (or the profile's keys) via STS
 4. SSO profiles               sso_account_id / sso_role_name: NOT implemented, an error
 5. shared credentials file    [NAME] in ~/.aws/credentials
 6. login profiles             login_session: NOT implemented, an error
 7. credential_process         of the profile
 8. config file                [profile NAME] / [default] in ~/.aws/config
 9. AWS_CREDENTIAL_FILE        the EC2 tools' AWSAccessKeyId= / AWSSecretKey= file
10. boto config                [Credentials] in BOTO_CONFIG, else /etc/boto.cfg, ~/.boto
11. container endpoint         AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI (launcher/aws/metadata.py)
12. instance metadata service  IMDSv2, then v1 (launcher/aws/metadata.py)

The first source that is configured wins; one that is configured but fails is a JobError naming it, never
a fall-through. Temporary credentials are refreshed as botocore's RefreshableCredentials refreshes them.
No message holds a secret key, a session token or an authorization token.
"""

import threading
import time

from .. import log
from ..core import awsfiles
from ..errors import JobError
from . import metadata, process, sts

ADVISORY_REFRESH = 15 * 60  # botocore: refresh when fewer than 15 minutes remain, keep the old on failure
MANDATORY_REFRESH = 10 * 60  # ...and when fewer than 10 remain, a failure is an error


class NoCredentials(JobError):
    """No source in the chain has credentials."""


class Credentials(object):
    """One consistent key/secret/token triple (botocore's frozen credentials); ``expiry`` in epoch seconds."""

    __slots__ = ("access_key", "secret_key", "token", "expiry")

    def __init__(self, access_key, secret_key, token=None, expiry=None):
        self.access_key, self.secret_key, self.token, self.expiry = access_key, secret_key, token, expiry

    def __repr__(self):
        return "Credentials(%s, secret ***, token %s, expiry %r)" % (self.access_key, "***" if self.token else None,
                                                                     self.expiry)


class Source(object):
    """The chosen source: ``source`` names it; ``get()`` gives credentials, refreshed before they expire."""

    def __init__(self, source, fetch, first=None, deferred=False, clock=time.time):
        """``fetch``: () -> Credentials, raising JobError. Without ``first`` it is called now, as botocore's
        provider loads, unless ``deferred``."""
        self.source = source
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._current = None if deferred else first or fetch()

    def get(self):
        with self._lock:
            if self._current is None:  # web identity: fetched when first needed, as botocore defers it
                self._replace(True)
            else:
                self._refresh()
            return self._current

    def _refresh(self):
        expiry = self._current.expiry
        if expiry is None or expiry - self._clock() >= ADVISORY_REFRESH:
            return
        mandatory = expiry - self._clock() < MANDATORY_REFRESH
        try:
            self._replace(mandatory)
        except JobError as e:
            if mandatory:
                raise
            log.warning("%s: refreshing temporary credentials failed during the advisory refresh period; the "
                        "current ones are kept: %s" % (self.source, e))

    def _replace(self, mandatory):
        fresh = self._fetch()
        self._current = fresh
        if fresh.expiry is not None and fresh.expiry - self._clock() <= 0:
            raise JobError("%s: credentials were refreshed, but the refreshed credentials are still expired"
                           % self.source)


def resolve(environ, region=None):
    """The first source of botocore's chain that has credentials. ``region`` is the region the caller's
    client uses (botocore signs STS calls there); by default the region boto3 finds."""
    files = awsfiles.Files(environ)
    files.scoped()  # boto3.Session() fails on a profile that does not exist, before any credentials
    name = files.name()
    profile = files.profiles.get(name, {})
    tried = []
    for provider in _PROVIDERS:
        source = provider(environ, files, name, profile, region, tried)
        if source is not None:
            return source
    raise NoCredentials("no AWS credentials found; tried %s" % "; ".join(tried))


def _env(environ, files, name, profile, region, tried):
    tried.append("environment variables (AWS_ACCESS_KEY_ID)")
    if not environ.get("AWS_ACCESS_KEY_ID"):
        return None

    def fetch():
        if not environ.get("AWS_SECRET_ACCESS_KEY"):
            raise JobError("environment variables: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        token = environ.get("AWS_SECURITY_TOKEN") or environ.get("AWS_SESSION_TOKEN") or None
        expiry = environ.get("AWS_CREDENTIAL_EXPIRATION") or None
        return Credentials(environ["AWS_ACCESS_KEY_ID"], environ["AWS_SECRET_ACCESS_KEY"], token,
                           expiry and parse_time(expiry, "environment variables: AWS_CREDENTIAL_EXPIRATION"))
    return Source("environment variables", fetch)


def _assume_role(environ, files, name, profile, region, tried):
    """botocore assumes a role for a profile with role_arn (and no web_identity_token_file); sm-train does
    not implement it, and says so rather than skip it."""
    if "role_arn" in profile and "web_identity_token_file" not in profile:
        what = "assume-role (role_arn with %s)" % ("source_profile" if "source_profile" in profile else
                                                   "credential_source" if "credential_source" in profile else
                                                   "neither source_profile nor credential_source")
        raise JobError("profile %s in %s: %s is a credential source sm-train does not implement; give the job "
                       "credentials another way (environment, container endpoint, credential_process)"
                       % (awsfiles.quote(name), files.where(), what))
    return None


def _web_identity(environ, files, name, profile, region, tried):
    tried.append("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)")

    def setting(variable, key):
        return environ[variable] if variable in environ else files.value(profile, key, name)

    token_file = setting("AWS_WEB_IDENTITY_TOKEN_FILE", "web_identity_token_file")
    if not token_file:
        return _sso_or_login(files, name, profile, "sso")
    role_arn = setting("AWS_ROLE_ARN", "role_arn")
    if not role_arn:
        raise JobError("web identity: %s is set but no role ARN is (AWS_ROLE_ARN or the profile's role_arn)"
                       % token_file)
    call = sts.WebIdentity(environ, token_file, role_arn, setting("AWS_ROLE_SESSION_NAME", "role_session_name"),
                           awsfiles.region(environ) if region is None else region)
    return Source(call.where, lambda: _frozen(call.fetch(), call.where), deferred=True)


def _sso_or_login(files, name, profile, which):
    keys = ("sso_account_id", "sso_role_name") if which == "sso" else ("login_session",)
    found = [key for key in keys if key in profile]
    if found:
        raise JobError("profile %s in %s: %s (%s) is a credential source sm-train does not implement; give the "
                       "job credentials another way (environment, container endpoint, credential_process)"
                       % (awsfiles.quote(name), files.where(),
                          "IAM Identity Center (SSO)" if which == "sso" else "aws login", ", ".join(found)))
    return None


def _shared_file(environ, files, name, profile, region, tried):
    path = files.credentials_file
    where = "profile %s in %s" % (awsfiles.quote(name), path or '""')
    tried.append(where)
    source = _keys(files.credentials.get(name), where)
    return source or _sso_or_login(files, name, profile, "login")


def _process(environ, files, name, profile, region, tried):
    tried.append("credential_process of profile %s" % awsfiles.quote(name))
    command = files.value(profile, "credential_process", name)
    if command is None:
        return None
    where = "credential_process of profile %s" % awsfiles.quote(name)
    return Source(where, lambda: _frozen(process.run(command, environ, where), where))


def _config_file(environ, files, name, profile, region, tried):
    where = "profile %s in %s" % (awsfiles.quote(name), files.config_file or '""')
    tried.append(where)
    return _keys(files.config.get(name), where)


def _ec2_file(environ, files, name, profile, region, tried):
    if "AWS_CREDENTIAL_FILE" not in environ:
        return None
    path = awsfiles.expanduser(environ["AWS_CREDENTIAL_FILE"], environ)
    where = "AWS_CREDENTIAL_FILE %s" % path
    tried.append(where)
    try:
        with open(path) as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise JobError("%s: cannot be read: %s" % (where, getattr(e, "strerror", None) or e))
    values = {}
    for line in text.splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    if "AWSAccessKeyId" not in values:
        return None
    if "AWSSecretKey" not in values:
        raise JobError("%s: AWSAccessKeyId without AWSSecretKey" % where)
    creds = Credentials(values["AWSAccessKeyId"], values["AWSSecretKey"])
    return Source(where, lambda: creds)


def _boto_config(environ, files, name, profile, region, tried):
    paths = [environ["BOTO_CONFIG"]] if "BOTO_CONFIG" in environ else ["/etc/boto.cfg", "~/.boto"]
    for path in paths:
        path = awsfiles.expanduser(awsfiles.expandvars(path, environ), environ)
        tried.append("boto config %s" % path)
        source = _keys(awsfiles.parse(path).get("Credentials"), "boto config %s" % path, tokens=False)
        if source is not None:
            return source
    return None


def _container(environ, files, name, profile, region, tried):
    tried.append("container endpoint (%s or %s)" % (metadata.RELATIVE, metadata.FULL))
    if metadata.RELATIVE not in environ and metadata.FULL not in environ:
        return None
    endpoint = metadata.Container(environ)
    return Source(endpoint.where, lambda: _frozen(endpoint.fetch(), endpoint.where))


def _imds(environ, files, name, profile, region, tried):
    service = metadata.InstanceMetadata(environ, profile)
    tried.append(service.where + (" (disabled by AWS_EC2_METADATA_DISABLED)" if service.disabled else ""))

    def credentials(got):
        creds = _frozen(got, service.where)
        creds.expiry = metadata.static_stability(creds.expiry, time.time(), log.warning)
        return creds

    def refresh():
        got = service.fetch()
        if got is None:
            raise JobError("%s: no credentials on refresh" % service.where)
        return credentials(got)

    got = service.fetch()  # no answer here is no credentials from IMDS, the end of the chain
    return None if got is None else Source(service.where, refresh, first=credentials(got))


_PROVIDERS = (_env, _assume_role, _web_identity, _shared_file, _process, _config_file, _ec2_file, _boto_config,
              _container, _imds)


def _keys(values, where, tokens=True):
    """Static keys of a section (aws_access_key_id, aws_secret_access_key, aws_security_token before
    aws_session_token), or None when the section has no access key."""
    if not values or "aws_access_key_id" not in values:
        return None
    if "aws_secret_access_key" not in values:
        raise JobError("%s: aws_access_key_id without aws_secret_access_key" % where)
    token = None
    for key in ("aws_security_token", "aws_session_token"):
        if key in values and tokens:
            token = _plain(values[key], where, key)
            break
    creds = Credentials(_plain(values["aws_access_key_id"], where, "aws_access_key_id"),
                        _plain(values["aws_secret_access_key"], where, "aws_secret_access_key"), token)
    return Source(where, lambda: creds)


def _plain(value, where, key):
    if isinstance(value, dict) or "\n" in value:
        raise JobError("%s: '%s' is a sub-section or continued on an indented line; put its value on one line"
                       % (where, key))
    return value


def _frozen(got, where):
    expiry = got.get("expiry")
    return Credentials(got["access_key"], got["secret_key"], got.get("token"),
                       parse_time(expiry, where + ": Expiration") if expiry else None)


def parse_time(text, what):
    """An ISO 8601 time (2026-12-01T10:00:00Z, with fractions or an offset) in epoch seconds."""
    import calendar
    import re

    m = re.match(r"\s*(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?\s*([Zz]|[+-]\d\d:?\d\d|UTC)?\s*$",
                 str(text))
    if not m:
        raise JobError("%s: %s is not an ISO 8601 time" % (what, awsfiles.quote(str(text)[:40])))
    fields = [int(g) for g in m.groups()[:6]]
    seconds = calendar.timegm(tuple(fields) + (0, 0, 0)) + float(m.group(7) or 0)
    zone = m.group(8)
    if zone and zone[0] in "+-":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds

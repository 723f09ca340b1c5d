"""The configured endpoint URL (launcher/aws/endpoints.py configured_endpoint) against botocore's own resolution
(boto3 1.44, test-only) for S3, STS, CodeArtifact and the SageMaker API: the variables, the config file's profile
endpoint_url and [services NAME] sections, ignore_configured_endpoint_urls, and where botocore fails. (A real start
that fetches its code through a [services] section is in tests/test_fetch_s3.py, with the other starts against
moto.)"""

import os

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from test_awsfiles import CFG, CREDS, environ, write

from launcher.aws import codeartifact, endpoints, sagemaker, sts
from launcher.errors import JobError

ARN = "arn:aws:codeartifact:us-west-2:111122223333:repository/my-domain/my-repo"
SERVICES = "[services dev]\ns3 =\n  endpoint_url = http://s3.svc:2\nsts =\n  endpoint_url = http://sts.svc:2\n" \
           "codeartifact =\n  endpoint_url = http://ca.svc:2\nsagemaker =\n  endpoint_url = http://sm.svc:2\n"
PROFILE = "[default]\nendpoint_url = http://profile:1\n"

# (id, files under HOME, environment): sm-train must reach where botocore's client would, or fail where it fails.
CASES = [
    ("nothing", {}, {}),
    ("profile", {CFG: PROFILE}, {}),
    ("profile_path", {CFG: "[default]\nendpoint_url = http://profile:1/base/\n"}, {}),
    ("named_profile", {CFG: PROFILE + "[profile p]\nendpoint_url = http://p:1\n"}, {"AWS_PROFILE": "p"}),
    ("services", {CFG: PROFILE + "services = dev\n" + SERVICES}, {}),
    ("services_other_service_only", {CFG: "[default]\nservices = dev\n[services dev]\nsts =\n"
                                          "  endpoint_url = http://sts.svc:2\n"}, {}),
    ("services_quoted_name", {CFG: "[default]\nservices = dev\n" + SERVICES.replace("[services dev]",
                                                                                     "[services 'dev']")}, {}),
    ("services_prefix_word", {CFG: "[default]\nservices = dev\n" + SERVICES.replace("[services dev]",
                                                                                     "[servicesx dev]")}, {}),
    ("services_key_case", {CFG: "[default]\nservices = dev\n" + SERVICES.replace("s3 =", "S3 =")}, {}),
    ("services_sub_key_case", {CFG: PROFILE + "services = dev\n" + SERVICES.replace("endpoint_url", "ENDPOINT_URL")},
     {}),
    ("services_later_wins", {CFG: "[default]\nservices = dev\n" + SERVICES +
                             "[services 'dev']\ns3 =\n  endpoint_url = http://later:3\n"}, {}),
    ("env_global_beats_config", {CFG: PROFILE + "services = dev\n" + SERVICES}, {"AWS_ENDPOINT_URL": "http://env:3"}),
    ("env_service_beats_global", {}, {"AWS_ENDPOINT_URL_S3": "http://s3.env:4", "AWS_ENDPOINT_URL": "http://env:3",
                                      "AWS_ENDPOINT_URL_STS": "http://sts.env:4",
                                      "AWS_ENDPOINT_URL_SAGEMAKER": "http://sm.env:4"}),
    ("empty_env_falls_through", {CFG: PROFILE}, {"AWS_ENDPOINT_URL_S3": "", "AWS_ENDPOINT_URL": ""}),
    ("empty_profile_value", {CFG: "[default]\nendpoint_url =\n"}, {}),
    ("toolkit_variable_first", {CFG: PROFILE + "services = dev\n" + SERVICES + "ignore_configured_endpoint_urls=true"
                                "\n"}, {"S3_ENDPOINT_URL": "http://toolkit:5", "AWS_ENDPOINT_URL_S3": "http://s:4"}),
    ("ignored_by_profile", {CFG: PROFILE + "ignore_configured_endpoint_urls = TRUE\n"},
     {"AWS_ENDPOINT_URL": "http://env:3"}),
    ("ignored_by_env", {CFG: PROFILE}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "True"}),
    ("empty_env_ignore_wins_over_profile", {CFG: PROFILE + "ignore_configured_endpoint_urls = true\n"},
     {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": ""}),
    ("ignore_not_stripped", {CFG: PROFILE}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": " true"}),
    ("ignore_false", {CFG: PROFILE + "ignore_configured_endpoint_urls = false\n"}, {}),
    ("ignore_skips_a_missing_section", {CFG: "[default]\nservices = dev\n"},
     {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}),
    ("credentials_file_endpoint", {CREDS: "[default]\nendpoint_url = http://creds:6\n"}, {}),
    ("credentials_file_names_services", {CFG: SERVICES, CREDS: "[default]\nservices = dev\n"}, {}),
    ("credentials_file_services_not_read", {CREDS: "[default]\nservices = dev\n" + SERVICES}, {}),
    ("env_skips_a_missing_section", {CFG: "[default]\nservices = dev\n"}, {"AWS_ENDPOINT_URL": "http://env:3"}),
    ("missing_section", {CFG: "[default]\nservices = dev\n"}, {}),
    ("empty_section", {CFG: "[default]\nservices = dev\n[services dev]\n"}, {}),
    ("s3_not_a_sub_section", {CFG: PROFILE + "services = dev\n[services dev]\ns3 = http://x:1\n"}, {}),
    ("missing_profile", {CFG: PROFILE}, {"AWS_PROFILE": "nope", "AWS_ENDPOINT_URL": "http://env:3"}),
    ("not_a_url", {CFG: "[default]\nendpoint_url = profile:1\n"}, {}),
]


class Captured(Exception):
    pass


def botocores(service, env, monkeypatch):
    """The endpoint botocore's client for ``service`` uses: for S3 the URL a GetObject goes to (S3_ENDPOINT_URL as
    the toolkit's endpoint_url), else the client's endpoint URL; "<error>" where creating or calling it fails."""
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name != "S3_ENDPOINT_URL":
            monkeypatch.setenv(name, value)
    try:
        client = boto3.session.Session().client(
            service, region_name="us-west-2", endpoint_url=env.get("S3_ENDPOINT_URL") if service == "s3" else None,
            aws_access_key_id="AK", aws_secret_access_key="SK", config=Config(retries={"max_attempts": 1}))
    except (botocore.exceptions.BotoCoreError, AttributeError, ValueError):
        return "<error>"
    if service != "s3":
        return client.meta.endpoint_url.rstrip("/")

    def capture(request, **kwargs):
        raise Captured(request.url)

    client.meta.events.register("before-send.s3.GetObject", capture)
    try:
        client.get_object(Bucket="my-bucket", Key="k")
    except Captured as sent:
        return str(sent)
    except (botocore.exceptions.BotoCoreError, ValueError):
        return "<error>"


def ours(service, env):
    try:
        if service == "s3":
            return endpoints.s3_url("my-bucket", "k", "us-west-2", env, "s3://my-bucket/k")[0]
        if service == "sts":
            return sts.endpoint(env, "us-west-2").rstrip("/")
        if service == "sagemaker":
            return sagemaker.endpoint(env, "us-west-2").rstrip("/")
        return codeartifact.base_url(codeartifact.Repository(ARN), env)
    except JobError:
        return "<error>"


@pytest.mark.parametrize("service", ["s3", "sts", "codeartifact", "sagemaker"])
@pytest.mark.parametrize("files,env", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_endpoint_as_botocore_resolves_it(tmp_path, monkeypatch, service, files, env):
    home = str(tmp_path)
    write(home, files)
    env = environ(home, env)
    assert ours(service, env) == botocores(service, env, monkeypatch)


def test_where_each_endpoint_was_set_is_named(tmp_path):
    home = str(tmp_path)
    write(home, {CFG: "[default]\nservices = dev\n" + SERVICES, CREDS: "[p]\nendpoint_url = ftp://x\n"})
    assert endpoints.configured_endpoint(environ(home, {})) == (
        "%s/.aws/config: [services dev] s3.endpoint_url" % home, "http://s3.svc:2")
    with pytest.raises(JobError) as e:
        endpoints.s3_url("b", "k", "us-west-2", environ(home, {"AWS_PROFILE": "p"}), "s3://b/k")
    assert str(e.value) == ("cannot download s3://b/k: %s/.aws/credentials: profile 'p': endpoint_url=ftp://x is not "
                            "an http(s) URL" % home)
    write(home, {CFG: "[profile q]\nservices = gone\n"})
    with pytest.raises(JobError) as e:
        endpoints.configured_endpoint(environ(home, {"AWS_PROFILE": "q"}), "sts")
    assert str(e.value) == ("%s/.aws/config: profile 'q' names services 'gone', but the config file has no such "
                            "section, so boto3 cannot start" % home)


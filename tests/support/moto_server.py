"""moto's server mode on 127.0.0.1 with request authentication on: a real S3 (and IAM, STS) API that checks every
SigV4 signature and session token. Test-only; the launcher never imports moto or boto3.

``start()`` returns a MotoS3: the endpoint, an IAM user's keys (Allow * on *), STS web-identity session
credentials minted before auth was turned on, a bucket in us-west-2, and a boto3 client factory for setting
up objects. moto keeps its state (users, buckets, the auth switch) per process, so ``start()`` starts one server
per process and hands the same one to every caller; tests use keys of their own under the bucket.
``authentication_off(endpoint)`` switches the authentication off for a while, for a test that makes unsigned
calls: the switch is one per process, shared by every moto server in it."""

import contextlib
import json
import logging
import urllib.request

import boto3
import pytest
from botocore.config import Config

REGION = "us-west-2"
BUCKET = "sm-bucket"


class MotoS3:
    def __init__(self, server, endpoint):
        self.server = server
        self.endpoint = endpoint
        self.region = REGION
        self.bucket = BUCKET
        self.access_key = self.secret_key = None
        self.session = None  # {"access_key", "secret_key", "token"} from AssumeRoleWithWebIdentity
        self.role_arn = None  # the role those session credentials are for

    def client(self, service="s3", access_key=None, secret_key=None, token=None):
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint,
                            aws_access_key_id=access_key or self.access_key,
                            aws_secret_access_key=secret_key or self.secret_key, aws_session_token=token,
                            config=Config(retries={"max_attempts": 1}))

    def put(self, key, data, bucket=None, **extra):
        self.client().put_object(Bucket=bucket or self.bucket, Key=key, Body=data, **extra)
        return "s3://%s/%s" % (bucket or self.bucket, key)

    def environ(self, **extra):
        """The variables a job would have to reach this server with the IAM user's keys."""
        env = {"S3_ENDPOINT_URL": self.endpoint, "AWS_REGION": self.region, "AWS_ACCESS_KEY_ID": self.access_key,
               "AWS_SECRET_ACCESS_KEY": self.secret_key}
        env.update(extra)
        return env


_running = []


def start():
    if _running:
        return _running[0]
    from moto.server import ThreadedMotoServer
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto = MotoS3(server, "http://%s:%d" % (host, port))
    setup = boto3.Session(aws_access_key_id="setup", aws_secret_access_key="setup", region_name=REGION)
    iam = setup.client("iam", endpoint_url=moto.endpoint)
    iam.create_user(UserName="trainer")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="all", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="trainer", PolicyArn=arn)
    key = iam.create_access_key(UserName="trainer")["AccessKey"]
    moto.access_key, moto.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
    role = iam.create_role(RoleName="SageMakerRole", AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="SageMakerRole", PolicyArn=arn)
    moto.role_arn = role
    # Once authentication is on, moto asks every request for a signature, AssumeRoleWithWebIdentity's unsigned
    # one included (HTTP 500, its handler finding no Authorization header): mint the session now.
    minted = setup.client("sts", endpoint_url=moto.endpoint).assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="job", WebIdentityToken="a-web-identity-token")["Credentials"]
    moto.session = {"access_key": minted["AccessKeyId"], "secret_key": minted["SecretAccessKey"],
                    "token": minted["SessionToken"]}
    setup.client("s3", endpoint_url=moto.endpoint).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    _reset_auth(moto.endpoint, "0")
    _running.append(moto)
    return moto


def _reset_auth(endpoint, count):
    """Set moto's count of requests served before authentication starts ("0": from now on; "inf": never),
    process-wide; returns the previous count."""
    request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=count.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        return json.loads(answer.read().decode())["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]


@contextlib.contextmanager
def authentication_off(endpoint):
    """moto's request authentication off while in effect, then as it was: a test's unsigned calls must not
    depend on whether start() ran earlier in the same process."""
    previous = _reset_auth(endpoint, "inf")
    try:
        yield
    finally:
        _reset_auth(endpoint, previous)


@pytest.fixture(scope="session")
def moto():
    return start()

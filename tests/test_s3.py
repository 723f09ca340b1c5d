"""launcher.aws.s3 against moto's server with authentication on (every signature and token checked), and
through a fault proxy in front of it for what moto never does: throttling, cuts, short bodies, stalls, wrong
regions, a skewed clock, a corrupted body. The credential source is a static stand-in for launcher.aws.credentials."""

import os
import subprocess
import sys
import time

import moto_server
import pytest
from fault_proxy import FaultProxy

from launcher.aws import s3
from launcher.errors import JobError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.urandom(3 << 20)
KEY = "jobs/a b+c=\u20ac~%/x//sourcedir.tar.gz"


class Keys:
    def __init__(self, access_key, secret_key, token=None):
        self.access_key, self.secret_key, self.token = access_key, secret_key, token


class Static:
    """A stand-in credential source with fixed keys (the real chain lives in launcher.aws.credentials)."""

    source = "static test keys"

    def __init__(self, access_key, secret_key, token=None):
        self.keys = Keys(access_key, secret_key, token)

    def get(self):
        return self.keys


@pytest.fixture(scope="module")
def moto():
    server = moto_server.start()
    server.put(KEY, DATA)
    return server


@pytest.fixture
def proxy(moto):
    proxy = FaultProxy(moto.endpoint)
    yield proxy
    proxy.stop()


def fetch(moto, tmp_path, uri="s3://sm-bucket/" + KEY, keys=None, region="us-west-2", env=None, deadline=30.0,
          **kwargs):
    dest = str(tmp_path / "bundle")
    env = env if env is not None else {"S3_ENDPOINT_URL": moto.endpoint}
    written = s3.download(uri, dest, keys or Static(moto.access_key, moto.secret_key), region, env,
                          time.monotonic() + deadline, **kwargs)
    with open(dest, "rb") as f:
        assert f.read() == DATA[:written]
    return written


def refused(moto, tmp_path, **kwargs):
    """The one-line error of a failed download, which leaves no file behind and names no secret."""
    with pytest.raises(JobError) as caught:
        fetch(moto, tmp_path, **kwargs)
    assert not os.path.exists(str(tmp_path / "bundle"))
    message = str(caught.value)
    assert "\n" not in message and moto.secret_key not in message and moto.session["secret_key"] not in message
    endpoint = (kwargs.get("env") or {}).get("S3_ENDPOINT_URL", moto.endpoint)
    assert message.endswith("(credentials: static test keys; endpoint %s)" % endpoint.split("//")[1])
    return message


@pytest.mark.parametrize("setting", ["S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"])
def test_download_path_style_through_each_endpoint_setting(moto, proxy, tmp_path, setting):
    assert fetch(moto, tmp_path, env={setting: proxy.endpoint}) == len(DATA)
    method, path, headers = proxy.seen[0]
    assert (method, path) == ("GET", "/sm-bucket/jobs/a%20b%2Bc%3D%E2%82%AC~%25/x//sourcedir.tar.gz")
    assert headers["x-amz-checksum-mode"] == "ENABLED"
    assert "/us-west-2/s3/aws4_request" in headers["Authorization"]


def test_download_with_sts_session_credentials(moto, tmp_path):
    session = moto.session
    assert fetch(moto, tmp_path, keys=Static(session["access_key"], session["secret_key"], session["token"])) == \
        len(DATA)


@pytest.mark.parametrize("extra", [{"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/bundles"},
                                   {"ChecksumAlgorithm": "SHA256"}, {"ChecksumAlgorithm": "SHA1"}, {}])
def test_download_sse_kms_and_checksummed_objects(moto, proxy, tmp_path, extra):
    key = "objects/%s" % sorted(extra.values())
    moto.put(key, DATA[:12345], **extra)
    assert fetch(moto, tmp_path, uri="s3://sm-bucket/" + key, env={"S3_ENDPOINT_URL": proxy.endpoint}) == 12345


def test_empty_object(moto, tmp_path):
    moto.put("empty", b"")
    assert fetch(moto, tmp_path, uri="s3://sm-bucket/empty") == 0


@pytest.mark.parametrize("keys,expected", [
    (("trainer", "secret"), "HTTP 403 InvalidAccessKeyId: The AWS Access Key Id you provided does not exist"),
    (None, "HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match"),
    ("badtoken", "HTTP 400 InvalidToken: The provided token is malformed or otherwise invalid."),
])
def test_refused_credentials(moto, tmp_path, keys, expected):
    if keys is None:
        keys = Static(moto.access_key, moto.secret_key[::-1])
    elif keys == "badtoken":
        keys = Static(moto.session["access_key"], moto.session["secret_key"], "not-the-token-that-was-issued")
    else:
        keys = Static(*keys)
    message = refused(moto, tmp_path, keys=keys)
    assert message.startswith("cannot download s3://sm-bucket/%s: GetObject returned %s" % (KEY, expected))


@pytest.mark.parametrize("uri,expected", [
    ("s3://sm-bucket/no/such/key", "HTTP 404 NoSuchKey: The specified key does not exist."),
    ("s3://no-such-bucket/key", "HTTP 404 NoSuchBucket: The specified bucket does not exist"),
])
def test_missing_object_and_bucket(moto, tmp_path, uri, expected):
    assert refused(moto, tmp_path, uri=uri).startswith("cannot download %s: GetObject returned %s" % (uri, expected))


def test_empty_region_without_an_endpoint_is_the_toolkits_invalid_endpoint(moto, tmp_path):
    with pytest.raises(JobError, match="s3://sm-bucket/k: Invalid endpoint: https://s3..amazonaws.com"):
        fetch(moto, tmp_path, uri="s3://sm-bucket/k", region="", env={})


def test_an_unwritable_destination_is_one_line(moto, tmp_path):
    with pytest.raises(JobError, match="cannot write .*/missing/bundle"):
        s3.download("s3://sm-bucket/k", str(tmp_path / "missing" / "bundle"), Static("a", "b"), "us-west-2", {},
                    time.monotonic() + 5)


# Faults through the proxy.

def via(proxy, *faults):
    proxy.faults[:] = list(faults)
    return {"S3_ENDPOINT_URL": proxy.endpoint}


def test_slowdown_then_success(moto, proxy, tmp_path):
    assert fetch(moto, tmp_path, env=via(proxy, "slowdown", "slowdown")) == len(DATA)
    assert len(proxy.seen) == 3


def test_slowdown_until_the_deadline_is_one_error(moto, proxy, tmp_path):
    message = refused(moto, tmp_path, env=via(proxy, *["slowdown"] * 50), deadline=3)
    assert "the fetch deadline passed; the last error: GetObject returned HTTP 503 SlowDown: Please reduce" in message


def test_a_cut_mid_body_resumes_with_range(moto, proxy, tmp_path):
    assert fetch(moto, tmp_path, env=via(proxy, "cut", "cut")) == len(DATA)
    ranges = [headers.get("Range") for _, _, headers in proxy.seen]
    half = len(DATA) // 2
    assert ranges == [None, "bytes=%d-" % half, "bytes=%d-" % (half + (len(DATA) - half) // 2)]
    etag = proxy.seen[1][2]["If-Match"]
    assert etag.startswith('"') and proxy.seen[2][2]["If-Match"] == etag


def test_a_body_shorter_than_its_length_is_one_error(moto, proxy, tmp_path):
    message = refused(moto, tmp_path, env=via(proxy, "short"))
    assert ": after %d of %d bytes, GetObject returned HTTP 416 InvalidRange" % (len(DATA), len(DATA) + 100) in message


def test_a_stalled_server_times_out_and_the_retry_succeeds(moto, proxy, tmp_path):
    assert fetch(moto, tmp_path, env=via(proxy, "stall"), request_timeout=1) == len(DATA)
    assert proxy.seen[1][2]["Range"] == "bytes=1000-"


def test_a_stalled_server_past_the_deadline_is_one_error(moto, proxy, tmp_path):
    message = refused(moto, tmp_path, env=via(proxy, *["stall"] * 20), deadline=2)
    assert "the fetch deadline passed" in message


@pytest.mark.parametrize("fault,requests", [("region-header", ["GET", "GET"]), ("region-malformed", ["GET", "GET"]),
                                            ("region-bare", ["GET", "HEAD", "GET"])])
def test_a_wrong_region_is_retried_once_signed_for_the_right_one(moto, proxy, tmp_path, fault, requests):
    assert fetch(moto, tmp_path, region="us-east-1", env=via(proxy, fault)) == len(DATA)
    assert [method for method, _, _ in proxy.seen] == requests
    scopes = [headers["Authorization"].split("/")[2] for _, _, headers in proxy.seen]
    assert scopes[0] == "us-east-1" and scopes[-1] == "us-west-2"
    if fault == "region-bare":  # HeadBucket, still signed for the region the client had, says where
        assert proxy.seen[1][1] == "/sm-bucket" and scopes[1] == "us-east-1"


def test_a_second_wrong_region_answer_is_an_error(moto, proxy, tmp_path):
    message = refused(moto, tmp_path, region="us-east-1", env=via(proxy, "region-header", "region-header"))
    assert "GetObject returned HTTP 301 PermanentRedirect: The bucket you are attempting" in message


def test_an_error_without_a_document_says_so(moto, proxy, tmp_path):
    message = refused(moto, tmp_path, env=via(proxy, "empty-403"))
    assert ": GetObject returned HTTP 403 Forbidden (no error document) (credentials:" in message


def test_request_time_too_skewed_is_signed_again_with_the_servers_clock(moto, proxy, tmp_path):
    assert fetch(moto, tmp_path, env=via(proxy, "skewed")) == len(DATA)
    first, second = (time.mktime(time.strptime(h["X-Amz-Date"], "%Y%m%dT%H%M%SZ")) for _, _, h in proxy.seen)
    assert 3500 < second - first < 3700


def test_skewed_twice_is_one_error(moto, proxy, tmp_path):
    message = refused(moto, tmp_path, env=via(proxy, "skewed", "skewed"))
    assert "GetObject returned HTTP 403 RequestTimeTooSkewed: The difference between" in message


def test_a_corrupted_body_fails_its_checksum_and_is_fetched_again(moto, proxy, tmp_path):
    assert fetch(moto, tmp_path, env=via(proxy, "flip")) == len(DATA)
    assert len(proxy.seen) == 2 and proxy.seen[1][2].get("Range") is None
    message = refused(moto, tmp_path, env=via(proxy, *["flip"] * 5))
    assert "GetObject failed 5 times in a row; the last: the body's CRC32 is" in message


def test_python37_downloads_from_moto(moto, tmp_path):
    python = sorted(p for p in os.listdir("/root/.pyenv/versions") if p.startswith("3.7."))
    if not python:
        pytest.skip("no Python 3.7 here")
    script = (
        "import sys, time\n"
        "sys.path.insert(0, %r)\n"
        "from launcher.aws import s3\n"
        "class K: access_key, secret_key, token = %r, %r, None\n"
        "class S:\n source = 'static'\n def get(self): return K\n"
        "print(s3.download(%r, %r, S(), 'us-west-2', {'S3_ENDPOINT_URL': %r}, time.monotonic() + 30))\n"
        % (ROOT, moto.access_key, moto.secret_key, "s3://sm-bucket/" + KEY, str(tmp_path / "bundle"), moto.endpoint))
    result = subprocess.run(["/root/.pyenv/versions/%s/bin/python" % python[-1], "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == str(len(DATA))
    with open(str(tmp_path / "bundle"), "rb") as f:
        assert f.read() == DATA


def test_the_client_loads_no_aws_sdk():
    script = "import sys; import launcher.aws.s3; print(sorted({m.split('.')[0] for m in sys.modules}))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, check=True)
    loaded = set(eval(result.stdout.decode()))
    assert "launcher" in loaded and not loaded & {"boto3", "botocore", "s3transfer", "moto", "urllib3", "requests"}

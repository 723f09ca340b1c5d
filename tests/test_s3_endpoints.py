"""The pure parts of the S3 client: endpoint resolution against botocore's own (the URL and signing region a
boto3 GetObject would use, captured before it is sent), URIs, error documents and checksums."""

import hashlib
import zlib

import boto3
import botocore.auth
import pytest
from botocore.config import Config

from launcher.aws import endpoints, s3, s3error, sigv4
from launcher.errors import JobError

ENV_NAMES = ("S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT",
             "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


class Captured(Exception):
    pass


def botocore_url(bucket, key, region, environ, monkeypatch, tmp_path):
    """What the toolkit's boto3 client would ask: S3_ENDPOINT_URL as its endpoint_url, the rest from the env."""
    for name in list(ENV_NAMES) + ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name, value in environ.items():
        if name != "S3_ENDPOINT_URL":
            monkeypatch.setenv(name, value)
    client = boto3.session.Session().client("s3", region_name=region, endpoint_url=environ.get("S3_ENDPOINT_URL"),
                                            aws_access_key_id="AK", aws_secret_access_key="SK",
                                            config=Config(retries={"max_attempts": 1}))
    seen = {}

    def capture(request, **kwargs):
        seen["url"] = request.url
        seen["region"] = request.headers["Authorization"].decode().split("/")[2]
        raise Captured()

    client.meta.events.register("before-send.s3.GetObject", capture)
    with pytest.raises(Captured):
        client.get_object(Bucket=bucket, Key=key)
    return seen["url"], seen["region"]


CASES = [
    ("my-bucket", "us-west-2", {}),
    ("my-bucket", "us-east-1", {}),
    ("my-bucket", "us-east-1", {"AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "regional"}),
    ("my-bucket", "us-east-1", {"AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": "legacy"}),
    ("my.dotted.bucket", "us-west-2", {}),
    ("my.dotted.bucket", "us-east-1", {}),
    ("b1", "eu-central-1", {}),
    ("abc", "eu-central-1", {}),
    ("192.168.1.1", "eu-west-1", {}),
    ("Upper-Case", "eu-west-1", {}),
    ("under_score", "eu-west-1", {}),
    ("my-bucket", "cn-north-1", {}),
    ("my.bucket", "cn-northwest-1", {}),
    ("my-bucket", "us-gov-west-1", {}),
    ("my-bucket", "us-gov-east-1", {}),
    ("my-bucket", "ap-southeast-7", {}),
    ("my-bucket", "us-west-2", {"S3_ENDPOINT_URL": "http://127.0.0.1:9000"}),
    ("my-bucket", "us-west-2", {"S3_ENDPOINT_URL": "https://minio.example:9000/"}),
    ("my-bucket", "us-west-2", {"AWS_ENDPOINT_URL_S3": "http://localhost:4566"}),
    ("my-bucket", "us-west-2", {"AWS_ENDPOINT_URL": "http://localhost:4566"}),
    ("my-bucket", "us-west-2", {"AWS_ENDPOINT_URL_S3": "http://s3.local:1", "AWS_ENDPOINT_URL": "http://all:2"}),
    ("my-bucket", "us-west-2", {"S3_ENDPOINT_URL": "http://toolkit:3", "AWS_ENDPOINT_URL_S3": "http://s3.local:1"}),
    ("my-bucket", "us-west-2", {"AWS_ENDPOINT_URL_S3": "http://s3.local:1",
                                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}),
    ("my.dotted.bucket", "eu-west-1", {"AWS_ENDPOINT_URL_S3": "http://s3.local:1"}),
]
KEYS = ["sourcedir.tar.gz", "job 1/a+b=c/\u20ac~%//./../-._~!$&'()*,;=:@.tar.gz"]


@pytest.mark.parametrize("bucket,region,environ", CASES)
@pytest.mark.parametrize("key", KEYS)
def test_endpoint_as_botocore_resolves_it(bucket, region, environ, key, monkeypatch, tmp_path):
    expected = botocore_url(bucket, key, region, environ, monkeypatch, tmp_path)
    assert endpoints.s3_url(bucket, key, region, environ, "s3://x/y") == expected


def test_bucket_url_for_head_bucket():
    assert endpoints.s3_url("my-bucket", None, "us-west-2", {}, "u")[0] == "https://my-bucket.s3.us-west-2.amazonaws.com/"
    assert endpoints.s3_url("my.b", None, "cn-north-1", {}, "u")[0] == "https://s3.cn-north-1.amazonaws.com.cn/my.b"
    assert endpoints.s3_url("b", None, "", {"AWS_ENDPOINT_URL": "http://h:1"}, "u") == ("http://h:1/b", "us-east-1")


@pytest.mark.parametrize("region,environ,message", [
    ("", {}, "cannot download s3://b/k: Invalid endpoint: https://s3..amazonaws.com"),
    ("us west 2", {}, "the region 'us west 2' is not a valid region name"),
    ("-bad", {"S3_ENDPOINT_URL": "http://h:1"}, "the region '-bad' is not a valid region name"),
    ("us-west-2", {"S3_ENDPOINT_URL": "localhost:9000"}, "S3_ENDPOINT_URL=localhost:9000 is not an http\\(s\\) URL"),
])
def test_bad_region_or_endpoint(region, environ, message):
    with pytest.raises(JobError, match=message):
        endpoints.s3_url("b", "k", region, environ, "s3://b/k")


@pytest.mark.parametrize("uri", ["s3://", "s3://bucket", "s3://bucket/", "s3:///key", "https://b/k", "b/k"])
def test_bad_uri(uri):
    with pytest.raises(JobError, match="cannot download"):
        s3.parse_uri(uri)


def test_uri_keeps_the_key_as_written():
    assert s3.parse_uri("s3://b/a//b c/") == ("b", "a//b c/")


def test_error_document():
    body = b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code><Message>Nope.</Message><Key>k</Key></Error>"
    assert s3error.parse(body) == {"Code": "NoSuchKey", "Message": "Nope.", "Key": "k"}
    assert s3error.parse(b"") == {} and s3error.parse(b"<html>not xml") == {}
    assert s3error.describe("GetObject", 404, "Not Found", s3error.parse(body)) == (
        "GetObject returned HTTP 404 NoSuchKey: Nope.")
    assert s3error.describe("PutObject", 502, "Bad Gateway", {}) == (
        "PutObject returned HTTP 502 Bad Gateway (no error document)")


class Answer:
    def __init__(self, **headers):
        self.headers = {k.replace("_", "-").lower(): v for k, v in headers.items()}

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


@pytest.mark.parametrize("headers,name", [
    ({"x_amz_checksum_crc32": "x"}, "crc32"),
    ({"x_amz_checksum_sha256": "x", "x_amz_checksum_sha1": "y"}, "sha256"),
    ({"x_amz_checksum_crc32c": "x"}, None),
    ({"x_amz_checksum_crc64nvme": "x"}, None),
    ({"x_amz_checksum_crc32": "x-3"}, None),
    ({"x_amz_checksum_crc32": "x", "x_amz_checksum_type": "COMPOSITE"}, None),
])
def test_which_checksum_is_checked(headers, name):
    assert s3._Checksum(Answer(**headers)).name == name


def test_checksums_match_their_definitions():
    import base64
    data = b"the quick brown fox" * 1000
    for name, expected in (("crc32", base64.b64encode(zlib.crc32(data).to_bytes(4, "big"))),
                           ("sha256", base64.b64encode(hashlib.sha256(data).digest()))):
        checksum = s3._Checksum(Answer(**{"x_amz_checksum_" + name: "?"}))
        for i in range(0, len(data), 777):
            checksum.update(data[i:i + 777])
        assert checksum.actual() == expected.decode()


def test_empty_sha256_is_botocores():
    assert sigv4.EMPTY_SHA256 == botocore.auth.EMPTY_SHA256_HASH

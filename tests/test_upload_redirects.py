"""launcher.aws.upload against moto's S3 (authentication on) through the fault proxy, for the two answers a
download corrects too (tests/test_s3.py): a wrong region, signed again once for the bucket's region (from the
header, the error document, or HeadBucket), and RequestTimeTooSkewed, signed again once with S3's clock; what
the client learnt holds for its later requests, and a second such answer to one request is the error."""

import hashlib
import os
import time

import pytest
from fault_proxy import FaultProxy
from moto_server import moto  # noqa: F401 - the fixture
from test_s3 import Static

from launcher.aws import upload

DATA = os.urandom(12345)


class DrainingProxy(FaultProxy):
    """Reads a request's body before a scripted error answer: an 8 MiB part cut off unread would be a broken
    pipe to the client, which never sees the answer."""

    def handle(self, handler):
        if self.faults[:1] and self.faults[0] != "pass":
            handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        FaultProxy.handle(self, handler)


@pytest.fixture
def proxy(moto):  # noqa: F811
    proxy = DrainingProxy(moto.endpoint)
    yield proxy
    proxy.stop()


def client(moto, proxy, region="us-east-1"):  # noqa: F811
    return upload.Client(moto.bucket, Static(moto.access_key, moto.secret_key), region,
                         {"S3_ENDPOINT_URL": proxy.endpoint})


def put(client, tmp_path, key, data=DATA):
    path = tmp_path / "snapshot"
    path.write_bytes(data)
    return client.upload(str(path), key)


def stored(moto, key):  # noqa: F811
    return hashlib.sha256(moto.client().get_object(Bucket=moto.bucket, Key=key)["Body"].read()).hexdigest()


def scopes(proxy):
    return [headers["Authorization"].split("/")[2] for _, _, headers in proxy.seen]


@pytest.mark.parametrize("fault,requests", [("region-header", ["PUT", "PUT"]), ("region-malformed", ["PUT", "PUT"]),
                                            ("region-bare", ["PUT", "HEAD", "PUT"])])
def test_a_wrong_region_is_signed_again_once_for_the_buckets(moto, proxy, tmp_path, fault, requests):  # noqa: F811
    proxy.faults[:] = [fault]
    uploads = client(moto, proxy)
    key = "redirects/%s" % fault
    assert put(uploads, tmp_path, key) == len(DATA)
    assert stored(moto, key) == hashlib.sha256(DATA).hexdigest()
    assert [method for method, _, _ in proxy.seen] == requests
    assert scopes(proxy)[0] == "us-east-1" and scopes(proxy)[-1] == "us-west-2"
    if fault == "region-bare":  # HeadBucket, still signed for the region the client had, says where
        assert proxy.seen[1][1] == "/sm-bucket" and scopes(proxy)[1] == "us-east-1"
    put(uploads, tmp_path, key + "-later")  # the bucket's region is kept: the next upload goes there at once
    assert scopes(proxy)[len(requests):] == ["us-west-2"]


def test_a_multipart_upload_redirected_on_a_part_goes_on_in_the_buckets_region(moto, proxy, tmp_path):  # noqa: F811
    data = os.urandom(9 << 20)
    proxy.faults[:] = ["pass", "region-header"]  # CreateMultipartUpload passes (moto checks no region), part 1 not
    assert put(client(moto, proxy), tmp_path, "redirects/multipart", data) == len(data)
    assert stored(moto, "redirects/multipart") == hashlib.sha256(data).hexdigest()
    assert [(method, "partNumber=" in path) for method, path, _ in proxy.seen] == [
        ("POST", False), ("PUT", True), ("PUT", True), ("PUT", True), ("POST", False)]
    assert scopes(proxy) == ["us-east-1", "us-east-1", "us-west-2", "us-west-2", "us-west-2"]


def test_a_second_wrong_region_answer_to_one_request_is_the_error(moto, proxy, tmp_path):  # noqa: F811
    proxy.faults[:] = ["region-header", "region-header"]
    with pytest.raises(upload.UploadFailed) as e:
        put(client(moto, proxy), tmp_path, "redirects/twice")
    assert "PutObject returned HTTP 301 PermanentRedirect: The bucket you are attempting" in str(e.value)
    assert len(proxy.seen) == 2 and moto.secret_key not in str(e.value)


def dates(proxy):
    return [time.mktime(time.strptime(h["X-Amz-Date"], "%Y%m%dT%H%M%SZ")) for _, _, h in proxy.seen]


def test_request_time_too_skewed_is_signed_again_with_the_servers_clock(moto, proxy, tmp_path):  # noqa: F811
    proxy.faults[:] = ["skewed"]  # S3's clock an hour ahead of ours
    uploads = client(moto, proxy, "us-west-2")
    put(uploads, tmp_path, "skew/once")
    assert stored(moto, "skew/once") == hashlib.sha256(DATA).hexdigest()
    first, second = dates(proxy)
    assert 3500 < second - first < 3700
    put(uploads, tmp_path, "skew/later")  # the clock's offset is kept for the client's later requests
    assert 3500 < dates(proxy)[2] - first < 3700


def test_skewed_twice_in_one_request_is_the_error(moto, proxy, tmp_path):  # noqa: F811
    proxy.faults[:] = ["skewed", "skewed"]
    with pytest.raises(upload.UploadFailed) as e:
        put(client(moto, proxy, "us-west-2"), tmp_path, "skew/twice")
    assert "PutObject returned HTTP 403 RequestTimeTooSkewed: The difference between" in str(e.value)
    assert len(proxy.seen) == 2

"""launcher.aws.sigv4 against the published SigV4 test suite, the S3 documentation's examples, and botocore's own
S3SigV4Auth and SigV4Auth (service codeartifact) on generated requests, with the clock frozen."""

import datetime
import hashlib
import os
import random
from urllib.parse import parse_qsl, quote

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from launcher.aws import sigv4

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sigv4_vectors")
SUITE_TIME = datetime.datetime(2015, 8, 30, 12, 36, 0)


class Keys:
    def __init__(self, access_key, secret_key, token=None):
        self.access_key, self.secret_key, self.token = access_key, secret_key, token


def suite_cases():
    with open(os.path.join(VECTORS, "expected.txt")) as f:
        rows = [line.split() for line in f if line.strip() and not line.startswith("#")]
    return [(row[0], row[1], row[2] if len(row) > 2 else None) for row in rows]


def parse_req(case):
    """method, target, [(name, value)], body of a raw .req (continuation lines join their header)."""
    with open(os.path.join(VECTORS, case + ".req"), encoding="utf-8", newline="") as f:
        head, _, body = f.read().partition("\n\n")
    lines = head.split("\n")
    method, rest = lines[0].split(" ", 1)
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            headers[-1] = (headers[-1][0], headers[-1][1] + "\n" + line)
        elif line:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return method, rest.rsplit(" ", 1)[0], headers, body.encode("utf-8")


@pytest.fixture
def frozen(monkeypatch):
    """Freeze botocore's clock (the oracle's, not sm-train's: sm-train is given the time)."""
    def freeze(when):
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: when)
    return freeze


def botocore_sign(signer_class, service, method, url, headers, body, keys, region, params=None):
    request = AWSRequest(method=method, url=url, data=body, params=params or {})
    for name, value in headers:
        request.headers[name] = value
    credentials = BotoCredentials(keys.access_key, keys.secret_key, keys.token)
    signer_class(credentials, service, region).add_auth(request)
    return request


@pytest.mark.parametrize("case,expected,token", suite_cases())
def test_suite_vector(case, expected, token, frozen):
    method, target, headers, body = parse_req(case)
    keys = Keys("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    url = "https://example.amazonaws.com" + target
    ours = dict(sigv4.sign(method, url, headers, hashlib.sha256(body).hexdigest(), keys, "us-east-1", "service",
                           SUITE_TIME))["Authorization"]
    assert ours.endswith("Signature=" + expected)
    frozen(SUITE_TIME)
    path, _, query = target.partition("?")
    params = parse_qsl(query, keep_blank_values=True) or None  # as botocore's own harness passes a query
    theirs = botocore_sign(botocore.auth.SigV4Auth, "service", method, "https://example.amazonaws.com" + path,
                           headers, body, keys, "us-east-1", params).headers["Authorization"]
    assert ours == theirs


S3_DOC = Keys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
S3_DOC_TIME = datetime.datetime(2013, 5, 24, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("target,headers,signature", [
    ("/test.txt", {"Range": "bytes=0-9"}, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    ("/?lifecycle", {}, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    ("/?max-keys=2&prefix=J", {}, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
])
def test_s3_documentation_get_examples(target, headers, signature):
    signed = sigv4.sign("GET", "https://examplebucket.s3.amazonaws.com" + target, headers, sigv4.EMPTY_SHA256,
                        S3_DOC, "us-east-1", "s3", S3_DOC_TIME)
    assert signed["X-Amz-Date"] == "20130524T000000Z"
    assert signed["X-Amz-Content-SHA256"] == sigv4.EMPTY_SHA256
    assert signed["Authorization"].endswith("Signature=" + signature)
    assert signed["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;")


def test_s3_documentation_put_example():
    # The documentation's PUT signs both Date and X-Amz-Date, which botocore never sends together: check the
    # canonical request and the signature steps directly.
    payload = hashlib.sha256(b"Welcome to Amazon S3.").hexdigest()
    assert payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    headers = [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-date", "20130524T000000Z"),
               ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", payload)]
    creq, signed = sigv4.canonical_request("PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text", headers,
                                           payload, "s3")
    assert signed == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class"
    digest = hashlib.sha256(creq.encode()).hexdigest()
    assert digest == "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"
    scope = "20130524/us-east-1/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", "20130524T000000Z", scope, digest])
    assert sigv4.signature(S3_DOC.secret_key, scope, sts) == \
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"


KEY_PIECES = ["a", "B", "file.txt", "with space", "plus+sign", "per%cent", "tilde~", "", "caf\u00e9", "\u1234",
              "\U0001f600", "a=b", "semi;colon", "q?mark", "hash#", "amp&", "star*", "(paren)", "dollar$", ".",
              "..", "comma,", "colon:", "at@", "'quote'", "back\\slash", "tab\t", "_-"]
QUERY_NAMES = ["list-type", "prefix", "max-keys", "uploads", "partNumber", "uploadId", "x y", "\u00e9", "a+b",
               "domain", "domain-owner", "duration", "format", "repository", "~t"]
HEADER_VALUES = ["text/plain", "  padded  value ", "a   b\t c", "bytes=0-9", "\u00e9t\u00e9", "x,y", "", "1"]


def generated(seed):
    rng = random.Random(seed)
    service = "s3" if seed % 2 == 0 else "codeartifact"
    host = rng.choice(["https://bucket.s3.us-west-2.amazonaws.com", "http://127.0.0.1:9000",
                       "https://s3.cn-north-1.amazonaws.com.cn", "https://d-123456789012.codeartifact.eu-west-1"
                       ".amazonaws.com", "https://[::1]:8443", "https://S3.Amazonaws.COM:443"])
    key = "/".join(rng.choice(KEY_PIECES) for _ in range(rng.randint(1, 5)))
    path = "/" + ("bucket/" if rng.random() < 0.3 else "") + quote(key, safe="/~")
    query = []
    for _ in range(rng.choice([0, 0, 1, 2, 4])):
        value = "" if rng.random() < 0.2 else "".join(rng.choice(KEY_PIECES) for _ in range(rng.randint(1, 3)))
        query.append((rng.choice(QUERY_NAMES), value))
    headers = []
    for _ in range(rng.randint(0, 4)):
        name = rng.choice(["Content-Type", "x-amz-meta-Note", "X-Amz-Meta-note", "Range", "User-Agent", "Expect",
                           "x-amz-checksum-mode", "If-None-Match", "X-Amzn-Trace-Id", "Content-MD5"])
        headers.append((name, rng.choice(HEADER_VALUES)))
    if rng.random() < 0.15:
        headers.append(("Date", "Tue, 01 Jan 2030 00:00:00 GMT"))
    method = rng.choice(["GET", "GET", "HEAD", "PUT", "POST", "DELETE"])
    body = rng.choice([b"", b"", b"payload", os.urandom(rng.randint(1, 300))]) if method in ("PUT", "POST") else b""
    token = rng.choice([None, "FwoGZXIvYXdzE//token+with/slashes==", "IQoJb3JpZ2luX2VjE" * 20])
    keys = Keys(rng.choice(["AKIAIOSFODNN7EXAMPLE", "ASIAXYZ"]), rng.choice(["s3cr3t/+=", "wJalrXUtnFEMI"]), token)
    region = rng.choice(["us-east-1", "us-west-2", "cn-north-1", "us-gov-west-1"])
    when = datetime.datetime(2026, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
                             rng.randint(0, 59))
    return service, method, host, path, query, headers, body, keys, region, when


@pytest.mark.parametrize("seed", range(240))
def test_generated_request_matches_botocore(seed, frozen):
    service, method, host, path, query, headers, body, keys, region, when = generated(seed)
    encoded = "&".join("%s=%s" % (quote(n, safe="-_.~"), quote(v, safe="-_.~")) for n, v in query)
    url = host + path + ("?" + encoded if encoded else "")
    payload = hashlib.sha256(body).hexdigest()
    ours = sigv4.sign(method, url, headers, payload, keys, region, service, when)
    frozen(when)
    signer = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    # botocore signs the query of a URL as sent, and one given as parameters from the values: both must agree.
    for theirs_url, params in ((url, None), (host + path, query or None)):
        request = botocore_sign(signer, service, method, theirs_url, headers, body, keys, region, params)
        theirs = [(n, v) for n, v in request.headers.items()]
        assert sorted(ours) == sorted(theirs)


def test_dict_in_dict_out_and_old_signature_replaced():
    keys = Keys("AK", "SK", "TOKEN")
    first = sigv4.sign("GET", "https://b.s3.amazonaws.com/k", {"Range": "bytes=1-"}, sigv4.EMPTY_SHA256, keys,
                       "us-east-1", "s3", 0)
    again = sigv4.sign("GET", "https://b.s3.amazonaws.com/k", first, sigv4.EMPTY_SHA256, keys, "us-east-1", "s3",
                       3600)
    assert isinstance(again, dict) and set(again) == set(first)
    assert again["X-Amz-Date"] == "19700101T010000Z" and again["Authorization"] != first["Authorization"]
    assert again["X-Amz-Security-Token"] == "TOKEN" and again["Range"] == "bytes=1-"


def test_dot_segments_are_kept_for_s3_and_removed_for_other_services():
    assert sigv4.canonical_uri("/b/my-object//example//photo.user", "s3") == "/b/my-object//example//photo.user"
    assert sigv4.canonical_uri("/a/./b/../c%20d//", "codeartifact") == "/a/c%2520d/"

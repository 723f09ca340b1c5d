"""Loopback stand-ins for CodeArtifact, which moto does not implement: the two calls sm-train makes, each
signature checked with botocore's own SigV4 signer (as moto checks S3's), and an HTTPS package index that serves
one tiny wheel to pip only with the token as the Basic-auth password of user ``aws``."""

import base64
import hashlib
import http.server
import io
import json
import os
import subprocess
import threading
import urllib.parse
import zipfile

ACCESS_KEY = "AKIDCODEARTIFACT"
SECRET_KEY = "codeartifact/secret+key"
TOKEN = "ca-token-0123456789-do-not-log"
PACKAGE = "smtrain-tiny"
WHEEL = "smtrain_tiny-0.1-py3-none-any.whl"


def wheel():
    """A valid wheel of one module, smtrain_tiny, whose import prints a line."""
    files = {"smtrain_tiny.py": b"print('smtrain_tiny imported')\n",
             "smtrain_tiny-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: smtrain-tiny\nVersion: 0.1\n",
             "smtrain_tiny-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                 b"Tag: py3-none-any\n"}
    record = ""
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += "%s,sha256=%s,%d\n" % (name, digest, len(data))
    record += "smtrain_tiny-0.1.dist-info/RECORD,,\n"
    files["smtrain_tiny-0.1.dist-info/RECORD"] = record.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def self_signed(folder):
    """A certificate for 127.0.0.1 and its key, made with openssl; (cert, key) paths."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def signature_ok(method, path, headers, region):
    """Recompute the request's SigV4 signature with botocore, from the signed headers and X-Amz-Date."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 Credential=%s/" % ACCESS_KEY):
        return False
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(method=method, url="http://%s%s" % (headers["Host"], path), data=b"",
                         headers={name: headers[name] for name in signed if name in headers})
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "codeartifact", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return auth.endswith("Signature=" + expected)


class Servers(object):
    """The CodeArtifact API (plain HTTP) and the package index (HTTPS) on 127.0.0.1; ``calls`` records both."""

    def __init__(self, folder, region="us-west-2", fail=None):
        self.region = region
        self.fail = fail            # operation name -> (status, JSON body) to answer instead
        self.token = TOKEN
        self.calls = []
        self.cert, key = self_signed(folder)
        self.index = self._serve(self._index_handler(), cert=(self.cert, key))
        self.api = self._serve(self._api_handler())
        self.api_url = "http://127.0.0.1:%d" % self.api.server_port
        self.index_url = "https://127.0.0.1:%d/pypi/repo/" % self.index.server_port

    def _serve(self, handler, cert=None):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if cert:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*cert)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def close(self):
        for server in (self.api, self.index):
            server.shutdown()
            server.server_close()

    def _api_handler(self):
        servers = self

        class Api(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, value):
                body = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_call(self, method):
                path, _, query = self.path.partition("?")
                params = dict(urllib.parse.parse_qsl(query))
                operation = {"/v1/authorization-token": "GetAuthorizationToken",
                             "/v1/repository/endpoint": "GetRepositoryEndpoint"}.get(path)
                servers.calls.append((operation, method, params))
                if operation is None:
                    return self.answer(404, {"message": "no such operation"})
                if not signature_ok(method, self.path, self.headers, servers.region):
                    return self.answer(403, {"__type": "InvalidSignatureException",
                                             "message": "The request signature we calculated does not match"})
                if servers.fail and operation in servers.fail:
                    return self.answer(*servers.fail[operation])
                if operation == "GetAuthorizationToken":
                    return self.answer(200, {"authorizationToken": servers.token, "expiration": 1900000000})
                return self.answer(200, {"repositoryEndpoint": servers.index_url})

            def do_POST(self):
                self.handle_call("POST")

            def do_GET(self):
                self.handle_call("GET")

        return Api

    def _index_handler(self):
        servers = self
        data = wheel()

        class Index(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                expected = "Basic " + base64.b64encode(("aws:" + servers.token).encode()).decode()
                servers.calls.append(("index", "GET", self.path))
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="index"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.rstrip("/") == "/pypi/repo/simple/%s" % PACKAGE:
                    body = ('<html><body><a href="/files/%s">%s</a></body></html>' % (WHEEL, WHEEL)).encode()
                    kind = "text/html"
                elif self.path == "/files/" + WHEEL:
                    body, kind = data, "application/octet-stream"
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Index

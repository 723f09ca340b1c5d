"""Loopback stubs of the credential endpoints (container endpoint, IMDS, STS) for tests/test_credentials.py.

One threaded HTTP server on 127.0.0.1 with a free port answers all three; each test sets what it answers
and reads back what it was asked (method, path, headers, body)."""

import http.server
import json
import threading
import time
import urllib.parse

STS_XML = """<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>%(key)s</AccessKeyId>
      <SecretAccessKey>%(secret)s</SecretAccessKey>
      <SessionToken>%(token)s</SessionToken>
      <Expiration>%(expiry)s</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"""

STS_ERROR = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r-2</RequestId>
</ErrorResponse>"""


def iso(seconds_from_now):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds_from_now))


def creds_doc(key, lifetime=3600, secret="SECRETKEY-CONTAINER", token="TOKEN-CONTAINER"):
    return {"AccessKeyId": key, "SecretAccessKey": secret, "Token": token, "Expiration": iso(lifetime),
            "RoleArn": "arn:aws:iam::123456789012:role/r"}


class Stub(object):
    """What the server answers: ``routes`` maps (method, path) to a function (request) -> (status, body)."""

    def __init__(self):
        self.routes = {}
        self.seen = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                request = {"method": self.command, "path": path, "headers": {k.lower(): v for k, v in
                                                                             self.headers.items()}, "body": body}
                stub.seen.append(request)
                route = stub.routes.get((self.command, path))
                status, text = route(request) if route else (404, "no route")
                data = text if isinstance(text, bytes) else (
                    json.dumps(text) if isinstance(text, dict) else text).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = _answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def calls(self, method, path):
        return [r for r in self.seen if r["method"] == method and r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # Ready-made answers.
    def container(self, path, docs):
        """Answer GET ``path`` with each of ``docs`` in turn (the last one again after that); a doc may be a
        (status, body) pair."""
        answers = list(docs)

        def answer(request):
            doc = answers.pop(0) if len(answers) > 1 else answers[0]
            return doc if isinstance(doc, tuple) else (200, doc)
        self.routes[("GET", path)] = answer

    def imds(self, mode, doc, role="my-role"):
        """mode: "v2" (a token is required), or the status the token PUT gets (403, 404, 405, 400)."""
        token = "IMDS-SESSION-TOKEN"

        def put(request):
            if mode == "v2":
                assert request["headers"].get("x-aws-ec2-metadata-token-ttl-seconds") == "21600"
                return 200, token
            return mode, ""

        def authorised(request):
            return mode != "v2" or request["headers"].get("x-aws-ec2-metadata-token") == token

        base = "/latest/meta-data/iam/security-credentials/"
        self.routes[("PUT", "/latest/api/token")] = put
        self.routes[("GET", base)] = lambda r: (200, role) if authorised(r) else (401, "")
        self.routes[("GET", base + role)] = lambda r: (200, doc) if authorised(r) else (401, "")

    def sts(self, key="ASIASTSKEY", lifetime=3600, error=None):
        def answer(request):
            if error:
                return error[0], STS_ERROR % error[1:]
            return 200, STS_XML % {"key": key, "secret": "SECRETKEY-STS", "token": "TOKEN-STS",
                                   "expiry": iso(lifetime)}
        self.routes[("POST", "/")] = answer


def form(body):
    return dict(urllib.parse.parse_qsl(body.decode()))

"""A loopback reverse proxy in front of an S3 server (moto) that answers each request with the next fault of
a script: the faults a real network and a real S3 produce, which moto never does. A client points its
endpoint at the proxy; the Host it signed is passed on, so moto still checks every signature."""

import http.client
import http.server
import socket
import threading
import time
from email.utils import formatdate
from urllib.parse import urlsplit

ERROR = "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>%s</Code><Message>%s</Message>%s</Error>"


class FaultProxy:
    """``faults`` is a list consumed one per request; "pass" (or an empty list) forwards untouched."""

    def __init__(self, upstream):
        self.upstream = urlsplit(upstream)
        self.faults = []
        self.seen = []  # (method, path, headers) of every request
        self.release = threading.Event()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy.handle(self)

            do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def forward(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        connection.request(handler.command, handler.path, body=body, headers=dict(handler.headers))
        answer = connection.getresponse()
        data = answer.read()
        connection.close()
        return answer.status, [(k, v) for k, v in answer.getheaders() if k.lower() not in ("connection",
                                                                                           "transfer-encoding")], data

    def handle(self, handler):
        self.seen.append((handler.command, handler.path, dict(handler.headers)))
        fault = self.faults.pop(0) if self.faults else "pass"
        handler.close_connection = True
        if fault == "slowdown":
            return self.error(handler, 503, "SlowDown", "Please reduce your request rate.")
        if fault == "region-header":
            return self.error(handler, 301, "PermanentRedirect", "The bucket you are attempting to access must "
                              "be addressed using the specified endpoint.", [("x-amz-bucket-region", "us-west-2")])
        if fault == "region-malformed":
            return self.error(handler, 400, "AuthorizationHeaderMalformed", "The authorization header is "
                              "malformed; the region 'us-east-1' is wrong; expecting 'us-west-2'",
                              extra="<Region>us-west-2</Region>")
        if fault == "region-bare":  # a 301 with nothing to say where: the client must ask HeadBucket
            return self.send(handler, 301, [], b"")
        if fault == "empty-403":  # an error with no error document, as S3 answers a HEAD
            return self.send(handler, 403, [], b"")
        if fault == "cut-request":  # half of the request's body taken, then the connection dropped
            handler.rfile.read(int(handler.headers.get("Content-Length") or 0) // 2)
            handler.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault == "skewed":
            ahead = formatdate(time.time() + 3600, usegmt=True)
            return self.error(handler, 403, "RequestTimeTooSkewed", "The difference between the request time "
                              "and the current time is too large.", [("Date", ahead)])
        status, headers, data = self.forward(handler)
        if fault == "cut":  # the full length promised, half of it sent, then the connection dropped
            return self.send(handler, status, headers, data[:len(data) // 2], length=len(data), cut=True)
        if fault == "short":  # a Content-Length longer than the body
            return self.send(handler, status, headers, data, length=len(data) + 100)
        if fault == "stall":
            return self.send(handler, status, headers, data[:1000], length=len(data), stall=True)
        if fault == "flip":
            data = data[:10] + bytes([data[10] ^ 1]) + data[11:]
        return self.send(handler, status, headers, data)

    def error(self, handler, status, code, message, headers=(), extra=""):
        body = (ERROR % (code, message, extra)).encode()
        self.send(handler, status, list(headers) + [("Content-Type", "application/xml")], body)

    def send(self, handler, status, headers, data, length=None, cut=False, stall=False):
        handler.send_response_only(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "server"):
                handler.send_header(name, value)
        if not any(name.lower() == "date" for name, _ in headers):
            handler.send_header("Date", formatdate(usegmt=True))
        handler.send_header("Content-Length", str(length if length is not None else len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)
        handler.wfile.flush()
        if stall:
            self.release.wait(30)
        if cut or stall:
            handler.connection.shutdown(socket.SHUT_RDWR)

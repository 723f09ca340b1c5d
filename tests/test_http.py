"""launcher.aws.http against servers started here on 127.0.0.1: streaming, short bodies, stalls, refusals,
proxies from the passed environment, and HTTPS verified against AWS_CA_BUNDLE."""

import http.server
import socket
import ssl
import subprocess
import threading

import pytest

from launcher.aws import http as aws_http


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Handler.seen.append((self.requestline, dict(self.headers)))
        if self.path.endswith("/short"):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x" * 40)
            self.close_connection = True
            return
        if self.path.endswith("/stall"):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.server.release.wait(10)
            return
        body = b"0123456789" * 1000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Amz-Request-Id", "R1")
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        Handler.seen.append((self.requestline, dict(self.headers), data))
        self.send_response(204)
        self.end_headers()


def serve(context=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.release = threading.Event()
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def server():
    Handler.seen = []
    server = serve()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.release.set()
    server.shutdown()


def test_streams_the_body_and_reads_headers_in_any_case(server):
    answer = aws_http.request("GET", server + "/a", environ={})
    assert (answer.status, answer.reason) == (200, "OK")
    assert answer.header("x-amz-request-id") == answer.header("X-AMZ-REQUEST-ID") == "R1"
    assert answer.header("missing", "d") == "d"
    chunks = []
    while True:
        data = answer.read(3000)
        if not data:
            break
        chunks.append(data)
    answer.close()
    assert max(len(c) for c in chunks) <= 3000
    assert b"".join(chunks) == b"0123456789" * 1000
    assert Handler.seen[0][1]["Host"] == server.split("//")[1]


def test_readinto_reuses_one_buffer(server):
    answer = aws_http.request("GET", server + "/a", environ={})
    buffer, got = bytearray(4096), bytearray()
    while True:
        n = answer.readinto(buffer)
        if not n:
            break
        got += buffer[:n]
    assert got == b"0123456789" * 1000
    answer = aws_http.request("GET", server + "/short", environ={})
    with pytest.raises(aws_http.ConnectionFailed, match="60 bytes of the body still to come"):
        while answer.readinto(buffer):
            pass


def test_body_is_bounded(server):
    answer = aws_http.request("GET", server + "/a", environ={})
    assert answer.body(limit=25) == b"0123456789012345678901234"
    answer.close()


def test_a_body_shorter_than_its_length_is_a_connection_failure(server):
    answer = aws_http.request("GET", server + "/short", environ={})
    with pytest.raises(aws_http.ConnectionFailed, match="60 bytes of the body still to come"):
        answer.body()


def test_a_stall_past_the_timeout_is_a_connection_failure(server):
    answer = aws_http.request("GET", server + "/stall", timeout=0.5, environ={})
    assert answer.read(10) == b"x" * 10
    with pytest.raises(aws_http.ConnectionFailed, match="timed out"):
        answer.read(10)


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_refused_is_one_line():
    port = free_port()
    with pytest.raises(aws_http.ConnectionFailed) as caught:
        aws_http.request("GET", "http://127.0.0.1:%d/x?secret=1" % port, environ={})
    assert "GET http://127.0.0.1:%d/x: " % port in str(caught.value)
    assert "\n" not in str(caught.value) and "secret" not in str(caught.value)
    assert isinstance(caught.value, OSError)


def test_put_sends_a_file_with_its_length(server, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 5000)
    with open(str(path), "rb") as f:
        f.seek(3)
        answer = aws_http.request("PUT", server + "/k", body=f, headers={"Content-Type": "application/octet-stream"},
                              environ={})
    assert answer.status == 204
    line, headers, data = Handler.seen[0]
    assert headers["Content-Length"] == "14997" and data == (b"abc" * 5000)[3:]


def test_plain_http_goes_through_the_proxy_unless_no_proxy_names_the_host(server):
    # The proxy here is the same server: it sees the absolute URL a proxy is sent.
    target = "http://bucket.example:81/key?x=1"
    answer = aws_http.request("GET", target, environ={"HTTP_PROXY": "http://u:p%40ss@" + server.split("//")[1]})
    answer.close()
    line, headers = Handler.seen[0]
    assert line == "GET http://bucket.example:81/key?x=1 HTTP/1.1"
    assert headers["Host"] == "bucket.example:81"
    assert headers["Proxy-Authorization"] == "Basic dTpwQHNz"
    closed = "http://127.0.0.1:%d" % free_port()
    for no_proxy in ("*", "127.0.0.1", "localhost,.0.1", "127.0.0.1:%s" % server.rpartition(":")[2]):
        answer = aws_http.request("GET", server + "/a", environ={"http_proxy": closed, "NO_PROXY": no_proxy})
        assert answer.status == 200
        answer.close()
    with pytest.raises(aws_http.ConnectionFailed, match="through proxy"):
        aws_http.request("GET", server + "/a", environ={"http_proxy": closed, "no_proxy": "example.org"})


def test_unsupported_proxy_scheme_is_named():
    with pytest.raises(aws_http.ConnectionFailed, match="only http:// proxies"):
        aws_http.request("GET", "https://s3.amazonaws.com/", environ={"HTTPS_PROXY": "socks5://p:1080"})


def test_host_header_as_botocore_signs_it():
    from urllib.parse import urlsplit

    from launcher.aws.sigv4 import host_header

    assert host_header(urlsplit("https://B.S3.amazonaws.com:443/k")) == "b.s3.amazonaws.com"
    assert host_header(urlsplit("http://127.0.0.1:9000/k")) == "127.0.0.1:9000"
    assert host_header(urlsplit("http://[::1]:80/")) == "[::1]"


def tls_server(tmp_path):
    key, cert = str(tmp_path / "key.pem"), str(tmp_path / "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return serve(context), cert


def connect_proxy(seen):
    """A CONNECT proxy that records each CONNECT's head and then relays bytes both ways."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def relay(a, b):
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
        b.close()

    def accept():
        while True:
            client, _ = listener.accept()
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(4096)
            seen.append(head.decode())
            host, port = head.split()[1].decode().rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=relay, args=(client, upstream), daemon=True).start()
            threading.Thread(target=relay, args=(upstream, client), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return "http://user:pw@127.0.0.1:%d" % listener.getsockname()[1]


def test_https_goes_through_the_proxy_with_connect(tmp_path):
    server, cert = tls_server(tmp_path)
    seen = []
    proxy = connect_proxy(seen)
    try:
        url = "https://127.0.0.1:%d/a" % server.server_address[1]
        answer = aws_http.request("GET", url, environ={"HTTPS_PROXY": proxy, "AWS_CA_BUNDLE": cert})
        assert answer.status == 200 and len(answer.body()) == 10000
        assert seen[0].startswith("CONNECT 127.0.0.1:%d HTTP/1.0" % server.server_address[1])
        assert "Proxy-Authorization: Basic dXNlcjpwdw==" in seen[0]
        assert Handler.seen[-1][1]["Host"] == "127.0.0.1:%d" % server.server_address[1]
        assert "Proxy-Authorization" not in Handler.seen[-1][1]
    finally:
        server.shutdown()


def test_https_is_verified_against_aws_ca_bundle(tmp_path):
    server, cert = tls_server(tmp_path)
    url = "https://127.0.0.1:%d/a" % server.server_address[1]
    try:
        with pytest.raises(aws_http.ConnectionFailed, match="certificate verify failed"):
            aws_http.request("GET", url, environ={})
        answer = aws_http.request("GET", url, environ={"AWS_CA_BUNDLE": cert})
        assert answer.status == 200 and len(answer.body()) == 10000
        with pytest.raises(aws_http.ConnectionFailed, match="AWS_CA_BUNDLE=.*nothing"):
            aws_http.request("GET", url, environ={"AWS_CA_BUNDLE": str(tmp_path / "nothing")})
    finally:
        server.shutdown()

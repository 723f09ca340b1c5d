"""One HTTP(S) request over http.client, with no retry: the AWS callers decide what to retry.

HTTPS is verified with the system's certificates, or the bundle named by ``AWS_CA_BUNDLE``; the proxy
variables (``https_proxy``, ``http_proxy``, ``no_proxy``, either case) are read from the ``environ`` the
caller passes, so a caller that must go direct (a link-local credentials endpoint) passes an environ
without them. Every failure below HTTP is a ConnectionFailed with a one-line message."""

import base64
import http.client
import os
import socket
import ssl
from urllib.parse import unquote, urlsplit

from . import sigv4


class ConnectionFailed(OSError):
    """Refused, reset, timed out, name not resolved, TLS failure, or a body cut short."""

    def __str__(self):
        return self.args[0] if self.args else "connection failed"


_contexts = {}


def _tls_context(environ):
    cafile = environ.get("AWS_CA_BUNDLE") or None
    if cafile not in _contexts:
        try:
            _contexts[cafile] = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as error:
            raise ConnectionFailed("cannot load the certificates of AWS_CA_BUNDLE=%s: %s" % (cafile, _reason(error)))
    return _contexts[cafile]


def _env(environ, name):
    """The lower-case spelling wins over the upper-case one, as in urllib."""
    value = environ.get(name.lower())
    if value is None:
        value = environ.get(name.upper())
    return value or None


def _bypass(host, port, no_proxy):
    """``no_proxy`` as urllib reads it: ``*``, or comma-separated host names and domain suffixes."""
    if no_proxy.strip() == "*":
        return True
    host = host.lower()
    with_port = "%s:%d" % (host, port)
    for name in no_proxy.split(","):
        name = name.strip().lstrip(".").lower()
        if name and (name in (host, with_port) or host.endswith("." + name) or with_port.endswith("." + name)):
            return True
    return False


def _proxy_for(scheme, host, port, environ):
    proxy = _env(environ, scheme + "_proxy")
    no_proxy = _env(environ, "no_proxy")
    if proxy is None or (no_proxy and _bypass(host, port, no_proxy)):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    parts = urlsplit(proxy)
    if parts.scheme != "http" or not parts.hostname:
        raise ConnectionFailed("unsupported proxy %s_proxy=%s: only http:// proxies are supported"
                               % (scheme, parts.scheme + "://" + (parts.hostname or "")))
    headers = {}
    if parts.username is not None:
        userinfo = "%s:%s" % (unquote(parts.username), unquote(parts.password or ""))
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(userinfo.encode("utf-8")).decode("ascii")
    return parts.hostname, parts.port or 80, headers


def _reason(error):
    if isinstance(error, socket.timeout):
        return "timed out"
    if isinstance(error, socket.gaierror):
        return "name not resolved (%s)" % (error.strerror or error)
    if isinstance(error, ssl.SSLCertVerificationError):
        return "certificate verify failed (%s)" % (error.verify_message or error.reason)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _length(body):
    if body is None or isinstance(body, (bytes, bytearray)):
        return len(body or b"")
    start = body.tell()
    end = body.seek(0, os.SEEK_END)
    body.seek(start)
    return end - start


class Response:
    """The status line and headers of an answer, with its body to stream or to take whole."""

    def __init__(self, connection, answer, method, what):
        self._connection = connection
        self._answer = answer
        self._what = what
        self.status = answer.status
        self.reason = answer.reason
        self.headers = answer.getheaders()
        length = self.header("Content-Length")
        self._left = int(length) if length is not None and length.strip().isdigit() else None
        self._fresh = True
        if self.status in (204, 304) or method == "HEAD":
            self._left = 0

    def header(self, name, default=None):
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def read(self, n=-1):
        """Up to ``n`` bytes, from at most one read of the socket, so that each call waits at most the timeout
        (all that is left for ``-1``); ``b""`` at the end. A connection that closes before Content-Length bytes
        came is a ConnectionFailed, as is a stall past the timeout."""
        if self._left == 0:
            return b""
        try:
            if n is None or n < 0:
                data = self._answer.read()
            else:
                data = self._answer.read1(n if self._left is None else min(n, self._left))
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise ConnectionFailed("%s: the body was cut: %s" % (self._what, _reason(error)))
        if self._left is not None:
            if not data:
                self.close()
                raise ConnectionFailed("%s: the connection closed with %d bytes of the body still to come"
                                       % (self._what, self._left))
            self._left -= len(data)
        return data

    def readinto(self, buffer):
        """Like read, into ``buffer`` (a bytearray or memoryview, reused by the caller so that a long body
        allocates nothing per chunk); returns the count, 0 at the end."""
        view = memoryview(buffer)
        if self._left is not None:
            view = view[:self._left]
        if not len(view):
            return 0
        if self._answer.chunked:
            data = self.read(len(view))
            view[:len(data)] = data
            return len(data)
        try:
            if self._fresh:  # body bytes read along with the headers wait in the file's buffer: take them alone,
                self._fresh = False  # as readinto1 would add a blocking socket read to them
                data = self._answer.fp.read1(len(view))
                n = len(data)
                view[:n] = data
            else:
                n = self._answer.fp.readinto1(view)  # the response's own file: one socket read at most
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise ConnectionFailed("%s: the body was cut: %s" % (self._what, _reason(error)))
        if not n and self._left is not None:
            self.close()
            raise ConnectionFailed("%s: the connection closed with %d bytes of the body still to come"
                                   % (self._what, self._left))
        if self._left is not None:
            self._left -= n
        return n

    def body(self, limit=1 << 20):
        """The whole body, at most ``limit`` bytes of it (for error documents, JSON, XML)."""
        chunks = []
        size = 0
        while size < limit:
            data = self.read(min(limit - size, 1 << 16))
            if not data:
                break
            chunks.append(data)
            size += len(data)
        return b"".join(chunks)

    def close(self):
        self._answer.close()
        self._connection.close()


def request(method, url, headers=None, body=None, timeout=10.0, environ=None):
    """Send one request and return its Response once the status line and headers have come.

    ``body`` is bytes or a file object positioned at its start, sent with an explicit Content-Length.
    ``timeout`` bounds the connection and every read. Raises ConnectionFailed below HTTP."""
    environ = os.environ if environ is None else environ
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConnectionFailed("unsupported URL %s" % shown_url(url))
    host = parts.hostname
    port = parts.port or (443 if scheme == "https" else 80)
    what = "%s %s://%s%s" % (method, scheme, parts.netloc.rpartition("@")[2], parts.path or "/")
    headers = dict(headers or {})
    if not any(key.lower() == "host" for key in headers):
        headers["Host"] = sigv4.host_header(parts)
    if not any(key.lower() == "content-length" for key in headers) and (body is not None or method in ("PUT", "POST")):
        headers["Content-Length"] = str(_length(body))
    try:
        proxy = _proxy_for(scheme, host, port, environ)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        if scheme == "https":
            context = _tls_context(environ)
            if proxy:
                connection = http.client.HTTPSConnection(proxy[0], proxy[1], timeout=timeout, context=context)
                connection.set_tunnel(host, port, proxy[2])
            else:
                connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        elif proxy:
            connection = http.client.HTTPConnection(proxy[0], proxy[1], timeout=timeout)
            target = "http://%s%s" % (parts.netloc.rpartition("@")[2], target)
            headers.update(proxy[2])
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
    except ValueError as error:  # a port that is not a number
        raise ConnectionFailed("unsupported URL %s: %s" % (shown_url(url), error))
    try:
        connection.request(method, target, body=body, headers=headers)
        answer = connection.getresponse()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        via = " (through proxy %s:%d)" % proxy[:2] if proxy else ""
        raise ConnectionFailed("%s: %s%s" % (what, _reason(error), via))
    except ValueError:  # http.client refuses a header with a line break or beyond Latin-1; its text may be a token
        connection.close()
        raise ConnectionFailed("%s: a header value holds a line break or a character beyond Latin-1 (a credential "
                               "or setting with one?)" % what)
    return Response(connection, answer, method, what)


def shown_url(url):
    """The URL as errors may show it: no user or password, no query."""
    parts = urlsplit(url)
    return "%s://%s%s" % (parts.scheme, parts.netloc.rpartition("@")[2], parts.path)


def shown_host(url):
    """host[:port] of the URL, without a user or password."""
    return urlsplit(url).netloc.rpartition("@")[2]


def exchange(method, url, headers=None, body=None, timeout=10.0, environ=None, limit=1 << 20):
    """One request whose whole answer is wanted: (status, body of at most ``limit`` bytes), the connection
    closed. Raises ConnectionFailed below HTTP."""
    answer = request(method, url, headers, body, timeout, environ)
    try:
        return answer.status, answer.body(limit)
    finally:
        answer.close()

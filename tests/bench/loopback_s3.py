"""A fast loopback S3 look-alike for throughput figures: it serves one file for any GET/HEAD path, with Range,
ETag and (on request) the object's CRC32 checksum, sending the body with sendfile so that the server is not the
bottleneck. It checks no signature (moto does that in the correctness tests; it is too slow for 256 MB).

``python tests/bench/loopback_s3.py [MiB]`` fetches one object with sm-train's downloader and with boto3's
download_file, each in a fresh interpreter, and prints both throughputs and each one's peak RSS."""

import base64
import email.utils
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def serve(path):
    """Start serving ``path``; returns (server, endpoint). Stop with server.shutdown()."""
    size = os.path.getsize(path)
    crc = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            crc = zlib.crc32(block, crc)
    checksum = base64.b64encode(crc.to_bytes(4, "big")).decode()
    modified = email.utils.formatdate(os.path.getmtime(path), usegmt=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_HEAD(self):
            self.answer(body=False)

        def do_GET(self):
            self.answer(body=True)

        def answer(self, body):
            start, end = 0, size - 1
            ranged = self.headers.get("Range", "").startswith("bytes=")
            if ranged:
                first, _, last = self.headers["Range"][6:].partition("-")
                start, end = int(first), min(int(last), size - 1) if last else size - 1
            self.send_response(206 if ranged else 200)
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("ETag", '"bench"')
            self.send_header("Last-Modified", modified)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            if ranged:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
            elif self.headers.get("x-amz-checksum-mode") == "ENABLED":
                self.send_header("x-amz-checksum-crc32", checksum)
            self.end_headers()
            if body:
                self.wfile.flush()
                with open(path, "rb") as f:
                    offset, left = start, end - start + 1
                    while left:
                        sent = os.sendfile(self.connection.fileno(), f.fileno(), offset, left)
                        offset, left = offset + sent, left - sent

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


# Each client runs in a fresh interpreter and reports its own time and peak RSS (ru_maxrss, KiB on Linux).
SM_TRAIN = """
import json, resource, sys, time
sys.path.insert(0, %(root)r)
from launcher.aws import s3
class Keys: access_key, secret_key, token = "AKIDBENCH", "bench-secret-key", None
class Source:
    source = "bench"
    def get(self): return Keys
t = time.monotonic()
n = s3.download("s3://bench/object", %(dest)r, Source(), "us-west-2", {"S3_ENDPOINT_URL": %(endpoint)r}, t + 600)
print(json.dumps({"bytes": n, "seconds": time.monotonic() - t,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
BOTO3 = """
import json, resource, time
import boto3
client = boto3.client("s3", region_name="us-west-2", endpoint_url=%(endpoint)r, aws_access_key_id="AKIDBENCH",
                      aws_secret_access_key="bench-secret-key")
t = time.monotonic()
client.download_file("bench", "object", %(dest)r)
print(json.dumps({"bytes": __import__("os").path.getsize(%(dest)r), "seconds": time.monotonic() - t,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_client(script, python, **values):
    result = subprocess.run([python, "-c", script % values], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=600, check=True)
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def measure(mib=256, rounds=3, python=sys.executable, boto3_python=sys.executable):
    """Best of ``rounds`` for each client on the same server and object: MB/s and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        source, dest = os.path.join(tmp, "object"), os.path.join(tmp, "copy")
        with open(source, "wb") as f:
            block = os.urandom(1 << 20)
            for _ in range(mib):
                f.write(block)
        server, endpoint = serve(source)
        try:
            figures = {}
            for name, script, interpreter in (("sm-train", SM_TRAIN, python), ("boto3", BOTO3, boto3_python)):
                runs = []
                for _ in range(rounds):
                    runs.append(run_client(script, interpreter, root=ROOT, dest=dest, endpoint=endpoint))
                    assert runs[-1]["bytes"] == mib << 20
                    os.unlink(dest)
                best = min(runs, key=lambda r: r["seconds"])
                figures[name] = {"MB/s": round(mib * 1.048576 / best["seconds"], 1),
                                 "seconds": round(best["seconds"], 3),
                                 "peak_rss_mib": round(max(r["rss_mib"] for r in runs), 1)}
            figures["ratio"] = round(figures["sm-train"]["MB/s"] / figures["boto3"]["MB/s"], 2)
            return figures
        finally:
            server.shutdown()


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 256), indent=2))

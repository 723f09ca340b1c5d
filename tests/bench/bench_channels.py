"""make bench, the S3 channel figures: `local`'s channel download (launcher/fetch/channels.py, as `local` runs it:
ListObjectsV2, then the objects into the cache and copied into the tree) against boto3 (the listing's paginator,
then download_file with its default TransferConfig for each object, from a pool of as many threads as sm-train
uses), in the same run, from one loopback bucket server in a process of its own: 1,000 objects of 10 KB, and one
object of 256 MB. Each client runs in a fresh interpreter; the figure is the median, over interleaved rounds, of
boto3's time over sm-train's (at least 1.0x: sm-train as fast or faster). Then sm-train's peak RSS (VmHWM) while it
downloads, and a second run with the same cache, which must send no GetObject.

Then `local --job` with its cache warm, through the pyz: a job whose one channel is the 1,000 small objects, as
the same server describes it (DescribeTrainingJob), its code given with --code DIR (so no code is fetched). The
figure is the median, over interleaved rounds, of its time to the program's first line on stdout minus that of
`local --channel train=DIR` over the same files (at most 0.3 s more); its rounds must send no GetObject.

--quick (what `make test` runs, so that a broken driver fails the tests): one round, 50 objects and an 8 MB one,
budgets shown but not checked (exits 0).

Usage: .venv/bin/python tests/bench/bench_channels.py dist/sm-train.pyz [--quick]
The server checks no signature (moto does that in the tests; it is too slow to measure a client against)."""

import argparse
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUDGETS = {"small": 1.0, "large": 1.0, "rss": 40.0, "job": 0.3}
FULL = {"count": 1000, "small": 10 * 1000, "large": 256 << 20, "rounds": 5, "job rounds": 9}
QUICK = {"count": 50, "small": 10 * 1000, "large": 8 << 20, "rounds": 1, "job rounds": 1}
JOB = "bench-channels-job"
FIRST_LINE = "first line of the program"


class Bucket(http.server.BaseHTTPRequestHandler):
    """ListObjectsV2 and GetObject (with HEAD, Range and If-Match) over a folder: bucket "bench", keys its paths; and
    DescribeTrainingJob for the job JOB, answered with a fixed description."""

    protocol_version = "HTTP/1.1"
    folder = None
    described = None  # DescribeTrainingJob's answer for JOB, as bytes
    gets = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/__gets":
            return self.reply(200, str(Bucket.gets).encode(), "text/plain")
        query = parse_qs(parts.query)
        if "list-type" in query:
            return self.listing(query)
        self.object(unquote(parts.path[len("/bench/"):]), body=True)

    def do_HEAD(self):
        self.object(unquote(urlsplit(self.path).path[len("/bench/"):]), body=False)

    def do_POST(self):
        asked = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        kind = "application/x-amz-json-1.1"
        if self.headers.get("X-Amz-Target") != "SageMaker.DescribeTrainingJob":
            return self.reply(400, b'{"__type": "UnknownOperationException"}', kind)
        if asked.get("TrainingJobName") != JOB:
            return self.reply(400, b'{"__type": "ValidationException", "message": "Requested resource not found."}',
                              kind)
        self.reply(200, self.described, kind)

    def reply(self, status, body, kind="application/xml", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def listing(self, query):
        prefix = query.get("prefix", [""])[0]
        keys = sorted(os.path.relpath(os.path.join(d, n), self.folder) for d, _, names in os.walk(self.folder)
                      for n in names)
        keys = [k for k in keys if k.startswith(prefix)]
        start = int(query.get("continuation-token", ["0"])[0])
        page = keys[start:start + 1000]
        more = start + 1000 < len(keys)
        items = "".join("<Contents><Key>%s</Key><Size>%d</Size><ETag>%s</ETag></Contents>"
                        % (escape(quote(k) if "encoding-type" in query else k),
                           os.path.getsize(os.path.join(self.folder, k)), escape(self.etag(k))) for k in page)
        token = "<NextContinuationToken>%d</NextContinuationToken>" % (start + 1000) if more else ""
        body = ("<?xml version='1.0' encoding='UTF-8'?><ListBucketResult xmlns='http://s3.amazonaws.com/doc/"
                "2006-03-01/'><Name>bench</Name><KeyCount>%d</KeyCount><IsTruncated>%s</IsTruncated>%s%s"
                "</ListBucketResult>" % (len(page), "true" if more else "false", token, items))
        self.reply(200, body.encode())

    def etag(self, key):
        stat = os.stat(os.path.join(self.folder, key))
        return '"%x-%x"' % (stat.st_size, stat.st_mtime_ns)

    def object(self, key, body):
        path = os.path.join(self.folder, key)
        if not os.path.isfile(path):
            return self.reply(404, b"<Error><Code>NoSuchKey</Code><Message>no</Message></Error>")
        size, etag = os.path.getsize(path), self.etag(key)
        if self.headers.get("If-Match", etag) != etag:
            return self.reply(412, b"<Error><Code>PreconditionFailed</Code><Message>no</Message></Error>")
        start, end, status = 0, size, 200
        if self.headers.get("Range"):
            first, _, last = self.headers["Range"].split("=", 1)[1].partition("-")
            start, end, status = int(first), min(int(last) + 1 if last else size, size), 206
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/octet-stream")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, size))
        self.end_headers()
        if not body:
            return
        Bucket.gets += 1
        self.wfile.flush()
        with open(path, "rb") as f:
            while start < end:
                start += os.sendfile(self.connection.fileno(), f.fileno(), start, end - start)


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # socketserver's 5 drops connections when ten clients connect at once


def serve(folder, described):
    Bucket.folder = folder
    with open(described, "rb") as f:
        Bucket.described = f.read()
    server = _Server(("127.0.0.1", 0), Bucket)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the driver closes our stdin


# sm-train's side: as `local` runs it, from the sources (argv[1], the repository); VmHWM, not ru_maxrss, which
# Linux carries across fork and exec from the parent.
SM_TRAIN = """import sys, time
sys.path.insert(0, sys.argv[1])
from launcher.fetch import cache, channels, transfer
env = {"S3_ENDPOINT_URL": sys.argv[2], "AWS_ACCESS_KEY_ID": "AKIDBENCH", "AWS_SECRET_ACCESS_KEY": "bench-secret",
       "AWS_CONFIG_FILE": "", "AWS_SHARED_CREDENTIALS_FILE": "", "AWS_EC2_METADATA_DISABLED": "true"}
started = time.perf_counter()
client = transfer.Client(env, "us-west-2")
listed = channels.plan([("d", "s3://bench/" + sys.argv[3], channels.FULLY)], 1, client)
channels.download(listed, [sys.argv[4]], client, cache.Cache(sys.argv[5]))
took = time.perf_counter() - started
peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(took, int(peak) / 1024.0)
"""
BOTO3 = """import os, sys, time
from concurrent.futures import ThreadPoolExecutor
import boto3
client = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-west-2", aws_access_key_id="AKIDBENCH",
                      aws_secret_access_key="bench-secret")
started = time.perf_counter()
pages = client.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix=sys.argv[2])
keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
def one(key):
    path = os.path.join(sys.argv[3], key[len(sys.argv[2]):])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    client.download_file("bench", key, path)
with ThreadPoolExecutor(int(sys.argv[4])) as pool:
    list(pool.map(one, keys))
print(time.perf_counter() - started)
"""


def measure(endpoint, prefix, top, rounds):
    """Median of boto3's time over sm-train's, over interleaved rounds; sm-train's seconds and peak RSS."""
    sys.path.insert(0, ROOT)
    from launcher.fetch.transfer import WORKERS

    ratios, ours, rss = [], [], []
    for i in range(rounds):
        mine, cache = os.path.join(top, "ours-%d" % i), os.path.join(top, "cache-%d" % i)
        out = subprocess.run([sys.executable, "-I", "-S", "-c", SM_TRAIN, ROOT, endpoint, prefix, mine, cache],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.split()
        theirs = os.path.join(top, "boto3-%d" % i)
        took = float(subprocess.run([sys.executable, "-c", BOTO3, endpoint, prefix, theirs, str(WORKERS)],
                                    check=True, stdout=subprocess.PIPE).stdout)
        ours.append(float(out[0]))
        rss.append(float(out[1]))
        ratios.append(took / float(out[0]))
        shutil.rmtree(theirs)
        if i + 1 < rounds:
            shutil.rmtree(mine)
            shutil.rmtree(cache)
    return statistics.median(ratios), statistics.median(ours), max(rss)


def second_run(endpoint, prefix, top, rounds):
    """GetObject requests of a run with the last round's cache, into a fresh tree."""
    before = int(_get(endpoint + "/__gets"))
    subprocess.run([sys.executable, "-I", "-S", "-c", SM_TRAIN, ROOT, endpoint, prefix, os.path.join(top, "again"),
                    os.path.join(top, "cache-%d" % (rounds - 1))], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return int(_get(endpoint + "/__gets")) - before


def _get(url):
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read().decode()


def describe_job(path):
    """The job's description, as the SageMaker Python SDK's PyTorch estimator makes it (sagemaker_stub's), its one
    channel the small objects; written to ``path`` for the server."""
    sys.path.insert(0, os.path.join(TESTS, "support"))
    import sagemaker_stub

    # Its stored sagemaker_submit_directory (an S3 bundle the bucket lacks) stays unread: --code DIR fills code/.
    with open(path, "w") as f:
        json.dump(sagemaker_stub.description(name=JOB, bucket="bench", channels=[("train", "s3://bench/small/")],
                                             status="Completed", hyperparameters={}), f)


def time_to_first_line(argv, env, log):
    """Seconds from the start of ``argv`` to FIRST_LINE on its stdout; the process is then waited for, and must
    succeed. Its stderr (local's own lines) goes to the file ``log``, which no one reads while it runs."""
    with open(log, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=err)
        took = None
        for line in proc.stdout:
            if FIRST_LINE.encode() in line:
                took = time.perf_counter() - started
                break
        proc.stdout.read()
    if proc.wait() != 0 or took is None:
        with open(log) as f:
            raise SystemExit("%s: no first line, status %s\n%s" % (" ".join(argv), proc.returncode, f.read()))
    return took


def job_figure(pyz, endpoint, bucket, top, rounds):
    """(median of the job's time to the first line minus the folders' run's, the job's median, the folders'
    median, GetObject requests of the job's measured rounds), with the job's cache warmed by a first run."""
    code = os.path.join(top, "code")
    os.makedirs(code)
    with open(os.path.join(code, "train.py"), "w") as f:
        f.write("import sys\nsys.stdout.write(%r)\nsys.stdout.flush()\n" % (FIRST_LINE + "\n"))
    # The same settings for both runs, so that only --job differs: the files named here are empty, so that nothing
    # of this machine's AWS set-up is read.
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="bench-secret",
               AWS_REGION="us-west-2", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL_SAGEMAKER=endpoint, S3_ENDPOINT_URL=endpoint)
    cache = os.path.join(top, "cache")
    job = [sys.executable, pyz, "local", "--job", JOB, "--code", code, "--cache", cache, "--keep"]
    folders = [sys.executable, pyz, "local", "--channel", "train=" + os.path.join(bucket, "small"), "--code", code,
               "--program", "train.py", "--keep"]
    log = os.path.join(top, "stderr")
    time_to_first_line(job + [os.path.join(top, "warm")], env, log)  # fills the cache
    before = int(_get(endpoint + "/__gets"))
    ours, theirs = [], []
    for i in range(rounds):
        ours.append(time_to_first_line(job + [os.path.join(top, "job-%d" % i)], env, log))
        theirs.append(time_to_first_line(folders + [os.path.join(top, "folders-%d" % i)], env, log))
    gets = int(_get(endpoint + "/__gets")) - before
    return (statistics.median(a - b for a, b in zip(ours, theirs)), statistics.median(ours),
            statistics.median(theirs), gets)


def make_objects(folder, sizes):
    for i in range(sizes["count"]):
        path = os.path.join(folder, "small", "d%d" % (i % 10), "part-%05d.bin" % i)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(sizes["small"]))
    os.makedirs(os.path.join(folder, "large"))
    with open(os.path.join(folder, "large", "weights.bin"), "wb") as f:
        for _ in range(sizes["large"] >> 20):
            f.write(os.urandom(1 << 20))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pyz", help="the pyz that runs `local --job` (the download figures run from launcher/)")
    parser.add_argument("--quick", action="store_true", help="one round, 50 objects and an 8 MB one")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--described", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.described)
    sizes = QUICK if args.quick else FULL
    top = tempfile.mkdtemp(prefix="sm-train-bench-channels-")
    server = None
    try:
        bucket = os.path.join(top, "bucket")
        make_objects(bucket, sizes)
        described = os.path.join(top, "described.json")
        describe_job(described)
        server = subprocess.Popen([sys.executable, __file__, "-", "--serve", bucket, "--described", described],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        endpoint = "http://127.0.0.1:%s" % server.stdout.readline().decode().strip()
        return report(os.path.abspath(args.pyz), endpoint, top, sizes, args.quick)
    finally:
        if server is not None:
            server.stdin.close()
            server.wait()
        shutil.rmtree(top)


def report(pyz, endpoint, top, sizes, quick):
    print("S3 channels (a loopback bucket server), boto3's time over sm-train's, median of %d round%s%s"
          % (sizes["rounds"], "" if sizes["rounds"] == 1 else "s", " (quick: budgets not checked)" if quick else ""))
    over, rss = [], []
    for name, prefix, what in (("small", "small/", "%d objects of %d KB" % (sizes["count"], sizes["small"] // 1000)),
                               ("large", "large/", "one object of %d MB" % (sizes["large"] >> 20))):
        work = os.path.join(top, name)
        os.mkdir(work)
        ratio, seconds, peak = measure(endpoint, prefix, work, sizes["rounds"])
        rss.append(peak)
        print("  %s: sm-train %.2f s, %.2fx   (budget at least %.1fx)" % (what, seconds, ratio, BUDGETS[name]))
        if ratio < BUDGETS[name]:
            over.append(name)
        gets = second_run(endpoint, prefix, work, sizes["rounds"])
        print("  %s again, with the cache: %d GetObject requests   (budget 0)" % (what, gets))
        if gets:
            over.append(name + " again")
    print("  sm-train's peak RSS while downloading: %.1f MiB   (budget %.0f MB)" % (max(rss), BUDGETS["rss"]))
    if max(rss) > BUDGETS["rss"]:
        over.append("rss")
    work = os.path.join(top, "job")
    os.mkdir(work)
    more, job, folders, gets = job_figure(pyz, endpoint, os.path.join(top, "bucket"), work, sizes["job rounds"])
    print("  local --job, its cache warm (%d objects of %d KB), time to the program's first line: %.2f s, from local "
          "folders %.2f s, median of %d round%s: %+.2f s   (budget at most +%.1f s)"
          % (sizes["count"], sizes["small"] // 1000, job, folders, sizes["job rounds"],
             "" if sizes["job rounds"] == 1 else "s", more, BUDGETS["job"]))
    if more > BUDGETS["job"]:
        over.append("job")
    print("  local --job, its cache warm: %d GetObject requests   (budget 0)" % gets)
    if gets:
        over.append("job's GetObject")
    if over:
        print("S3 channels: over budget: %s%s" % (", ".join(over), " (quick run: not checked)" if quick else ""))
        return 0 if quick else 1
    print("S3 channels: every figure within its budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())

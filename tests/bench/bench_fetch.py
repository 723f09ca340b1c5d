"""make bench, the code-from-S3 figures: a job whose 1 MB bundle comes from a loopback S3 (moto, authentication on),
time to the program's first line for sm-train against the real toolkit 5.1.4 on the same server; and a 256 MB
object fetched by sm-train's S3 client against boto3's download_file from one fast loopback server, with both
throughputs and sm-train's peak RSS. Prints each figure with its budget; exits 1 naming any figure over budget.

--quick (what `make test` runs, so that a broken driver fails the tests): one round, an 8 MB object, budgets
shown but not checked (exits 0); the toolkit is compared only when a python is given or .venv-toolkit is already
made, since making it takes pip and the network.

Usage: .venv/bin/python tests/bench/bench_fetch.py dist/sm-train.pyz [toolkit-python] [--quick]
The toolkit runs from a scratch venv (made here in .venv-toolkit unless a python is given), never the project's."""

import argparse
import http.server
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, os.path.join(TESTS, "support"))

RUNS = 5
BIG = 256 * 1024 * 1024
QUICK_BIG = 8 * 1024 * 1024
BUDGETS = {"first line": 1.0, "throughput": 0.9, "rss": 30.0}
FIRST_LINE = "first line of the program"


def bundle_1mb():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        program = ("import sys\nprint(%r, flush=True)\n" % FIRST_LINE).encode()
        blob = os.urandom(1024 * 1024)  # incompressible: the object is about 1 MB
        for name, data in (("train.py", program), ("data.bin", blob)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def toolkit_python(given, make=True):
    """The toolkit's python: the one given, else .venv-toolkit's, made when missing if ``make``, else None."""
    if given:
        return given
    venv = os.path.join(ROOT, ".venv-toolkit")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(os.path.join(venv, ".installed")):
        if not make:
            return None
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "--disable-pip-version-check", "sagemaker-training==5.1.4"],
                       check=True)
        open(os.path.join(venv, ".installed"), "w").close()
    return python


def tree(top, uri):
    base = os.path.join(top, "opt", "ml")
    os.makedirs(os.path.join(base, "input", "config"))
    # "localhost": the toolkit waits for every host name to resolve, even a lone one
    hps = {"sagemaker_submit_directory": json.dumps(uri), "sagemaker_program": json.dumps("train.py"),
           "sagemaker_region": json.dumps("us-west-2")}
    for name, value in (("hyperparameters.json", hps), ("inputdataconfig.json", {}),
                        ("resourceconfig.json", {"current_host": "localhost", "hosts": ["localhost"]})):
        with open(os.path.join(base, "input", "config", name), "w") as f:
            json.dump(value, f)
    return base


def time_to_first_line(argv, env):
    """Seconds from the start of ``argv`` to FIRST_LINE on its stdout; the process is then waited for."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for line in proc.stdout:
        if FIRST_LINE.encode() in line:
            took = time.perf_counter() - started
            break
    else:
        proc.wait()
        raise SystemExit("no first line from %s (status %s)" % (argv[0], proc.returncode))
    proc.stdout.read()
    proc.wait()
    return took


def first_line_figures(pyz, toolkit, runs):
    """Median seconds to the first line: {"sm-train": s, "toolkit": s}, without "toolkit" when it is None."""
    import moto_server

    moto = moto_server.start()
    uri = moto.put("bench/source/sourcedir.tar.gz", bundle_1mb())
    env = dict(moto.environ(), PATH=os.environ["PATH"])
    times = {"sm-train": [], "toolkit": []} if toolkit else {"sm-train": []}
    top = tempfile.mkdtemp(prefix="sm-train-bench-fetch-")
    try:
        for i in range(runs):  # interleaved, each start on a fresh tree so every one downloads
            for who in times:
                base = tree(os.path.join(top, "%s-%d" % (who, i)), uri)
                if who == "sm-train":
                    argv = [sys.executable, "-I", "-S", pyz, "--root", base]
                else:
                    argv = [toolkit, "-c", "from sagemaker_training.cli.train import main; main()"]
                times[who].append(time_to_first_line(argv, dict(env, SAGEMAKER_BASE_DIR=base)))
    finally:
        shutil.rmtree(top)
    return {who: statistics.median(values) for who, values in times.items()}


class _Object(http.server.BaseHTTPRequestHandler):
    """One object at every path, with HEAD and byte ranges, for both clients alike (no signature check)."""

    protocol_version = "HTTP/1.1"
    path_to_file = None
    size = BIG

    def log_message(self, *args):
        pass

    def _head(self, status, start, end):
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("ETag", '"bench"')
        self.send_header("Content-Type", "application/octet-stream")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, self.size))
        self.end_headers()

    def _range(self):
        text = self.headers.get("Range")
        if not text:
            return 200, 0, self.size
        first, _, last = text.split("=", 1)[1].partition("-")
        return 206, int(first), min(int(last) + 1 if last else self.size, self.size)

    def do_HEAD(self):
        self._head(*self._range())

    def do_GET(self):
        status, start, end = self._range()
        self._head(status, start, end)
        with open(self.path_to_file, "rb") as f:
            f.seek(start)
            left = end - start
            while left:
                chunk = f.read(min(left, 1 << 20))
                self.wfile.write(chunk)
                left -= len(chunk)


# VmHWM, not ru_maxrss: Linux carries the parent's peak across fork and exec into ru_maxrss. The download code
# comes from launcher/ (argv[1], the repository): the pyz serves its modules only to its own start.
DRIVER = """import sys, time
sys.path.insert(0, sys.argv[1])
from launcher.aws import s3
class Keys(object):
    source = "bench"
    access_key, secret_key, token = "AKIDBENCH", "bench", None
    def get(self):
        return self
env = {"S3_ENDPOINT_URL": sys.argv[2]}
started = time.perf_counter()
s3.download("s3://bench/big.bin", sys.argv[3], Keys(), "us-west-2", env, time.monotonic() + 600)
took = time.perf_counter() - started
peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(took, int(peak) / 1024.0)
"""


def throughput_figures(size, runs):
    import boto3
    from botocore.config import Config

    top = tempfile.mkdtemp(prefix="sm-train-bench-big-")
    try:
        source = os.path.join(top, "object.bin")
        with open(source, "wb") as f:
            for _ in range(size // (1 << 20)):
                f.write(os.urandom(1 << 20))
        _Object.path_to_file = source
        _Object.size = size
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Object)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        endpoint = "http://127.0.0.1:%d" % server.server_port
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-west-2", aws_access_key_id="AKIDBENCH",
                              aws_secret_access_key="bench", config=Config(retries={"max_attempts": 1}))
        ours, theirs, rss = [], [], []
        for i in range(runs):
            dest = os.path.join(top, "ours-%d" % i)
            out = subprocess.run([sys.executable, "-I", "-S", "-c", DRIVER, ROOT, endpoint, dest],
                                 check=True, stdout=subprocess.PIPE).stdout.split()
            ours.append(size / float(out[0]) / 2 ** 20)
            rss.append(float(out[1]))
            os.unlink(dest)
            dest = os.path.join(top, "boto3-%d" % i)
            started = time.perf_counter()
            client.download_file("bench", "big.bin", dest)
            theirs.append(size / (time.perf_counter() - started) / 2 ** 20)
            os.unlink(dest)
        server.shutdown()
        server.server_close()
    finally:
        shutil.rmtree(top)
    return statistics.median(ours), statistics.median(theirs), max(rss)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pyz")
    parser.add_argument("toolkit", nargs="?", help="the python of a venv holding sagemaker-training 5.1.4")
    parser.add_argument("--quick", action="store_true",
                        help="one round, an 8 MB object, budgets not checked, the toolkit only if already made")
    args = parser.parse_args()
    pyz = os.path.abspath(args.pyz)
    runs, size = (1, QUICK_BIG) if args.quick else (RUNS, BIG)
    over = []
    print("code from S3 (loopback servers), medians%s" % (" (quick: one round, budgets not checked)"
                                                         if args.quick else ""))
    toolkit = toolkit_python(args.toolkit, make=not args.quick)
    times = first_line_figures(pyz, toolkit, runs)
    if toolkit:
        ratio = times["sm-train"] / times["toolkit"]
        print("  1 MB bundle from moto, time to the program's first line: sm-train %.0f ms, toolkit 5.1.4 %.0f ms, "
              "%.2fx   (budget %.1fx)" % (times["sm-train"] * 1e3, times["toolkit"] * 1e3, ratio,
                                         BUDGETS["first line"]))
        if ratio > BUDGETS["first line"]:
            over.append("first line")
    else:
        print("  1 MB bundle from moto, time to the program's first line: sm-train %.0f ms (the toolkit skipped: "
              "no .venv-toolkit, which a full run makes)" % (times["sm-train"] * 1e3))
    ours, theirs, rss = throughput_figures(size, 1 if args.quick else 3)
    print("  %d MB object: sm-train %.0f MiB/s, boto3 download_file %.0f MiB/s, %.2fx   (budget at least %.1fx)"
          % (size >> 20, ours, theirs, ours / theirs, BUDGETS["throughput"]))
    print("  sm-train's peak RSS while downloading: %.1f MiB   (budget %.0f MB)" % (rss, BUDGETS["rss"]))
    if ours / theirs < BUDGETS["throughput"]:
        over.append("throughput")
    if rss > BUDGETS["rss"]:
        over.append("rss")
    if over:
        print("code from S3: over budget: %s%s" % (", ".join(over), " (quick run: not checked)" if args.quick else ""))
        return 0 if args.quick else 1
    print("code from S3: every figure within its budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``local`` with S3 channels when things go wrong, through the built pyz: faults of the network and of S3 through the
fault proxy (503, a cut body, a stall) during the listing and the download end with the right bytes or one line,
and the cache then holds only whole objects; a SIGTERM mid-download leaves no partial file; progress shows once a
download takes more than two seconds; and bad input is one line, status 1, with nothing written anywhere."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import error_lines
from fault_proxy import FaultProxy
from local_s3 import cache_state, channel, digests, environ, local, proxied, put_all
from moto_server import moto  # noqa: F401 - the fixture

OBJECTS = {"faults/data/%02d.bin" % i: os.urandom(2000 + i) for i in range(6)}  # a stall sends 1,000 bytes
OBJECTS["faults/data/big.bin"] = os.urandom(17 * 1024 * 1024)  # three ranged parts
URI = "s3://sm-bucket/faults/data/"


@pytest.fixture(scope="module")
def objects(moto):  # noqa: F811
    put_all(moto, OBJECTS)
    put_all(moto, {"faults/clash/x": b"file", "faults/clash/x/y": b"in a folder", "faults/dots/a//b": b"empty part"})
    return moto


@pytest.fixture
def proxy(objects):
    yield from proxied(objects)


def expected():
    return {key[len("faults/data/"):]: data for key, data in OBJECTS.items()}


def only_whole_objects(tmp_path):
    """The cache holds whole objects only, and no temporary file."""
    whole, tmp = cache_state(str(tmp_path / "cache" / "sm-train"))
    assert whole <= digests(OBJECTS) and tmp == []


def release_after(proxy, seconds):
    timer = threading.Timer(seconds, proxy.release.set)  # the stalled answer is then cut, and resumed
    timer.daemon = True
    timer.start()


FAULTS = [
    ("listing 503", ["slowdown", "slowdown"]),
    ("listing cut", ["cut"]),
    ("object 503", ["pass", "slowdown", "slowdown", "slowdown"]),
    ("object cut", ["pass", "cut", "cut", "cut", "cut"]),
    ("object stall", ["pass", "stall", "stall"]),
]


@pytest.mark.parametrize("faults", [f for _, f in FAULTS], ids=[name for name, _ in FAULTS])
def test_faults_end_with_the_right_bytes(pyz, tmp_path, objects, proxy, faults):
    proxy.faults[:] = faults
    if "stall" in faults:
        release_after(proxy, 2)
    keep = str(tmp_path / "tree")
    result = local(pyz, environ(objects, tmp_path, proxy.endpoint), "--keep", keep, "--channel", "d=" + URI,
                   "--", "true")
    stderr = result.stderr.decode()
    assert result.returncode == 0 and not error_lines(stderr), stderr
    assert "retrying in" in stderr  # each fault was met, and survived
    assert channel(keep, "d") == expected()
    only_whole_objects(tmp_path)
    assert cache_state(str(tmp_path / "cache" / "sm-train"))[0] == digests(OBJECTS)


def test_a_refused_download_is_one_line_and_leaves_only_whole_objects(pyz, tmp_path, objects, proxy):
    proxy.faults[:] = ["pass", "pass", "pass", "empty-403"]
    result = local(pyz, environ(objects, tmp_path, proxy.endpoint), "--channel", "d=" + URI, "--", "true")
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    lines = error_lines(stderr)
    assert len(lines) == 1 and "GetObject returned HTTP 403 Forbidden (no error document)" in lines[0], stderr
    assert "Traceback" not in stderr
    only_whole_objects(tmp_path)
    assert os.listdir(str(tmp_path / "tmp")) == []  # the temporary tree is gone


def test_sigterm_mid_download_leaves_no_partial_file(pyz, tmp_path, objects, proxy):
    proxy.faults[:] = ["pass"] + ["stall"] * 20
    env = environ(objects, tmp_path, proxy.endpoint)
    proc = subprocess.Popen([sys.executable, pyz, "local", "--channel", "d=" + URI, "--", "true"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(proxy.seen) < 4 and time.monotonic() < deadline:  # the listing, then stalled downloads
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    stderr = err.decode()
    assert proc.returncode == 143, stderr
    lines = error_lines(stderr)
    assert len(lines) == 1 and "stopped by SIGTERM (signal 15) while downloading the S3 channels" in lines[0], stderr
    whole, tmp = cache_state(str(tmp_path / "cache" / "sm-train"))
    assert whole == set() and tmp == []  # every download was stalled: none came whole
    assert os.listdir(str(tmp_path / "tmp")) == []


def test_progress_shows_past_two_seconds(pyz, tmp_path, objects, proxy):
    proxy.faults[:] = ["pass", "stall"]
    release_after(proxy, 5)  # the download takes more than two seconds, however slow the start
    result = local(pyz, environ(objects, tmp_path, proxy.endpoint), "--channel", "d=" + URI, "--", "true")
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    progress = [line for line in stderr.splitlines() if " INFO     download" in line]
    assert progress and "downloading: " in progress[0] and " of 7 objects, " in progress[0], stderr
    assert progress[-1].split(" INFO     ")[1].startswith("downloaded 7 of 7 objects, 17.0 MiB of 17.0 MiB, ")


def test_progress_on_a_terminal_is_one_line_updated_in_place(pyz, tmp_path, objects, proxy):
    import pty

    proxy.faults[:] = ["pass", "stall"]
    release_after(proxy, 5)  # the download takes more than two seconds, however slow the start
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, pyz, "local", "--channel", "d=" + URI, "--", "true"],
                            env=environ(objects, tmp_path, proxy.endpoint), stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0, seen.decode("utf-8", "replace")
    os.close(master)
    text = seen.decode("utf-8", "replace")
    assert "\rdownloading: " in text and "\x1b[K" in text and "\rdownloaded 7 of 7 objects" in text, text
    assert " INFO     downloading" not in text
    # the stalled download, cut and resumed: its log record clears the progress line first, rather than follow it
    assert re.search("\r\x1b\\[K[0-9-]+ [0-9:,]+ sm-train INFO     s3://sm-bucket/faults/data/", text), text


def bad_inputs(objects, tmp_path):  # noqa: F811
    iam = objects.client("iam")
    iam.create_user(UserName="no-rights")
    key = iam.create_access_key(UserName="no-rights")["AccessKey"]
    other = FaultProxy(objects.endpoint)
    other.faults[:] = ["region-header"]
    nobody = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    return other, [
        ("no credentials", ["--channel", "d=" + URI], {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
         "no AWS credentials found; tried environment variables"),
        ("access denied", ["--channel", "d=" + URI], nobody, "ListObjectsV2 returned HTTP 403 AccessDenied: Access"),
        ("empty prefix", ["--channel", "d=s3://sm-bucket/faults/nothing/"], {},
         "channel d: no S3 objects found under s3://sm-bucket/faults/nothing/"),
        ("no bucket", ["--channel", "d=s3://no-such-bucket/x"], {}, "HTTP 404 NoSuchBucket"),
        ("other region", ["--channel", "d=" + URI], {"AWS_REGION": "eu-central-1", "S3_ENDPOINT_URL": other.endpoint},
         "the bucket is in us-west-2, not in eu-central-1"),
        ("no bucket name", ["--channel", "d=s3://"], {}, "--channel d: s3:// is not an S3 URI"),
        ("one slash", ["--channel", "d=s3:/sm-bucket/x"], {}, "is not an S3 URI of the form s3://bucket/prefix"),
        ("bad bucket", ["--channel", "d=s3://my bucket/x"], {}, "does not name an S3 bucket and key"),
        ("code bucket", ["--code", "s3://sm-bucket/", "--program", "t.py"], {}, "--code s3://sm-bucket/: name the"),
        ("clash", ["--channel", "d=s3://sm-bucket/faults/clash/"], {}, "s3://sm-bucket/faults/clash/x and "
         "s3://sm-bucket/faults/clash/x/y cannot both be laid out"),
        ("dots", ["--channel", "d=s3://sm-bucket/faults/dots/"], {}, "its path 'a//b' has an empty, '.' or '..' part"),
        ("too small", ["--channel", "d=" + URI, "--sample", "100B"], {}, "--sample 100 B takes no object"),
    ]


def test_bad_input_is_one_line_with_nothing_written(pyz, tmp_path, objects):
    other, cases = bad_inputs(objects, tmp_path)
    try:
        for name, args, extra, message in cases:
            env = environ(objects, tmp_path, **{k: v for k, v in extra.items() if v is not None})
            for gone in [k for k, v in extra.items() if v is None]:
                env.pop(gone)
            result = local(pyz, env, *(args + ["--", "true"] if "--program" not in args else args))
            stderr = result.stderr.decode()
            assert result.returncode == 1, (name, stderr)
            assert len(stderr.splitlines()) == 1 and message in stderr and " ERROR " in stderr, (name, stderr)
            assert objects.secret_key not in stderr
            assert os.listdir(str(tmp_path / "tmp")) == [] and not (tmp_path / "cache").exists(), name
    finally:
        other.stop()


@pytest.mark.parametrize("args,message", [
    (["--channel", "d=" + URI, "--shard", "e"], "--shard e: no S3 channel of that name"),
    (["--channel", "d=%s" % os.path.dirname(__file__), "--shard", "d"], "--shard d: no S3 channel of that name"),
    (["--sample", "1GB"], "--sample applies to S3 channels"),
    (["--channel", "d=" + URI, "--sample", "lots"], "--sample 'lots': expected a size such as 200MB"),
    (["--channel", "d=" + URI, "--cache", "x", "--no-cache"], "give --cache DIR or --no-cache, not both"),
])
def test_wrong_options_are_usage_errors(pyz, tmp_path, objects, args, message):
    result = local(pyz, environ(objects, tmp_path), *(args + ["--", "true"]))
    stderr = result.stderr.decode()
    assert result.returncode == 2 and len(stderr.splitlines()) == 1 and message in stderr, stderr

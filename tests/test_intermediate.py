"""Intermediate output (sagemaker_s3_output) through the built pyz against moto's S3 with request authentication
on: every file closed under output/intermediate arrives at the toolkit's key (golden, from 5.1.4) with the
bytes of its last closed version; the job runs supervised; the uploads finish after the program's end and
after SIGTERM; faults end with everything uploaded or the failure file naming what is not."""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time

import moto_server
import pytest
from conftest import clean_env, make_tree, print_env, run_pyz
from credential_stubs import Stub, creds_doc
from fault_proxy import FaultProxy

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.join(HERE, "support", "intermediate_tree.py")
with open(os.path.join(HERE, "golden_intermediate", "keys.json")) as _f:
    GOLDEN = json.load(_f)["cases"]
ONE = ("import os, sys\nd = os.path.join(sys.argv[1], 'a')\nos.makedirs(d)\n"
       "open(os.path.join(d, 'b.txt'), 'w').write('one file\\n')\n")
PID = "import os, sys\nprint('pid', os.getpid())\n"


@pytest.fixture(scope="session")
def server():
    return moto_server.start()


def job(tmp_path, location, **hps):
    hps = dict(hps, sagemaker_s3_output=json.dumps(location))
    return make_tree(tmp_path / "ml", hyperparameters=hps)


def intermediate(root):
    return os.path.join(root, "output", "intermediate")


def objects(server, prefix):
    """{key: sha256} of every object under ``prefix``."""
    s3 = server.client()
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=server.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=server.bucket, Key=item["Key"])["Body"].read()
            found[item["Key"]] = hashlib.sha256(body).hexdigest()
    return found


def program_digests(result):
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def failure(root):
    path = os.path.join(root, "output", "failure")
    return open(path).read() if os.path.exists(path) else None


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_keys_and_bytes_as_the_toolkit(pyz, server, tmp_path, case):
    golden = GOLDEN[case]  # the same forms, with "golden" made "ours" so the two never share a key
    root = job(tmp_path, golden["sagemaker_s3_output"].replace("golden", "ours"))
    name = golden["TRAINING_JOB_NAME"]
    env = clean_env(**server.environ(**({"TRAINING_JOB_NAME": name.replace("golden", "ours")} if name else {})))
    program = [TREE] if golden["program"] == "tree" else ["-c", ONE]
    result = run_pyz(pyz, "--root", root, "--", sys.executable, *program, intermediate(root), env=env, timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert failure(root) is None
    expected = {key.replace("golden", "ours", 1): digest for key, digest in golden["objects"].items()}
    prefix = next(iter(expected)).split("output/intermediate/")[0] + "output/intermediate/"
    if golden["program"] == "tree":  # the toolkit misses the file renamed in; sm-train uploads it
        assert prefix + "sub/renamed-in.bin" not in expected
        expected[prefix + "sub/renamed-in.bin"] = program_digests(result)["sub/renamed-in.bin"]
    assert objects(server, prefix) == expected
    files = program_digests(result) if golden["program"] == "tree" else golden["files"]
    assert {key[len(prefix):]: digest for key, digest in expected.items()} == files  # the last versions


def test_supervised_and_said_so(pyz, server, tmp_path):
    root = job(tmp_path, "s3://sm-bucket/said/so")
    env = clean_env(**server.environ(TRAINING_JOB_NAME="job-2"))
    status, shown, _ = print_env(pyz, root, "--", sys.executable, "-c", PID, env=env)
    assert status == 0
    assert set(shown) >= {"env", "argv", "cwd", "error"}
    assert shown["intermediate"] == {"from": intermediate(root), "to": "s3://sm-bucket/said/so/job-2/output/"
                                     "intermediate/", "supervised": True}
    shell = run_pyz(pyz, "--root", root, "--print-env", "--", "true", env=env).stdout.decode()
    assert '# during: files closed under "%s" are uploaded to "s3://sm-bucket/said/so/job-2/output/intermediate/"' \
        % intermediate(root) in shell
    process = subprocess.Popen([sys.executable, pyz, "--root", root, "--", sys.executable, "-c", PID], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert int(out.decode().split()[1]) != process.pid  # a child, not exec
    assert "sm-train stays the program's parent (supervised)" in err.decode()
    assert os.path.isdir(os.path.join(intermediate(root), ".tmp.sagemaker_s3_sync"))


@pytest.mark.parametrize("setting", ["file", "existing", "none"])
def test_no_sync_runs_as_exec(pyz, tmp_path, setting):
    hps = {"sagemaker_s3_output": json.dumps("file:///tmp/out")} if setting != "none" else {}
    root = make_tree(tmp_path / "ml", hyperparameters=hps)
    if setting == "existing":  # the platform's own sync
        hps["sagemaker_s3_output"] = json.dumps("s3://sm-bucket/x")
        make_tree(root, hyperparameters=hps)
        os.makedirs(intermediate(root))
    process = subprocess.Popen([sys.executable, pyz, "--root", root, "--", sys.executable, "-c", PID],
                               env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert int(out.decode().split()[1]) == process.pid
    assert "Intermediate output" not in err.decode()
    assert os.path.isdir(intermediate(root)) == (setting == "existing")


def test_other_scheme_is_one_error(pyz, tmp_path):
    root = job(tmp_path, "gs://bucket/prefix")
    result = run_pyz(pyz, "--root", root, "--", "true")
    err = result.stderr.decode()
    assert result.returncode == 1
    assert "Traceback" not in err and len([line for line in err.splitlines() if " ERROR " in line]) == 1
    assert "sagemaker_s3_output=gs://bucket/prefix: Expecting 's3' scheme, got: gs" in err
    assert "Expecting 's3' scheme" in failure(root)
    assert not os.path.exists(intermediate(root))


def test_plain_start_loads_no_upload_code(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", hyperparameters={})
    result = subprocess.run([sys.executable, "-X", "importtime", pyz, "--root", root, "--", "true"],
                            env=clean_env(), stderr=subprocess.PIPE, timeout=60)
    modules = {line.split("|")[-1].strip() for line in result.stderr.decode().splitlines() if "|" in line}
    assert result.returncode == 0 and "_json" in modules  # the lines were read (launcher modules run unlisted)
    assert not {m for m in modules if m.startswith(("launcher.aws", "urllib", "threading", "ctypes"))}


def test_polling_fallback(pyz, server, tmp_path):
    root = job(tmp_path, "s3://sm-bucket/polled")
    env = clean_env(**server.environ(TRAINING_JOB_NAME="job-p", SM_TRAIN_INTERMEDIATE_POLL="0.2"))
    result = run_pyz(pyz, "--root", root, "--", sys.executable, TREE, intermediate(root), env=env, timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "(polling)" in result.stderr.decode()
    prefix = "polled/job-p/output/intermediate/"
    assert {k[len(prefix):]: v for k, v in objects(server, prefix).items()} == program_digests(result)


def test_thousand_small_files(pyz, server, tmp_path):
    root = job(tmp_path, "s3://sm-bucket/many")
    program = ("import os, sys\nfor i in range(1000):\n    d = os.path.join(sys.argv[1], 'd%d' % (i % 10))\n"
               "    os.makedirs(d, exist_ok=True)\n    open(os.path.join(d, 'f%04d' % i), 'w').write(str(i))\n")
    env = clean_env(**server.environ(TRAINING_JOB_NAME="job-m"))
    result = run_pyz(pyz, "--root", root, "--", sys.executable, "-c", program, intermediate(root), env=env,
                     timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    prefix = "many/job-m/output/intermediate/"
    got = objects(server, prefix)
    assert got == {prefix + "d%d/f%04d" % (i % 10, i): hashlib.sha256(str(i).encode()).hexdigest()
                   for i in range(1000)}
    assert not os.listdir(os.path.join(intermediate(root), ".tmp.sagemaker_s3_sync", "d0"))  # copies removed


SLEEPER = ("import os, random, sys, time\nd = sys.argv[1]\n"
           "open(os.path.join(d, 'forty.bin'), 'wb').write(random.Random(4).randbytes(40 << 20))\n"
           "open(sys.argv[2], 'w').close()\ntime.sleep(300)\n")


def test_sigterm_during_a_40_mib_upload(pyz, server, tmp_path):
    proxy = FaultProxy(server.endpoint)
    try:
        root = job(tmp_path, "s3://sm-bucket/stopped")
        env = clean_env(**server.environ(TRAINING_JOB_NAME="job-t", S3_ENDPOINT_URL=proxy.endpoint))
        marker = str(tmp_path / "written")
        process = subprocess.Popen([sys.executable, pyz, "--root", root, "--grace-period", "60", "--",
                                    sys.executable, "-c", SLEEPER, intermediate(root), marker], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not any("partNumber=1&" in path for _, path, _ in proxy.seen) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)  # the first part is on its way, four more to go
        _, err = process.communicate(timeout=120)
        assert process.returncode == 143, err.decode()[-3000:]
        parts = [path for _, path, _ in proxy.seen if "partNumber=" in path]
        assert len(parts) == 5
        key = "stopped/job-t/output/intermediate/forty.bin"

        assert objects(server, key) == {key: hashlib.sha256(random.Random(4).randbytes(40 << 20)).hexdigest()}
        assert "not uploaded" not in failure(root) and "SIGTERM" in failure(root)
    finally:
        proxy.stop()


NINE = ("import os, random, sys\nopen(os.path.join(sys.argv[1], 'nine.bin'), 'wb').write("
        "random.Random(9).randbytes(20 << 20))\n")


@pytest.mark.parametrize("faults", [["pass", "slowdown"], ["pass", "cut-request"], ["pass", "pass", "short"]],
                         ids=["503-on-a-part", "cut-mid-part", "cut-answer"])
def test_part_faults_then_success(pyz, server, tmp_path, faults):
    proxy = FaultProxy(server.endpoint)
    proxy.faults = list(faults)
    name = faults[-1]
    try:
        root = job(tmp_path, "s3://sm-bucket/faults/" + name)
        env = clean_env(**server.environ(TRAINING_JOB_NAME="job-f", S3_ENDPOINT_URL=proxy.endpoint))
        result = run_pyz(pyz, "--root", root, "--", sys.executable, "-c", NINE, intermediate(root), env=env,
                         timeout=300)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        assert failure(root) is None
        key = "faults/%s/job-f/output/intermediate/nine.bin" % name

        assert objects(server, key) == {key: hashlib.sha256(random.Random(9).randbytes(20 << 20)).hexdigest()}
        parts = [path.split("partNumber=")[1].split("&")[0] for _, path, _ in proxy.seen if "partNumber=" in path]
        assert parts == (["1", "1", "2", "3"] if name != "short" else ["1", "2", "2", "3"])
        assert "retrying" in result.stderr.decode()
    finally:
        proxy.stop()


def test_a_part_that_keeps_failing_is_named_and_aborted(pyz, server, tmp_path):
    proxy = FaultProxy(server.endpoint)
    proxy.faults = ["pass"] + ["slowdown"] * 5
    try:
        root = job(tmp_path, "s3://sm-bucket/failing")
        env = clean_env(**server.environ(TRAINING_JOB_NAME="job-x", S3_ENDPOINT_URL=proxy.endpoint))
        result = run_pyz(pyz, "--root", root, "--", sys.executable, "-c", NINE, intermediate(root), env=env,
                         timeout=300)
        assert result.returncode == 0  # the program's status
        text = failure(root)
        assert text.startswith("intermediate output: 1 file(s) not uploaded to s3://sm-bucket/failing/job-x/"
                               "output/intermediate/: nine.bin (nine.bin: cannot upload"), text
        assert "failed 5 times in a row" in text and "(UploadPart; credentials: environment variables" in text
        assert not os.path.exists(os.path.join(root, "output", "success"))
        assert [m for m, _, _ in proxy.seen][-1] == "DELETE"
        uploads = server.client().list_multipart_uploads(Bucket=server.bucket, Prefix="failing/")
        assert not uploads.get("Uploads")
        assert objects(server, "failing/") == {}
    finally:
        proxy.stop()


GATED = ("import os, sys, time\nd, gate = sys.argv[1:3]\nopen(os.path.join(d, 'a.txt'), 'w').write('a')\n"
         "while not os.path.exists(gate):\n    time.sleep(0.05)\nopen(os.path.join(d, 'b.txt'), 'w').write('b')\n")


def test_credentials_that_expire_during_the_job(pyz, server, tmp_path):
    """Container credentials that enter botocore's refresh window during the job: the later upload is signed with
    the refreshed session (moto checks each session's token; a proxy records which key signed what)."""
    sts = server.client("sts")
    sessions = [sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/SageMakerRole", RoleSessionName="s%d" % i)[
        "Credentials"] for i in range(2)]
    stub = Stub()
    lifetime = 15 * 60 + 4  # 4 s before botocore's advisory refresh window opens
    stub.container("/creds", [creds_doc(c["AccessKeyId"], t, c["SecretAccessKey"], c["SessionToken"])
                              for c, t in zip(sessions, (lifetime, 3600))])
    proxy = FaultProxy(server.endpoint)
    try:
        root = job(tmp_path, "s3://sm-bucket/expiring")
        env = clean_env(S3_ENDPOINT_URL=proxy.endpoint, AWS_REGION=server.region, TRAINING_JOB_NAME="job-c",
                        AWS_CONTAINER_CREDENTIALS_FULL_URI=stub.url + "/creds")
        gate = str(tmp_path / "gate")
        started = time.time()
        process = subprocess.Popen([sys.executable, pyz, "--root", root, "--", sys.executable, "-c", GATED,
                                    intermediate(root), gate], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        prefix = "expiring/job-c/output/intermediate/"
        waited = time.monotonic() + 60
        while prefix + "a.txt" not in objects(server, prefix) and process.poll() is None:
            if time.monotonic() > waited:
                process.kill()
            time.sleep(0.1)
        time.sleep(max(0.0, started + 5 - time.time()))  # the first session is inside its refresh window now
        open(gate, "w").close()
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()[-3000:]
        assert failure(root) is None, failure(root)
        assert set(objects(server, prefix)) == {prefix + "a.txt", prefix + "b.txt"}
        signed = {path.rsplit("/", 1)[1]: headers["Authorization"].split("Credential=")[1].split("/")[0]
                  for method, path, headers in proxy.seen if method == "PUT"}
        assert signed == {"a.txt": sessions[0]["AccessKeyId"], "b.txt": sessions[1]["AccessKeyId"]}
        assert len(stub.calls("GET", "/creds")) == 2
    finally:
        stub.close()
        proxy.stop()


VERSIONED = ("import hashlib, json, os, sys\nd = sys.argv[1]\ndata = os.urandom(9 << 20)\n"
             "open(os.path.join(d, 'nine.bin'), 'wb').write(data)\nopen(os.path.join(d, 'small'), 'w').write('s')\n"
             "print(json.dumps({'nine.bin': hashlib.sha256(data).hexdigest(), "
             "'small': hashlib.sha256(b's').hexdigest()}))\n")


@pytest.mark.parametrize("version", ["3.7", "3.13"])
def test_other_pythons(pyz, server, tmp_path, version):
    """The oldest Python the launcher runs on, and one that warns about fork() in a process with threads."""
    import pythons

    python = pythons.required(version)
    root = job(tmp_path, "s3://sm-bucket/py" + version)
    env = clean_env(**server.environ(TRAINING_JOB_NAME="job-v"))
    result = run_pyz(pyz, "--root", root, "--", python, "-c", VERSIONED, intermediate(root), env=env, timeout=300,
                     python=python)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "Warning" not in result.stderr.decode()
    prefix = "py%s/job-v/output/intermediate/" % version
    assert {k[len(prefix):]: v for k, v in objects(server, prefix).items()} == program_digests(result)


class RecordingProxy(FaultProxy):
    """Notes, for each PutObject body it passes on, whether all its bytes are the same (one whole version), and
    its first byte (the version)."""

    def __init__(self, upstream):
        FaultProxy.__init__(self, upstream)
        self.whole, self.versions = [], []

    def forward(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if handler.command == "PUT":
            self.whole.append(body.count(body[:1]) == len(body))
            self.versions.append(body[:1])
        handler.rfile = __import__("io").BytesIO(body)
        return FaultProxy.forward(self, handler)


REWRITER = ("import os, sys\npath = os.path.join(sys.argv[1], 'ckpt.bin')\n"
            "for k in range(40):\n    with open(path, 'r+b' if k else 'wb') as f:\n"
            "        for _ in range(4):\n            f.write(bytes([k]) * (1 << 20))\n")


def test_a_file_rewritten_in_place_is_never_torn(pyz, server, tmp_path):
    """40 versions of a 4 MiB file, each written over the last in place: every upload holds one version."""
    proxy = RecordingProxy(server.endpoint)
    try:
        root = job(tmp_path, "s3://sm-bucket/rewritten")
        env = clean_env(**server.environ(TRAINING_JOB_NAME="job-r", S3_ENDPOINT_URL=proxy.endpoint))
        result = run_pyz(pyz, "--root", root, "--", sys.executable, "-c", REWRITER, intermediate(root), env=env,
                         timeout=300)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        assert proxy.whole and all(proxy.whole)
        key = "rewritten/job-r/output/intermediate/ckpt.bin"
        assert objects(server, key) == {key: hashlib.sha256(bytes([39]) * (4 << 20)).hexdigest()}
    finally:
        proxy.stop()


# big.bin's copy keeps the watcher busy while ckpt.bin's version 1 is closed and version 2 begins over it, so
# the watcher reaches version 1's close only once version 2 is a quarter written (and held so for 2 s).
PAUSED_REWRITE = ("import os, sys, time\nd = sys.argv[1]\n"
                  "with open(os.path.join(d, 'big.bin'), 'wb') as f:\n    f.write(b'\\0' * (64 << 20))\n"
                  "path = os.path.join(d, 'ckpt.bin')\n"
                  "with open(path, 'wb') as f:\n    f.write(b'\\1' * (4 << 20))\n"
                  "with open(path, 'r+b') as f:\n    f.write(b'\\2' * (1 << 20))\n    f.flush()\n    time.sleep(2)\n"
                  "    f.write(b'\\2' * (3 << 20))\n")


def test_a_file_reopened_for_writing_right_after_its_close_is_not_uploaded_partly_rewritten(pyz, server, tmp_path):
    """Version 1 closed, then version 2 started over it at once and held a quarter written for 2 s: a copy
    taken in that pause (after version 1's close, with no write during the copy) holds parts of both. The
    write after the close discards it; version 2's close brings the whole file. Without the settle interval,
    which would drop such a copy too: this is the check made at the copy."""
    proxy = RecordingProxy(server.endpoint)
    try:
        root = job(tmp_path, "s3://sm-bucket/paused")
        env = clean_env(**server.environ(TRAINING_JOB_NAME="job-p", S3_ENDPOINT_URL=proxy.endpoint,
                                         SM_TRAIN_INTERMEDIATE_SETTLE="0"))
        result = run_pyz(pyz, "--root", root, "--", sys.executable, "-c", PAUSED_REWRITE, intermediate(root),
                         env=env, timeout=300)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        assert proxy.whole and all(proxy.whole), proxy.whole
        key = "paused/job-p/output/intermediate/ckpt.bin"
        assert objects(server, key) == {key: hashlib.sha256(b"\2" * (4 << 20)).hexdigest()}
    finally:
        proxy.stop()


def test_no_credentials_is_one_error_before_the_program(pyz, tmp_path):
    root = job(tmp_path, "s3://sm-bucket/nocreds")
    marker = tmp_path / "ran"
    env = clean_env(AWS_REGION="us-west-2", S3_ENDPOINT_URL="http://127.0.0.1:9", HOME=str(tmp_path),
                    AWS_EC2_METADATA_DISABLED="true")
    result = run_pyz(pyz, "--root", root, "--", "touch", str(marker), env=env)
    err = result.stderr.decode()
    assert result.returncode == 1 and not marker.exists()
    assert "Traceback" not in err and "no AWS credentials found" in failure(root)


class HangingProxy(FaultProxy):
    """Fault "hang": the request is read and never answered (until the proxy stops)."""

    def handle(self, handler):
        if self.faults[:1] == ["hang"]:
            self.faults.pop(0)
            self.seen.append((handler.command, handler.path, dict(handler.headers)))
            handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
            self.release.wait(60)
            handler.close_connection = True
            return
        FaultProxy.handle(self, handler)


def test_uploads_cut_off_by_the_grace_period_are_named(pyz, server, tmp_path):
    proxy = HangingProxy(server.endpoint)
    proxy.faults = ["pass", "hang"]  # the first part's answer never comes
    try:
        root = job(tmp_path, "s3://sm-bucket/cutoff")
        env = clean_env(**server.environ(TRAINING_JOB_NAME="job-g", S3_ENDPOINT_URL=proxy.endpoint))
        program = NINE + "open(sys.argv[2], 'w').close()\nimport time\ntime.sleep(300)\n"
        process = subprocess.Popen([sys.executable, pyz, "--root", root, "--grace-period", "2", "--",
                                    sys.executable, "-c", program, intermediate(root), str(tmp_path / "m")],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while not any("partNumber=1&" in path for _, path, _ in proxy.seen) and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=50)  # the grace, not the hung answer's 60 s
        assert process.returncode == 143, err.decode()[-3000:]
        text = failure(root)
        assert text.startswith("intermediate output: 1 file(s) not uploaded to s3://sm-bucket/cutoff/job-g/output/"
                               "intermediate/: nine.bin (nine.bin: "), text
        assert "killed by SIGTERM" in text.split("; ", 1)[1]
    finally:
        proxy.stop()


def test_a_sigterm_after_the_program_ended_bounds_the_last_uploads(pyz, server, tmp_path):
    """The program is done and the last upload hangs: SageMaker's stop gives the uploads the grace period, not
    the retries' minutes, and the failure file names what did not arrive."""
    proxy = HangingProxy(server.endpoint)
    proxy.faults = ["hang"]  # the one PutObject is never answered
    try:
        root = job(tmp_path, "s3://sm-bucket/after-exit")
        env = clean_env(**server.environ(TRAINING_JOB_NAME="job-x", S3_ENDPOINT_URL=proxy.endpoint))
        process = subprocess.Popen([sys.executable, pyz, "--root", root, "--grace-period", "2", "--",
                                    sys.executable, "-c", ONE, intermediate(root)],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not proxy.seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proxy.seen, "the upload never started"
        time.sleep(0.5)  # the program has exited by now: sm-train waits for the upload alone
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=40)  # the grace, not the hung answer's 60 s and its retries
        assert process.returncode == 0, err.decode()[-3000:]  # the program's own status
        text = failure(root)
        assert text.startswith("intermediate output: 1 file(s) not uploaded to s3://sm-bucket/after-exit/job-x/"
                               "output/intermediate/: a/b.txt"), text
    finally:
        proxy.release.set()
        proxy.stop()

"""Script mode with the code in S3, through the built pyz as a real start, against moto's S3 with request
authentication on: the bundle is laid out as the SageMaker SDK lays it out, fetched, extracted and run; each
failure is one line, status 1, the failure file, and an empty code dir."""

import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading

import pytest
import pythons
from moto_server import moto  # noqa: F401 - the fixture

TRAIN = """import json, os, sys
from lib.helper import VALUE
keys = ("SM_MODULE_DIR", "SM_HP_EPOCHS", "SM_USER_ARGS", "SAGEMAKER_REGION", "SM_CURRENT_HOST")
with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as f:
    json.dump({"argv": sys.argv, "env": {k: os.environ.get(k) for k in keys}, "value": VALUE}, f)
"""


def sdk_bundle():
    """sourcedir.tar.gz as the SDK's tar_and_upload_dir makes it: each entry of source_dir at the root."""
    files = {"train.py": TRAIN, "lib/__init__.py": "", "lib/helper.py": "VALUE = 42\n"}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def job(tmp_path, uri):
    base = tmp_path / "ml"
    (base / "input" / "config").mkdir(parents=True)
    (base / "model").mkdir()
    hps = {"sagemaker_submit_directory": uri, "sagemaker_program": "train.py", "sagemaker_region": "us-west-2",
           "sagemaker_job_name": "job-1", "sagemaker_container_log_level": 20, "epochs": 3}
    (base / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({k: json.dumps(v) for k, v in hps.items()}))
    return str(base)


def start(pyz, base, env, *args, python=sys.executable):
    full = {"PATH": os.environ["PATH"], "HOME": os.path.dirname(base)}
    full.update(env)
    proc = subprocess.run([python, pyz, "--root", base] + list(args), env=full, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def seen(base):
    with open(os.path.join(base, "model", "seen.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def bundle_uri(moto):  # noqa: F811
    return moto.put("job-1/source/sourcedir.tar.gz", sdk_bundle())


@pytest.mark.parametrize("endpoint", ["S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"])
def test_the_sdk_bundle_is_fetched_and_run(pyz, tmp_path, moto, bundle_uri, endpoint):  # noqa: F811
    env = moto.environ()
    env[endpoint] = env.pop("S3_ENDPOINT_URL")
    base = job(tmp_path, bundle_uri)
    status, out, err = start(pyz, base, env)
    assert status == 0, err
    got = seen(base)
    assert got["argv"][1:] == ["--epochs", "3"] and got["value"] == 42
    assert got["env"]["SM_MODULE_DIR"] == bundle_uri and got["env"]["SM_HP_EPOCHS"] == "3"
    assert sorted(os.listdir(os.path.join(base, "code"))) == ["lib", "train.py"]
    assert "Provided path: %s  is empty, unzipping" % os.path.join(base, "code") in err
    assert moto.secret_key not in err + out


def test_session_credentials_from_sts(pyz, tmp_path, moto, bundle_uri):  # noqa: F811
    env = moto.environ(AWS_ACCESS_KEY_ID=moto.session["access_key"], AWS_SECRET_ACCESS_KEY=moto.session["secret_key"],
                       AWS_SESSION_TOKEN=moto.session["token"])
    base = job(tmp_path, bundle_uri)
    status, out, err = start(pyz, base, env)
    assert status == 0, err
    assert seen(base)["value"] == 42
    assert moto.session["token"] not in err


def test_an_sse_kms_object(pyz, tmp_path, moto):  # noqa: F811
    uri = moto.put("kms/sourcedir.tar.gz", sdk_bundle(), ServerSideEncryption="aws:kms")
    base = job(tmp_path, uri)
    status, out, err = start(pyz, base, moto.environ())
    assert status == 0, err
    assert seen(base)["value"] == 42


def test_python_3_7_fetches_too(pyz, tmp_path, moto, bundle_uri):  # noqa: F811
    python = pythons.interpreter("3.7")
    if python is None:
        pytest.skip(pythons.missing_reason("3.7"))
    base = job(tmp_path, bundle_uri)
    status, out, err = start(pyz, base, moto.environ(), python=python)
    assert status == 0, err
    assert seen(base)["value"] == 42


def _failures(moto):  # noqa: F811
    not_gzip = moto.put("plain/sourcedir.tar.gz", b"this is not a gzip file")
    good = "s3://%s/job-1/source/sourcedir.tar.gz" % moto.bucket
    return [
        ("wrong secret", good, {"AWS_SECRET_ACCESS_KEY": "wrong"}, ["HTTP 403", "SignatureDoesNotMatch"]),
        ("unknown key", good, {"AWS_ACCESS_KEY_ID": "AKIDUNKNOWN"}, ["HTTP 403", "InvalidAccessKeyId"]),
        ("missing object", "s3://%s/nowhere/sourcedir.tar.gz" % moto.bucket, {}, ["HTTP 404", "NoSuchKey"]),
        ("missing bucket", "s3://no-such-bucket-here/sourcedir.tar.gz", {}, ["HTTP 404", "NoSuchBucket"]),
        ("not gzip", not_gzip, {}, ["cannot be extracted", "not a gzip-compressed tar"]),
    ]


def test_failures_are_one_line_and_extract_nothing(pyz, tmp_path, moto, bundle_uri):  # noqa: F811
    for name, uri, extra, words in _failures(moto):
        base = job(tmp_path / name.replace(" ", "_"), uri)
        status, out, err = start(pyz, base, moto.environ(**extra))
        errors = [line for line in err.splitlines() if " sm-train ERROR " in line]
        assert status == 1, (name, err)
        assert len(errors) == 1 and uri in errors[0] and all(w in errors[0] for w in words), (name, err)
        with open(os.path.join(base, "output", "failure")) as f:
            text = f.read()
        assert all(w in text for w in words), (name, text)
        assert "Traceback" not in err and moto.secret_key not in err + text
        assert os.listdir(os.path.join(base, "code")) == [], name
        assert sorted(os.listdir(base)) == ["code", "input", "model", "output"], name  # no staging left behind


class Listener(object):
    """A loopback port that counts the connections made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


def test_print_env_sends_no_request_and_changes_nothing(pyz, tmp_path):
    listener = Listener()
    try:
        base = job(tmp_path, "s3://sm-bucket/job-1/source/sourcedir.tar.gz")
        before = sorted(os.walk(base))
        env = {"S3_ENDPOINT_URL": "http://127.0.0.1:%d" % listener.sock.getsockname()[1], "AWS_REGION": "us-west-2",
               "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
        for fmt in ("shell", "json"):
            status, out, err = start(pyz, base, env, "--print-env", "--format", fmt)
            assert status == 0, err
            assert "s3://sm-bucket/job-1/source/sourcedir.tar.gz" in out
        assert listener.accepted == 0
        assert sorted(os.walk(base)) == before
    finally:
        listener.sock.close()


def test_sigterm_during_the_fetch_stops_it_with_143(pyz, tmp_path):
    """SageMaker stops a job whose download hangs: the fetch ends at once with the shell's status and says so."""
    import signal
    import time

    held = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    threading.Thread(target=lambda: held.append(sock.accept()), daemon=True).start()  # accepts, never answers
    try:
        base = job(tmp_path, "s3://sm-bucket/job-1/source/sourcedir.tar.gz")
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_REGION": "us-west-2",
               "S3_ENDPOINT_URL": "http://127.0.0.1:%d" % sock.getsockname()[1], "AWS_ACCESS_KEY_ID": "AKID",
               "AWS_SECRET_ACCESS_KEY": "secret"}
        proc = subprocess.Popen([sys.executable, pyz, "--root", base], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not held and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held, "the fetch never connected"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 143, err
        with open(os.path.join(base, "output", "failure")) as f:
            assert "stopped by SIGTERM (signal 15) while fetching the code from s3://" in f.read()
        assert os.listdir(os.path.join(base, "code")) == []
        assert sorted(os.listdir(base)) == ["code", "input", "model", "output"]
    finally:
        sock.close()


def test_the_fetch_deadline_names_its_setting(pyz, tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    held = []
    threading.Thread(target=lambda: held.append(sock.accept()), daemon=True).start()  # a server that never answers
    try:
        base = job(tmp_path, "s3://sm-bucket/job-1/source/sourcedir.tar.gz")
        env = {"AWS_REGION": "us-west-2", "S3_ENDPOINT_URL": "http://127.0.0.1:%d" % sock.getsockname()[1],
               "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "SM_TRAIN_FETCH_TIMEOUT": "1"}
        status, out, err = start(pyz, base, env)
        assert status == 1, err
        with open(os.path.join(base, "output", "failure")) as f:
            text = f.read()
        assert "deadline" in text and "SM_TRAIN_FETCH_TIMEOUT (1 s) sets the deadline" in text, text
        assert os.listdir(os.path.join(base, "code")) == []
    finally:
        sock.close()


@pytest.mark.parametrize("token", ["tok-secret-value\nx", "tok-secret-value\u2603"])
def test_a_token_http_cannot_carry_is_one_line_that_hides_it(pyz, tmp_path, moto, bundle_uri, token):  # noqa: F811
    base = job(tmp_path, bundle_uri)
    status, out, err = start(pyz, base, moto.environ(AWS_SESSION_TOKEN=token))
    assert status == 1, err
    assert "Traceback" not in err and "tok-secret-value" not in err
    with open(os.path.join(base, "output", "failure")) as f:
        text = f.read()
    assert "a header value holds a line break or a character beyond Latin-1" in text
    assert "tok-secret-value" not in text


def test_the_code_is_fetched_through_a_services_section_of_the_config_file(pyz, tmp_path, moto, bundle_uri):  # noqa: F811
    """The endpoint from the profile's [services] section alone (tests/test_aws_endpoint_url.py: the cases)."""
    env = moto.environ()
    endpoint = env.pop("S3_ENDPOINT_URL")
    base = job(tmp_path, bundle_uri)
    aws = os.path.join(os.path.dirname(base), ".aws")  # start() gives the job this HOME
    os.makedirs(aws)
    with open(os.path.join(aws, "config"), "w") as f:
        f.write("[default]\nendpoint_url = http://127.0.0.1:9\nservices = local\n"
                "[services local]\ns3 =\n  endpoint_url = %s\n" % endpoint)
    status, out, err = start(pyz, base, env)
    assert status == 0, err
    assert seen(base)["value"] == 42

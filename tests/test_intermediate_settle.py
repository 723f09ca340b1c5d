"""The settle interval of the intermediate output (SM_TRAIN_INTERMEDIATE_SETTLE), through the built pyz against
moto: a copy goes up once its file had no write for the interval; a write in that time drops it and the next close
brings the file back; a file rewritten faster than the interval goes up at its last close; 0 turns the wait off;
the final pass after the program's end takes every file as it is, without waiting."""

import hashlib
import subprocess
import sys
import time

import moto_server
import pytest
from conftest import clean_env, make_tree
from test_intermediate import RecordingProxy

MIB = 1 << 20


@pytest.fixture(scope="module")
def server():
    return moto_server.start()


@pytest.fixture
def proxy(server):
    proxy = RecordingProxy(server.endpoint)
    yield proxy
    proxy.stop()


# Version 1 closed; 0.2 s later version 2 begins over it, half written and held so for longer than the
# interval, then closed; the program ends when the gate appears.
REWRITE = ("import os, sys, time\npath, gate = os.path.join(sys.argv[1], 'ckpt.bin'), sys.argv[2]\n"
           "with open(path, 'wb') as f:\n    f.write(b'\\1' * (2 << 20))\ntime.sleep(0.2)\n"
           "with open(path, 'r+b') as f:\n    f.write(b'\\2' * (1 << 20))\n    f.flush()\n    time.sleep(1.5)\n"
           "    f.write(b'\\2' * (1 << 20))\n"
           "while not os.path.exists(gate):\n    time.sleep(0.05)\n")
# Ten versions, each closed, faster than the interval; the program ends when the gate appears.
QUICK = ("import os, sys\npath, gate = os.path.join(sys.argv[1], 'ckpt.bin'), sys.argv[2]\n"
         "for k in range(1, 11):\n    with open(path, 'wb') as f:\n        f.write(bytes([k]) * (1 << 20))\n"
         "import time\nwhile not os.path.exists(gate):\n    time.sleep(0.05)\n")


def start(pyz, server, proxy, tmp_path, program, settle):
    hps = {"sagemaker_s3_output": '"s3://sm-bucket/settle/%s"' % tmp_path.name}
    root = make_tree(tmp_path / "ml", hyperparameters=hps)
    env = clean_env(**server.environ(TRAINING_JOB_NAME="job-s", S3_ENDPOINT_URL=proxy.endpoint,
                                     SM_TRAIN_INTERMEDIATE_SETTLE=settle))
    gate = tmp_path / "gate"
    process = subprocess.Popen([sys.executable, pyz, "--root", root, "--", sys.executable, "-c", program,
                                root + "/output/intermediate", str(gate)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    return process, gate


def puts(proxy):
    """(version byte, whole) of each PutObject the proxy passed on."""
    return list(zip(proxy.versions, proxy.whole))


def wait_for_puts(proxy, process, count):
    """Until the proxy has seen ``count`` PutObjects while the program still runs (it waits for the gate)."""
    deadline = time.monotonic() + 60
    while len(proxy.versions) < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(proxy.versions) >= count and process.poll() is None, process.stderr.read().decode()[-3000:]


def end(process, gate):
    gate.write_bytes(b"")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()[-3000:]


def stored(server, tmp_path):
    key = "settle/%s/job-s/output/intermediate/ckpt.bin" % tmp_path.name
    return hashlib.sha256(server.client().get_object(Bucket=server.bucket, Key=key)["Body"].read()).hexdigest()


def test_a_write_during_the_wait_drops_the_copy_and_the_next_close_brings_the_file_back(pyz, server, proxy,
                                                                                        tmp_path):
    process, gate = start(pyz, server, proxy, tmp_path, REWRITE, "1")
    wait_for_puts(proxy, process, 1)  # version 2, once it settled, while the program still runs
    end(process, gate)
    assert puts(proxy) == [(b"\2", True)]  # version 1's copy was dropped; nothing later changed the file
    assert stored(server, tmp_path) == hashlib.sha256(b"\2" * (2 * MIB)).hexdigest()


def test_a_file_rewritten_faster_than_the_interval_goes_up_at_its_last_close(pyz, server, proxy, tmp_path):
    process, gate = start(pyz, server, proxy, tmp_path, QUICK, "1")
    wait_for_puts(proxy, process, 1)
    end(process, gate)
    assert puts(proxy) == [(b"\x0a", True)]


def test_zero_uploads_each_close_at_once(pyz, server, proxy, tmp_path):
    process, gate = start(pyz, server, proxy, tmp_path, REWRITE, "0")
    wait_for_puts(proxy, process, 2)
    end(process, gate)
    assert puts(proxy) == [(b"\1", True), (b"\2", True)]


def test_the_final_pass_takes_every_file_as_it_is_without_waiting(pyz, server, proxy, tmp_path):
    """An hour's interval: the file closed just before the program's end goes up at once after it."""
    process, gate = start(pyz, server, proxy, tmp_path, QUICK, "3600")
    end(process, gate)  # communicate's 120 s, not the hour
    assert puts(proxy) == [(b"\x0a", True)]
    assert stored(server, tmp_path) == hashlib.sha256(b"\x0a" * MIB).hexdigest()

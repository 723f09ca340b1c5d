"""What the tests of ``local`` with S3 channels and jobs share: objects put into moto (authentication on), a local run
through the built pyz with a cache and a temporary folder of the test's own, readers for what a kept tree's channel
and the cache hold, and a job's code bundle whose program writes down what it was started with."""

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor

from conftest import clean_env
from fault_proxy import FaultProxy

WAIT = 180  # seconds; reached only when something is broken


def proxied(moto):
    """A fault proxy in front of ``moto``, for a fixture to yield from: stopped after the test."""
    proxy = FaultProxy(moto.endpoint)
    yield proxy
    proxy.stop()


def put_all(moto, objects):
    """``objects``: {key: bytes}, put a few at a time (moto takes a few ms each)."""
    client = moto.client()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: client.put_object(Bucket=moto.bucket, Key=kv[0], Body=kv[1]), objects.items()))


def environ(moto, tmp_path, endpoint=None, **extra):
    """The environment of a local run: the IAM user's keys, moto (or ``endpoint``), the test's own cache and
    temporary folder, no AWS files or instance metadata of this machine."""
    (tmp_path / "tmp").mkdir(parents=True, exist_ok=True)
    env = clean_env(TMPDIR=str(tmp_path / "tmp"), XDG_CACHE_HOME=str(tmp_path / "cache"),
                    AWS_EC2_METADATA_DISABLED="true", **moto.environ())
    if endpoint:
        env["S3_ENDPOINT_URL"] = endpoint
    env.update(extra)
    return env


def local(pyz, env, *args, python=None, timeout=WAIT):
    return subprocess.run([python or sys.executable, pyz, "local"] + list(args), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def files(folder):
    """{path below ``folder``: bytes} of every file in it."""
    found = {}
    for where, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(where, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, folder)] = f.read()
    return found


def channel(tree, name, host=None):
    base = os.path.join(tree, host) if host else tree
    return files(os.path.join(base, "input", "data", name))


def object_gets(proxy):
    """The GetObject requests the fault proxy saw (ListObjectsV2 left out)."""
    return [path for method, path, _ in proxy.seen if method == "GET" and "list-type=2" not in path]


def cache_state(root):
    """(the digests of the files in the cache's objects/, the names left in its tmp/)."""
    objects = files(os.path.join(root, "objects")) if os.path.isdir(root) else {}
    tmp = os.path.join(root, "tmp")
    return ({hashlib.sha256(data).hexdigest() for data in objects.values()},
            os.listdir(tmp) if os.path.isdir(tmp) else [])


def digests(objects):
    return {hashlib.sha256(data).hexdigest() for data in objects.values()}


# A job's program: what it was started with, written to model/seen.json, where a kept tree shows it.
PROGRAM = b"""import json, os, sys
seen = {"argv": sys.argv[1:], "job": os.environ.get("TRAINING_JOB_NAME"),
        "env": {k: v for k, v in os.environ.items() if k.startswith("SM_") or k == "MY_SETTING"},
        "cwd": os.getcwd()}
with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as f:
    json.dump(seen, f)
"""


def code_bundle():
    """PROGRAM as train.py in a sourcedir.tar.gz, as the SDK uploads a source_dir."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = len(PROGRAM)
        tar.addfile(info, io.BytesIO(PROGRAM))
    return out.getvalue()

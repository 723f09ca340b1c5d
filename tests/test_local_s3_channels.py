"""``sm-train.pyz local --channel NAME=s3://...`` end to end through the built pyz, against moto's S3 with request
authentication on: the layout SageMaker's File mode gives a channel (nested keys, a prefix that ends in the middle
of a name, one object, folder markers), 1,001 small objects (two pages of ListObjectsV2), an object fetched in
ranged parts, shards across hosts, a sample, the cache (a second run sends no GetObject), and the code from S3."""

import io
import json
import os
import tarfile

import pytest
import pythons
from conftest import error_lines
from local_s3 import cache_state, channel, digests, environ, files, local, object_gets, proxied, put_all
from moto_server import moto  # noqa: F401 - the fixture

NESTED = {
    "chan/nested/data/train-1.csv": b"1,2\n",
    "chan/nested/data/train/a.csv": b"a\n",
    "chan/nested/data/train/b/c.csv": b"c\n",
    "chan/nested/data/train/": b"",  # a folder marker, as the S3 console makes one
    "chan/nested/data/raw.txt": b"raw\n",
    "chan/nested/data/key with space+plus=\u20ac.txt": b"odd\n",
    "chan/nested/one.csv": b"one\n",
}
MANY = {"chan/many/part-%04d.bin" % i: os.urandom(100) for i in range(1001)}
BIG = os.urandom(20 * 1024 * 1024 + 12345)  # three ranged parts of 8 MiB, the last one short


@pytest.fixture(scope="module")
def objects(moto):  # noqa: F811
    put_all(moto, NESTED)
    put_all(moto, MANY)
    moto.put("chan/big/weights.bin", BIG)
    return moto


@pytest.fixture
def proxy(objects):
    yield from proxied(objects)


def run(pyz, tmp_path, moto, *args, endpoint=None, hosts=None, status=0, **extra):  # noqa: F811
    """A kept local run of `-- true` (no program: the tree is what is checked); its stderr."""
    keep = str(tmp_path / "tree")
    more = ["--hosts", str(hosts)] if hosts else []
    args = list(args) + more + ["--", "true"]
    result = local(pyz, environ(moto, tmp_path, endpoint, **extra), "--keep", keep, *args)
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert "Traceback" not in stderr
    return stderr


def under(keys, folder):
    return {key[len(folder):]: NESTED[key] for key in keys}


LAYOUTS = [
    ("chan/nested/data/", under(["chan/nested/data/train-1.csv", "chan/nested/data/train/a.csv",
                                 "chan/nested/data/train/b/c.csv", "chan/nested/data/raw.txt",
                                 "chan/nested/data/key with space+plus=\u20ac.txt"], "chan/nested/data/")),
    ("chan/nested/data/train", under(["chan/nested/data/train-1.csv", "chan/nested/data/train/a.csv",
                                      "chan/nested/data/train/b/c.csv"], "chan/nested/data/")),
    ("chan/nested/data/tr", under(["chan/nested/data/train-1.csv", "chan/nested/data/train/a.csv",
                                   "chan/nested/data/train/b/c.csv"], "chan/nested/data/")),
    ("chan/nested/data/train/", under(["chan/nested/data/train/a.csv", "chan/nested/data/train/b/c.csv"],
                                      "chan/nested/data/train/")),
    ("chan/nested/one.csv", {"one.csv": b"one\n"}),
]


@pytest.mark.parametrize("prefix,expected", LAYOUTS, ids=[p for p, _ in LAYOUTS])
def test_the_layout_of_file_mode(pyz, tmp_path, objects, prefix, expected):
    """Each object at its key less the prefix's folder (up to its last '/'); folder markers are no files."""
    stderr = run(pyz, tmp_path, objects, "--channel", "training=s3://sm-bucket/" + prefix, "--no-cache")
    assert channel(str(tmp_path / "tree"), "training") == expected
    assert "channel training: s3://sm-bucket/%s, %d object" % (prefix, len(expected)) in stderr
    with open(str(tmp_path / "tree" / "input" / "config" / "inputdataconfig.json")) as f:
        assert json.load(f) == {"training": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                                             "RecordWrapperType": "None"}}
    assert not [n for n in os.listdir(str(tmp_path / "tree")) if n.startswith(".sm-train")]  # --no-cache's folder
    assert not (tmp_path / "cache").exists()


def test_1001_small_objects_over_two_pages(pyz, tmp_path, objects, proxy):
    run(pyz, tmp_path, objects, "--channel", "train=s3://sm-bucket/chan/many/", endpoint=proxy.endpoint)
    assert channel(str(tmp_path / "tree"), "train") == {k[len("chan/many/"):]: v for k, v in MANY.items()}
    listings = [path for method, path, _ in proxy.seen if "list-type=2" in path]
    assert len(listings) == 2 and "continuation-token=" in listings[1]
    assert len(object_gets(proxy)) == 1001


def test_a_large_object_comes_in_ranged_parts(pyz, tmp_path, objects, proxy):
    run(pyz, tmp_path, objects, "--channel", "model=s3://sm-bucket/chan/big/weights.bin", endpoint=proxy.endpoint)
    assert channel(str(tmp_path / "tree"), "model") == {"weights.bin": BIG}
    ranges = sorted(headers["Range"] for method, path, headers in proxy.seen if "list-type" not in path)
    part = 8 << 20
    assert ranges == sorted("bytes=%d-%d" % (first, min(first + part, len(BIG)) - 1)
                            for first in range(0, len(BIG), part))
    assert all(headers.get("If-Match", "").startswith('"') for _, path, headers in proxy.seen if "list" not in path)


def test_a_200_mb_object_arrives_whole(pyz, tmp_path, objects):
    """The size the issue names: 25 ranged parts, written in place, through moto's signature checks."""
    import hashlib

    block = os.urandom(1 << 20)
    data = b"".join(bytes([k]) + block[1:] for k in range(200))  # 200 MiB, no two MiB alike
    objects.put("chan/huge/blob.bin", data)
    try:
        run(pyz, tmp_path, objects, "--channel", "blob=s3://sm-bucket/chan/huge/blob.bin", "--no-cache")
        with open(str(tmp_path / "tree" / "input" / "data" / "blob" / "blob.bin"), "rb") as f:
            assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()
    finally:  # moto holds it in memory for the rest of the session otherwise
        objects.client().delete_object(Bucket="sm-bucket", Key="chan/huge/blob.bin")


def test_shards_split_the_objects_across_hosts(pyz, tmp_path, objects):
    run(pyz, tmp_path, objects, "--channel", "train=s3://sm-bucket/chan/nested/data/", "--shard", "train",
        "--channel", "all=s3://sm-bucket/chan/nested/data/train/", hosts=3)
    keys = sorted(k for k in NESTED if k.startswith("chan/nested/data/") and not k.endswith("/"))
    tree = str(tmp_path / "tree")
    for k in range(3):
        host = "algo-%d" % (k + 1)
        assert channel(tree, "train", host) == under(keys[k::3], "chan/nested/data/")
        assert len(channel(tree, "all", host)) == 2  # FullyReplicated: every host has all of it
        with open(os.path.join(tree, host, "input", "config", "inputdataconfig.json")) as f:
            config = json.load(f)
        assert config["train"]["S3DistributionType"] == "ShardedByS3Key"
        assert config["all"]["S3DistributionType"] == "FullyReplicated"


def test_a_sample_takes_objects_in_key_order_and_says_so_first(pyz, tmp_path, objects):
    stderr = run(pyz, tmp_path, objects, "--channel", "train=s3://sm-bucket/chan/many/", "--sample", "1kB")
    got = channel(str(tmp_path / "tree"), "train")
    assert sorted(got) == ["part-%04d.bin" % i for i in range(10)]  # 10 objects of 100 B within 1,000 B
    first = stderr.splitlines()[0]
    assert "channel train: s3://sm-bucket/chan/many/, 10 objects, 1000 B -- A SAMPLE: the first objects" in first


def test_the_second_run_downloads_nothing(pyz, tmp_path, objects, proxy):
    args = ["--channel", "a=s3://sm-bucket/chan/nested/data/", "--channel", "b=s3://sm-bucket/chan/big/"]
    run(pyz, tmp_path / "1", objects, *args, endpoint=proxy.endpoint, XDG_CACHE_HOME=str(tmp_path / "cache"))
    first = len(object_gets(proxy))
    assert first == 5 + 3  # five small objects, three parts
    stderr = run(pyz, tmp_path / "2", objects, *args, endpoint=proxy.endpoint, XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert len(object_gets(proxy)) == first, "the second run fetched again"
    assert "6 of 6 objects already in the cache %s" % (tmp_path / "cache" / "sm-train") in stderr
    kept = channel(str(tmp_path / "2" / "tree"), "b")
    assert kept == {"weights.bin": BIG}
    small = {k: v for k, v in NESTED.items() if k.startswith("chan/nested/data/") and not k.endswith("/")}
    assert cache_state(str(tmp_path / "cache" / "sm-train")) == (digests(small) | digests(kept), [])


def test_the_job_cannot_change_the_cache(pyz, tmp_path, objects):
    """The tree's files are copies: writing into one in place leaves the cache as it was."""
    cache = str(tmp_path / "mine")
    run(pyz, tmp_path, objects, "--channel", "a=s3://sm-bucket/chan/nested/one.csv", "--cache", cache)
    path = str(tmp_path / "tree" / "input" / "data" / "a" / "one.csv")
    with open(path, "r+b") as f:
        f.write(b"XXX")
    assert cache_state(cache) == (digests({"": b"one\n"}), [])


def test_the_code_from_s3_is_fetched_by_the_launcher(pyz, tmp_path, objects):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        program = b"import os\nprint('files', sorted(os.listdir(os.environ['SM_CHANNEL_TRAIN'])))\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(program)
        tar.addfile(info, io.BytesIO(program))
    uri = objects.put("chan/code/sourcedir.tar.gz", raw.getvalue())
    keep = str(tmp_path / "tree")
    result = local(pyz, environ(objects, tmp_path), "--keep", keep, "--code", uri, "--program", "train.py",
                   "--channel", "train=s3://sm-bucket/chan/nested/data/train/")
    assert result.returncode == 0, result.stderr.decode()
    assert b"files ['a.csv', 'b']" in result.stdout
    with open(os.path.join(keep, "input", "config", "hyperparameters.json")) as f:
        assert json.load(f)["sagemaker_submit_directory"] == json.dumps(uri)
    assert sorted(os.listdir(os.path.join(keep, "code"))) == ["train.py"]


def test_python_3_7_downloads_channels_too(pyz, tmp_path, objects):
    python = pythons.interpreter("3.7")
    if python is None:
        pytest.skip(pythons.missing_reason("3.7"))
    result = local(pyz, environ(objects, tmp_path), "--keep", str(tmp_path / "tree"), "--channel",
                   "m=s3://sm-bucket/chan/big/", "--channel", "n=s3://sm-bucket/chan/nested/data/train", "--",
                   "true", python=python)
    assert result.returncode == 0 and not error_lines(result.stderr.decode()), result.stderr.decode()
    assert channel(str(tmp_path / "tree"), "m") == {"weights.bin": BIG}
    assert len(files(str(tmp_path / "tree" / "input" / "data" / "n"))) == 3

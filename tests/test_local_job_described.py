"""``local --job NAME`` for what moto's SageMaker API leaves out, against a loopback DescribeTrainingJob that checks
each signature with botocore (tests/support/sagemaker_stub.py), with the job's data and code in moto's S3: the job's
Environment, its status and FailureReason on the first screen, the API's refusals and retries."""

import json
import os

import pytest
import sagemaker_stub
from conftest import error_lines
from local_s3 import code_bundle, environ, local
from moto_server import moto  # noqa: F401 - the fixture

NAME = "pytorch-training-2026-12-01-09-14-07-123"


@pytest.fixture
def stub(moto, tmp_path):  # noqa: F811
    """The stub, signing keys moto's, with one failed job whose data and code are in moto."""
    prefix = "described/%s" % NAME
    moto.put("%s/source/sourcedir.tar.gz" % prefix, code_bundle())
    moto.put("described/data/train/part-0.csv", b"1,2\n")
    with sagemaker_stub.SageMakerStub(keys=(moto.access_key, moto.secret_key)) as server:
        server.add(sagemaker_stub.description(
            NAME, bucket=moto.bucket, channels=[("train", "s3://%s/described/data/train/" % moto.bucket)],
            environment={"MY_SETTING": "from-the-job", "WANDB_MODE": "offline"}, instance_type="ml.g5.2xlarge",
            HyperParameters={"epochs": "3", "sagemaker_program": "\"train.py\"",
                             "sagemaker_submit_directory": json.dumps("s3://%s/%s/source/sourcedir.tar.gz"
                                                                      % (moto.bucket, prefix))}))
        server.moto = moto
        yield server


def run(pyz, tmp_path, stub, *args, status=0, **extra):
    tree = str(tmp_path / "tree")
    env = environ(stub.moto, tmp_path, AWS_ENDPOINT_URL_SAGEMAKER=stub.url, **extra)
    result = local(pyz, env, "--keep", tree, "--job", NAME, *args)
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert "Traceback" not in stderr
    return stderr, tree


def test_the_jobs_environment_reaches_the_program_over_this_machines(pyz, tmp_path, stub):
    stderr, tree = run(pyz, tmp_path, stub, MY_SETTING="from-this-machine")
    with open(os.path.join(tree, "model", "seen.json")) as f:
        seen = json.load(f)
    assert seen["env"]["MY_SETTING"] == "from-the-job" and seen["argv"] == ["--epochs", "3"]
    assert "environment:     2 variables from the job: MY_SETTING, WANDB_MODE" in stderr
    assert [call[0] for call in stub.calls] == ["SageMaker.DescribeTrainingJob"]  # signed as botocore signs


def test_the_first_screen_says_how_the_job_ended_on_sagemaker(pyz, tmp_path, stub):
    stderr, _ = run(pyz, tmp_path, stub)
    reason = sagemaker_stub.FAILURE_REASON.splitlines()[0]
    assert "status:          Failed: %s" % reason[:300] in stderr
    assert "image:           %s -- not used" % (sagemaker_stub.IMAGE % "us-west-2") in stderr
    assert "instances:       1 x ml.g5.2xlarge -> algo-1 here" in stderr


@pytest.mark.parametrize("fail, times, words", [
    (sagemaker_stub.ACCESS_DENIED, None, "failed: HTTP 400 AccessDeniedException: User: arn:aws:iam::123456789012:"
                                         "user/x is not authorized to perform: sagemaker:DescribeTrainingJob"),
    (sagemaker_stub.INTERNAL_FAILURE, None, "failed: HTTP 500 InternalFailure: An internal error occurred."),
])
def test_a_refusal_of_the_api_is_one_line_naming_the_call(pyz, tmp_path, stub, fail, times, words):
    stub.fail, stub.fail_times = fail, times
    stderr, tree = run(pyz, tmp_path, stub, status=1)
    lines = error_lines(stderr)
    assert len(lines) == 1 and words in lines[0], stderr
    assert "DescribeTrainingJob %s in us-west-2 (endpoint 127.0.0.1:" % NAME in lines[0]
    assert "(credentials from environment variables)" in lines[0]
    assert stub.moto.secret_key not in stderr
    assert not os.path.exists(tree) and os.listdir(str(tmp_path / "tmp")) == []
    assert len(stub.calls) == (3 if fail[0] >= 500 else 1)  # botocore's standard mode: 3 attempts


def test_throttling_is_retried(pyz, tmp_path, stub):
    stub.fail, stub.fail_times = sagemaker_stub.THROTTLING, 2
    run(pyz, tmp_path, stub)
    assert len(stub.calls) == 3


def test_an_unknown_job_gets_the_apis_words(pyz, tmp_path, stub):
    del stub.jobs[NAME]
    stderr, _ = run(pyz, tmp_path, stub, status=1)
    lines = error_lines(stderr)
    assert len(lines) == 1 and ("no training job %s in us-west-2: the SageMaker API says \"Requested resource not "
                                "found.\"" % NAME) in lines[0], stderr


def test_a_wrong_secret_is_the_apis_signature_error(pyz, tmp_path, stub):
    stderr, _ = run(pyz, tmp_path, stub, status=1, AWS_SECRET_ACCESS_KEY="not-the-secret")
    lines = error_lines(stderr)
    assert len(lines) == 1 and "HTTP 403 InvalidSignatureException" in lines[0], stderr
    assert "not-the-secret" not in stderr



# The README's session: its job, made here as SageMaker would describe it, with its data and code in moto.
README_JOB = "reviews-bert-2026-12-01-09-14-07-123"
README_BUCKET = "sagemaker-us-west-2-123456789012"
README_REASON = ("AlgorithmError: ExecuteUserScriptError: ExitCode 1 ErrorMessage \"ValueError: labels must be 0 or 1, "
                 "got 2\" Command \"/opt/conda/bin/python3.11 train.py --epochs 3 --lr 2e-05 --model "
                 "bert-base-uncased\", exit code: 1")
README_PROGRAM = b"""import argparse, csv, glob, os
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
parser.add_argument("--lr", type=float)
parser.add_argument("--model")
args = parser.parse_args()
for path in sorted(glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv"))):
    for row in csv.reader(open(path)):
        if row[1] not in ("0", "1"):
            raise ValueError("labels must be 0 or 1, got %s" % row[1])
"""


def readme_session():
    """(the README's --job command line, the lines of the session shown after it)."""
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")) as f:
        text = f.read()
    command = text.index("python3 sm-train.pyz local --job ")
    line = text[command:text.index("\n", command)]
    start = text.index("```\n", text.index("```\n", command) + 4) + 4
    return line.split()[2:], text[start:text.index("\n```", start)].split("\n")


def differences(shown, printed):
    """Where ``shown`` (README lines; "..." stands for any lines) parts from ``printed``; None when it does not."""
    i, skipping = 0, False
    for line in shown:
        if line == "...":
            skipping = True
            continue
        while i < len(printed) and printed[i] != line:
            if not skipping:
                return "the README shows %r where the pyz printed %r" % (line, printed[i])
            i += 1
        if i == len(printed):
            return "the README shows %r, which the pyz never printed" % line
        i, skipping = i + 1, False
    return None if skipping or i == len(printed) else "the pyz printed more: %r" % printed[i:]


def test_the_readmes_session_is_what_the_pyz_prints(pyz, tmp_path, moto):  # noqa: F811
    import re
    import sys

    from botocore.exceptions import ClientError

    try:
        moto.client().create_bucket(Bucket=README_BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    except ClientError:  # made by an earlier run in this process
        pass
    client = moto.client()
    client.put_object(Bucket=README_BUCKET, Key="%s/source/sourcedir.tar.gz" % README_JOB,
                      Body=code_bundle(README_PROGRAM))
    row = b"a great movie,1\n"
    for k in range(12):
        client.put_object(Bucket=README_BUCKET, Key="datasets/reviews/train/part-%02d.csv" % k,
                          Body=row * (270000 // len(row)) + (b"the worst,2\n" if k == 7 else b""))
    client.put_object(Bucket=README_BUCKET, Key="datasets/reviews/val.csv", Body=row * (421888 // len(row)))
    args, shown = readme_session()
    with sagemaker_stub.SageMakerStub(keys=(moto.access_key, moto.secret_key)) as stub:
        stub.add(sagemaker_stub.description(
            README_JOB, bucket=README_BUCKET, instance_type="ml.g5.2xlarge", failure_reason=README_REASON,
            channels=[("train", "s3://%s/datasets/reviews/train/" % README_BUCKET),
                      ("validation", "s3://%s/datasets/reviews/val.csv" % README_BUCKET)],
            environment={"HF_HUB_OFFLINE": "1"}, hyperparameters={"epochs": 3, "lr": 2e-05,
                                                                  "model": "bert-base-uncased"}))
        result = local(pyz, environ(moto, tmp_path, AWS_ENDPOINT_URL_SAGEMAKER=stub.url), *args[1:])
    printed = result.stderr.decode()
    assert result.returncode == 1, printed
    tree = re.search(r"tree (\S+/sm-train-local-\w+)", printed).group(1)
    printed = printed.replace(tree, "/tmp/sm-train-local-y2omlc6r")
    printed = printed.replace("%s (%s)" % (sys.executable, sys.version.split()[0]), "/usr/bin/python3 (3.11.2)")
    printed = printed.replace(sys.executable, "/usr/bin/python3")
    printed = re.sub(r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} sm-train", "... sm-train", printed)
    printed = re.sub(r"exit status 1 after \d+\.\d s", "exit status 1 after 0.3 s", printed)
    problem = differences(shown, printed.rstrip("\n").split("\n"))
    assert problem is None, problem

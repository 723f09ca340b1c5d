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


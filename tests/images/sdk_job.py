"""The one estimator of the SDK job golden: tests/recorders/record_sdk_job_golden.py runs it in the SDK's local mode,
test_local_job.py creates it as a job on moto and runs that with ``local --job``. Both take it from here, so the two
runs differ only where the table of test_local_job.py says."""

import os
import shutil

from .harness import PROGRAMS

JOB_NAME = "sdk-job-golden"
REGION = "us-west-2"  # moto_server's; the SDK writes it as sagemaker_region, so the recording uses it too
IMAGE = "sm-recipe"  # the recipe image (conftest.recipe_image); local --job runs on this machine, not in it
# One of each kind the SDK encodes: int, float, string, bool, list, dict, and strings that read as numbers
HYPERPARAMETERS = {"epochs": 3, "lr": 0.05, "optimizer": "adam", "augment": True, "layers": [64, 32],
                   "opts": {"beta": 0.9, "names": ["a", "b c"]}, "seed": "42", "version": "1.10"}
CHANNELS = {"training": {"train.csv": "x,y\n1,2\n", "more/part-0.csv": "x,y\n3,4\n"},
            "validation": {"val.csv": "x,y\n5,6\n"}}


def lay_out(workdir):
    """src/train.py (programs/sdk_job_train.py) and data/CHANNEL/... in ``workdir``, as the snippets expect."""
    os.makedirs(os.path.join(workdir, "src"))
    shutil.copy(os.path.join(PROGRAMS, "sdk_job_train.py"), os.path.join(workdir, "src", "train.py"))
    for channel, files in CHANNELS.items():
        for name, text in files.items():
            path = os.path.join(workdir, "data", channel, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)


def snippet(session, instance_type, role, output_path, inputs, wait):
    """fit.py: ``session`` (code that sets ``session``), then the estimator and its fit(); the rest is repr()."""
    return """import os

import boto3
import sagemaker
from sagemaker.estimator import Estimator
from sagemaker.local import LocalSession

here = "file://" + os.getcwd()
%s
estimator = Estimator(
    image_uri=%r,
    role=%r,
    instance_type=%r,
    instance_count=1,
    entry_point="train.py",
    source_dir="src",
    hyperparameters=%r,
    output_path=%s,
    sagemaker_session=session,
)
estimator.fit(%s, wait=%r, job_name=%r)
print("job:", estimator.latest_training_job.name)
""" % (session, IMAGE, role, instance_type, HYPERPARAMETERS, output_path, inputs, wait, JOB_NAME)


def local_mode_snippet():
    """The SDK's local mode, as the README runs it: code and channels from this folder, the model to out/."""
    session = 'session = LocalSession()\nsession.config = {"local": {"local_code": True}}'
    inputs = "{%s}" % ", ".join('%r: here + "/data/%s"' % (c, c) for c in sorted(CHANNELS))
    return snippet(session, "local", "arn:aws:iam::111111111111:role/unused-in-local-mode", 'here + "/out"',
                   inputs, True)


def s3_snippet(bucket, prefix, role):
    """A real job: the SDK uploads sourcedir.tar.gz and calls CreateTrainingJob (AWS_ENDPOINT_URL and the keys in
    its environment), channels from s3://bucket/prefix/data/CHANNEL/, and returns without waiting."""
    session = ("session = sagemaker.Session(boto_session=boto3.Session(\n"
               "    aws_access_key_id=os.environ['AWS_ACCESS_KEY_ID'],\n"
               "    aws_secret_access_key=os.environ['AWS_SECRET_ACCESS_KEY'], region_name=%r))" % REGION)
    inputs = repr({c: "s3://%s/%s/data/%s/" % (bucket, prefix, c) for c in sorted(CHANNELS)})
    return snippet(session, "ml.m5.xlarge", role, repr("s3://%s/%s/output" % (bucket, prefix)), inputs, False)

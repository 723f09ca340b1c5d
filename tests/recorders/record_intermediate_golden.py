"""Record the S3 keys that sagemaker-training 5.1.4's intermediate_output.start_sync gives: the tree of
tests/support/intermediate_tree.py, and one file under a few sagemaker_s3_output / TRAINING_JOB_NAME forms (a trailing
slash, no path, no job name, a doubled slash). Against moto (tests/support/moto_server.py, auth on); the toolkit runs
in its own venv, as in the other recordings, and the tests never import it. Written to
tests/golden_intermediate/keys.json: keys relative to the location's bucket, the sha256 of each object, and
the sha256 of each file's last version as the program saw it.

Usage: .venv/bin/python tests/recorders/record_intermediate_golden.py \
           /path/to/venv-with-sagemaker-training-5.1.4/bin/python
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "support"))

import moto_server  # noqa: E402

TREE = os.path.join(TESTS, "support", "intermediate_tree.py")
# (case, sagemaker_s3_output, TRAINING_JOB_NAME or None for unset, the program: the tree or one nested file)
CASES = [("tree", "s3://sm-bucket/golden/tree", "job-1", "tree"),
         ("trailing_slash", "s3://sm-bucket/golden/slash/", "job-1", "one"),
         ("no_path", "s3://sm-bucket", "golden-no-path", "one"),
         ("no_job_name", "s3://sm-bucket/golden/nojob", None, "one"),
         ("double_slash", "s3://sm-bucket/golden//double", "job-1", "one")]

DRIVER = r"""
import json, os, subprocess, sys, time
from sagemaker_training import intermediate_output
base, location, endpoint, program = sys.argv[1:5]
sync = intermediate_output.start_sync(location, "us-west-2", endpoint_url=endpoint)
if program == "tree":
    out = subprocess.run([sys.executable, %r, intermediate_output.intermediate_path], check=True,
                         stdout=subprocess.PIPE).stdout.decode()
else:
    time.sleep(0.5)
    os.makedirs(os.path.join(intermediate_output.intermediate_path, "a"))
    time.sleep(0.5)
    with open(os.path.join(intermediate_output.intermediate_path, "a", "b.txt"), "w") as f:
        f.write("one file\n")
    out = json.dumps({"a/b.txt": "%s"})
time.sleep(1)
open(os.path.join(base, "output", "success"), "w").close()
sync.join()
print(out.strip().splitlines()[-1])
""" % (TREE, hashlib.sha256(b"one file\n").hexdigest())


def record(toolkit_python):
    moto = moto_server.start()
    s3 = moto.client()
    cases = {}
    for case, location, job, program in CASES:
        base = tempfile.mkdtemp(prefix="tk-intermediate-")
        os.makedirs(os.path.join(base, "output"))
        env = dict(os.environ, SAGEMAKER_BASE_DIR=base, **moto.environ())
        env.pop("TRAINING_JOB_NAME", None)
        if job is not None:
            env["TRAINING_JOB_NAME"] = job
        before = {o["Key"] for o in s3.list_objects_v2(Bucket=moto.bucket).get("Contents", [])}
        run = subprocess.run([toolkit_python, "-c", DRIVER, base, location, moto.endpoint, program], env=env,
                             stdout=subprocess.PIPE, check=True, timeout=300)
        files = json.loads(run.stdout.decode().strip().splitlines()[-1])
        objects = {}
        for item in s3.list_objects_v2(Bucket=moto.bucket).get("Contents", []):
            if item["Key"] not in before:
                body = s3.get_object(Bucket=moto.bucket, Key=item["Key"])["Body"].read()
                objects[item["Key"]] = hashlib.sha256(body).hexdigest()
        cases[case] = {"sagemaker_s3_output": location, "TRAINING_JOB_NAME": job, "program": program,
                       "objects": objects, "files": files}
    with open(os.path.join(TESTS, "golden_intermediate", "keys.json"), "w") as f:
        json.dump({"toolkit": "sagemaker-training 5.1.4", "cases": cases}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    record(sys.argv[1])

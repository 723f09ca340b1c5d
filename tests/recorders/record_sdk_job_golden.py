"""Record what a program sees when the SageMaker Python SDK runs the estimator of tests/images/sdk_job.py in its
local mode, for tests/images/test_local_job.py (``local --job`` must give the same argv and SM_* values).
Never imported by the tests.

The SDK's local mode needs an image that starts the program: this uses the README's recipe image (sm-train.pyz
in exec mode, on a Debian base made by mmdebstrap), as the image tests build it, so what is recorded is the SDK's
config files as sm-train renders them. sm-train's rendering is checked against the official toolkit
(sagemaker-training 5.1.4) elsewhere: tests/golden/ and tests/test_golden.py. Run it as root, with the Docker
daemon of the image tests and the SDK of .venv-images:

    python3 build_pyz.py --output dist/sm-train.pyz
    SM_TRAIN_PYZ=$PWD/dist/sm-train.pyz bash tests/images/run.sh --command \\
        .venv-images/bin/python tests/recorders/record_sdk_job_golden.py

Writes tests/golden_sdk_job/local_mode.json: {"header": how it was recorded, "estimator": the estimator's
settings, "seen": what the program wrote (programs/sdk_job_train.py)}.
"""

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(TESTS, "golden_sdk_job", "local_mode.json")
sys.path.insert(0, TESTS)

from images import sdk_job  # noqa: E402 - after the path
from images.harness import SDK_PYTHON, base_images, build, debian_release, recipe, run_sdk, with_from  # noqa: E402


class Folders(object):
    """What harness.build asks of pytest's tmp_path_factory: a new folder, here under run.sh's work dir."""

    def __init__(self, base):
        self.base = base

    def mktemp(self, name):
        return tempfile.mkdtemp(prefix=name + "-", dir=self.base)


def record():
    work = os.environ.get("SM_TRAIN_IMAGES_WORK")
    if not work:
        sys.exit("run it through tests/images/run.sh --command (see its docstring): it needs that Docker daemon")
    folders = Folders(work)
    image = build(sdk_job.IMAGE, with_from(recipe(), base_images(work, ["plain"])["plain"]), "job.py", folders)
    workdir = folders.mktemp("sdk-job")
    sdk_job.lay_out(workdir)
    status, out = run_sdk(sdk_job.local_mode_snippet(), workdir, env={"AWS_DEFAULT_REGION": sdk_job.REGION})
    if status != 0:
        sys.exit("the SDK's local mode failed (status %d):\n%s" % (status, out[-5000:]))
    with tarfile.open(os.path.join(workdir, "out", "model.tar.gz")) as tar:
        seen = json.load(tar.extractfile("seen.json"))
    with open(os.environ["SM_TRAIN_PYZ"], "rb") as f:
        pyz = hashlib.sha256(f.read()).hexdigest()
    # The installed version, without importing the SDK (which logs its config lookups to stdout)
    versions = subprocess.check_output([SDK_PYTHON, "-c", "import importlib.metadata as m, sys; "
                                        "print(m.version('sagemaker'), sys.version.split()[0])"]).decode().split()
    compose = subprocess.check_output(["docker-compose", "version", "--short"]).decode().strip()
    header = {
        "what": "what programs/sdk_job_train.py saw when the SageMaker Python SDK ran the estimator of "
                "tests/images/sdk_job.py in its local mode (instance_type local, local_code, file:// channels)",
        "sagemaker": versions[0], "sdk_python": versions[1], "docker_compose": compose,
        "image": "%s: the README's recipe Dockerfile (sm-train.pyz, exec mode) FROM a Debian %s base with python3 "
                 "(mmdebstrap): the program was started by sm-train inside it, not by the official toolkit; "
                 "sm-train's parity with sagemaker-training 5.1.4 is tested by tests/test_golden.py" % (image,
                                                                                                   debian_release()),
        "sm_train_pyz_sha256": pyz,
        "cpus": os.cpu_count(),  # the recording machine's: a container sees them all, SM_NUM_CPUS tells them
        "recorded_by": "tests/recorders/record_sdk_job_golden.py, through tests/images/run.sh --command",
    }
    estimator = {"job_name": sdk_job.JOB_NAME, "region": sdk_job.REGION, "hyperparameters": sdk_job.HYPERPARAMETERS,
                 "channels": {name: sorted(files) for name, files in sdk_job.CHANNELS.items()}}
    with open(GOLDEN, "w") as f:
        json.dump({"header": header, "estimator": estimator, "seen": seen}, f, indent=1, sort_keys=True)
        f.write("\n")
    print("recorded %s: SDK %s, %d SM_* variables" % (os.path.relpath(GOLDEN), versions[0], len(seen["env"])))


if __name__ == "__main__":
    record()

"""End to end with the real client: the SageMaker Python SDK creates the estimator of sdk_job.py as a job on moto's
SageMaker API and S3 (authentication on; ``fit(wait=False)`` uploads sourcedir.tar.gz and writes the sagemaker_*
hyperparameters), then ``sm-train.pyz local --job NAME`` runs it. The program must see what it saw when the SDK's
local mode ran the same estimator (tests/golden_sdk_job/local_mode.json, by record_sdk_job_golden.py), except
where DIFFERENCES says: each of those is checked to be exactly the difference expected."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from . import sdk_job
from .harness import ROOT, WAIT, run_sdk

sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import moto_server  # noqa: E402 - tests/support is not on the image tests' path

GOLDEN = os.path.join(ROOT, "tests", "golden_sdk_job", "local_mode.json")
PREFIX = "sdkjob"  # the test's keys in moto's bucket
GROUP = "homogeneousCluster"  # the one instance group SageMaker names for a job without instance groups
MISSING = object()  # a key one side does not have


class Run(object):
    """What the expected values depend on: the SDK's host name in the recording, this run's tree and code."""

    def __init__(self, golden, tree, code):
        self.sdk_host = golden["seen"]["env"]["SM_CURRENT_HOST"]
        assert re.match(r"algo-1-[a-z0-9]{5}\Z", self.sdk_host), self.sdk_host  # the SDK's own shape
        self.recorded_cpus = golden["header"]["cpus"]
        self.tree, self.code = tree, code


def compact(value):
    """JSON as sm-train writes its SM_* values (and the toolkit before it): sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# --- the rules: what local --job must give, from what the SDK's local mode gave --------------------------------

def path(value, run):
    """/opt/ml/... in the SDK's container is the kept tree here."""
    assert value == "/opt/ml" or value.startswith("/opt/ml/"), value
    return run.tree + value[len("/opt/ml"):]


def paths(value, run):
    return {name: path(folder, run) for name, folder in value.items()}


def host(value, run):
    assert value == run.sdk_host, value
    return "algo-1"


def hosts(value, run):
    assert value == [run.sdk_host], value
    return ["algo-1"]


def instance_type(value, run):
    assert value == "local", value
    return "ml.m5.xlarge"


def module_dir(value, run):
    assert value == "/opt/ml/code", value
    return run.code


def cpus(value, run):
    assert int(value) == run.recorded_cpus, value  # the recording machine's, as its container saw them
    return type(value)(os.cpu_count())


def gpus(value, run):
    assert int(value) == 0, value  # the recipe image has no nvidia-smi
    return type(value)(gpus_here())


def distribution_hosts(value, run):
    assert value == [run.sdk_host], value
    return []


def constant(sdk, job):
    def rule(value, run):
        assert value == sdk, value
        return job
    return rule


def encoded(rule):
    """The rule of a JSON-valued SM_* variable, applied to its decoded value."""
    return lambda value, run: compact(rule(json.loads(value), run))


def table(where):
    """The rule of a JSON object: each key by its row in DIFFERENCES for ``where``, the others equal."""
    return lambda value, run: expected(value, where, run)


GROUPS = [{"hosts": ["algo-1"], "instance_group_name": GROUP, "instance_type": "ml.m5.xlarge"}]
CHANNEL = {"RecordWrapperType": "None", "S3DistributionType": "FullyReplicated", "TrainingInputMode": "File"}
LOCAL_MODE_CHANNEL = {"TrainingInputMode": "File"}

# (where, key) -> (rule: the SDK local mode's value -> local --job's, why). Every key not here must be equal.
PATHS = "a path: /opt/ml in the SDK's container, the --keep tree here"
HOST = "the SDK's local mode names its hosts algo-K-xxxxx (a random suffix per job); SageMaker and local --job algo-K"
TYPE = "the SDK's local mode has instance_type 'local'; the job was created with ml.m5.xlarge"
CODE = ("with local_code the SDK's local mode mounts source_dir at /opt/ml/code and writes that path as "
        "sagemaker_submit_directory; the job has the s3:// sourcedir.tar.gz the SDK uploaded, which the launcher "
        "fetches")
GROUPS_WHY = ("the SDK's local mode writes no current_group_name or instance_groups in resourceconfig.json; "
              "SageMaker (and local --job) writes the one group homogeneousCluster")
DISTRIBUTION = ("with no instance groups in resourceconfig.json every host is a distribution host; with them "
                "(SageMaker, local --job) only the hosts of distribution_instance_groups, none here")
CHANNELS_WHY = ("the SDK's local mode writes only TrainingInputMode for a channel; SageMaker (and local --job, from "
                "InputDataConfig) also S3DistributionType and RecordWrapperType")
CPUS = "the recording machine's CPU count (all of them, seen from its container); here this machine's"
GPUS = "the recipe image had no nvidia-smi; local --job runs on this machine and counts its GPUs"
DIFFERENCES = {
    ("seen", "cwd"): (path, PATHS),
    ("hyperparameters.json", "sagemaker_submit_directory"): (encoded(module_dir), CODE),
    ("env", "SM_CHANNEL_TRAINING"): (path, PATHS),
    ("env", "SM_CHANNEL_VALIDATION"): (path, PATHS),
    ("env", "SM_INPUT_CONFIG_DIR"): (path, PATHS),
    ("env", "SM_INPUT_DIR"): (path, PATHS),
    ("env", "SM_MODEL_DIR"): (path, PATHS),
    ("env", "SM_OUTPUT_DATA_DIR"): (path, PATHS),
    ("env", "SM_OUTPUT_DIR"): (path, PATHS),
    ("env", "SM_OUTPUT_INTERMEDIATE_DIR"): (path, PATHS),
    ("env", "SM_MODULE_DIR"): (module_dir, CODE),
    ("env", "SM_CURRENT_HOST"): (host, HOST),
    ("env", "SM_HOSTS"): (encoded(hosts), HOST),
    ("env", "SM_CURRENT_INSTANCE_TYPE"): (instance_type, TYPE),
    ("env", "SM_CURRENT_INSTANCE_GROUP_HOSTS"): (encoded(constant([], ["algo-1"])), GROUPS_WHY),
    ("env", "SM_INSTANCE_GROUPS"): (encoded(constant([], [GROUP])), GROUPS_WHY),
    ("env", "SM_INSTANCE_GROUPS_DICT"): (encoded(constant({}, {GROUP: GROUPS[0]})), GROUPS_WHY),
    ("env", "SM_RESOURCE_CONFIG"): (encoded(table("resourceconfig")), GROUPS_WHY + "; " + HOST + "; " + TYPE),
    ("env", "SM_INPUT_DATA_CONFIG"): (encoded(table("inputdataconfig")), CHANNELS_WHY),
    ("env", "SM_NUM_CPUS"): (cpus, CPUS),
    ("env", "SM_NUM_GPUS"): (gpus, GPUS),
    ("env", "SM_TRAINING_ENV"): (encoded(table("SM_TRAINING_ENV")), "the differences of its parts, below"),
    ("resourceconfig", "current_host"): (host, HOST),
    ("resourceconfig", "hosts"): (hosts, HOST),
    ("resourceconfig", "current_instance_type"): (instance_type, TYPE),
    ("resourceconfig", "current_group_name"): (constant(MISSING, GROUP), GROUPS_WHY),
    ("resourceconfig", "instance_groups"): (constant(MISSING, GROUPS), GROUPS_WHY),
    ("inputdataconfig", "training"): (constant(LOCAL_MODE_CHANNEL, CHANNEL), CHANNELS_WHY),
    ("inputdataconfig", "validation"): (constant(LOCAL_MODE_CHANNEL, CHANNEL), CHANNELS_WHY),
    ("SM_TRAINING_ENV", "channel_input_dirs"): (paths, PATHS),
    ("SM_TRAINING_ENV", "input_config_dir"): (path, PATHS),
    ("SM_TRAINING_ENV", "input_dir"): (path, PATHS),
    ("SM_TRAINING_ENV", "model_dir"): (path, PATHS),
    ("SM_TRAINING_ENV", "output_data_dir"): (path, PATHS),
    ("SM_TRAINING_ENV", "output_dir"): (path, PATHS),
    ("SM_TRAINING_ENV", "output_intermediate_dir"): (path, PATHS),
    ("SM_TRAINING_ENV", "module_dir"): (module_dir, CODE),
    ("SM_TRAINING_ENV", "current_host"): (host, HOST),
    ("SM_TRAINING_ENV", "master_hostname"): (host, HOST),
    ("SM_TRAINING_ENV", "hosts"): (hosts, HOST),
    ("SM_TRAINING_ENV", "current_instance_type"): (instance_type, TYPE),
    ("SM_TRAINING_ENV", "current_instance_group_hosts"): (constant([], ["algo-1"]), GROUPS_WHY),
    ("SM_TRAINING_ENV", "instance_groups"): (constant([], [GROUP]), GROUPS_WHY),
    ("SM_TRAINING_ENV", "instance_groups_dict"): (constant({}, {GROUP: GROUPS[0]}), GROUPS_WHY),
    ("SM_TRAINING_ENV", "distribution_hosts"): (distribution_hosts, DISTRIBUTION),
    ("SM_TRAINING_ENV", "resource_config"): (table("resourceconfig"), GROUPS_WHY + "; " + HOST + "; " + TYPE),
    ("SM_TRAINING_ENV", "input_data_config"): (table("inputdataconfig"), CHANNELS_WHY),
    ("SM_TRAINING_ENV", "num_cpus"): (cpus, CPUS),
    ("SM_TRAINING_ENV", "num_gpus"): (gpus, GPUS),
}


def expected(golden, where, run):
    """What local --job must give for the JSON object ``golden`` (the part ``where`` of the recording)."""
    keys = set(golden) | {key for w, key in DIFFERENCES if w == where}
    out = {}
    for key in keys:
        rule = DIFFERENCES.get((where, key), (lambda value, run: value, None))[0]
        value = rule(golden.get(key, MISSING), run)
        if value is not MISSING:
            out[key] = value
    return out


def gpus_here():
    """The GPUs sm-train counts on this machine: the lines of nvidia-smi --list-gpus, none without it."""
    if not shutil.which("nvidia-smi"):
        return 0
    result = subprocess.run(["nvidia-smi", "--list-gpus"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            timeout=60)
    if result.returncode:
        return 0
    return sum(1 for line in result.stdout.decode().splitlines() if line.startswith("GPU "))


# --- the test ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def moto():
    server = moto_server.start()
    for channel, files in sdk_job.CHANNELS.items():
        for name, text in files.items():
            server.put("%s/data/%s/%s" % (PREFIX, channel, name), text.encode())
    return server


def aws_environ(moto):
    """Moto's endpoint for every service, the IAM user's keys, moto's region, and no instance metadata."""
    return {"AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": moto.access_key,
            "AWS_SECRET_ACCESS_KEY": moto.secret_key, "AWS_REGION": moto.region,
            "AWS_DEFAULT_REGION": moto.region, "AWS_EC2_METADATA_DISABLED": "true"}


def test_local_job_runs_an_sdk_job_as_the_sdk_local_mode_ran_it(moto, tmp_path):
    with open(GOLDEN) as f:
        golden = json.load(f)
    assert golden["estimator"]["hyperparameters"] == sdk_job.HYPERPARAMETERS, "sdk_job.py changed: record again"
    work = str(tmp_path / "sdk")
    os.makedirs(work)
    sdk_job.lay_out(work)
    status, out = run_sdk(sdk_job.s3_snippet(moto.bucket, PREFIX, moto.role_arn), work, env=aws_environ(moto),
                          netns=False)
    assert status == 0, out[-5000:]

    # The job as the SDK created it: its hyperparameters stored as the local mode wrote them, its code uploaded
    job = moto.client("sagemaker").describe_training_job(TrainingJobName=sdk_job.JOB_NAME)
    stored = job["HyperParameters"]
    code = json.loads(stored["sagemaker_submit_directory"])
    assert code == "s3://%s/%s/source/sourcedir.tar.gz" % (moto.bucket, sdk_job.JOB_NAME)
    assert moto.client().head_object(Bucket=moto.bucket, Key=code.split("/", 3)[3])["ContentLength"] > 0
    recorded = golden["seen"]["hyperparameters.json"]
    assert stored == dict(recorded, sagemaker_submit_directory=stored["sagemaker_submit_directory"])

    tree = str(tmp_path / "tree")
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)
    env = dict(aws_environ(moto), PATH=os.environ["PATH"], HOME=str(home), TMPDIR=str(home / "tmp"),
               XDG_CACHE_HOME=str(home / "cache"), LANG="C.UTF-8")
    result = subprocess.run(["python3", os.environ["SM_TRAIN_PYZ"], "local", "--job", sdk_job.JOB_NAME, "--keep",
                             tree], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=WAIT)
    log = result.stdout.decode("utf-8", "replace")
    assert result.returncode == 0, log[-5000:]
    with open(os.path.join(tree, "model", "seen.json")) as f:
        seen = json.load(f)

    run = Run(golden, tree, code)
    assert golden["seen"]["training_job_name"] == seen["training_job_name"] == sdk_job.JOB_NAME
    assert seen["argv"] == golden["seen"]["argv"]
    assert seen["channels"] == golden["seen"]["channels"]
    assert seen["cwd"] == expected(golden["seen"], "seen", run)["cwd"]
    assert seen["hyperparameters.json"] == expected(golden["seen"]["hyperparameters.json"], "hyperparameters.json",
                                                    run)
    want = expected(golden["seen"]["env"], "env", run)
    assert sorted(seen["env"]) == sorted(want)
    for name in sorted(want):
        if name == "SM_TRAINING_ENV":  # key by key, for a readable failure
            assert json.loads(seen["env"][name]) == json.loads(want[name])
        assert seen["env"][name] == want[name], name

"""``sm-train.pyz local --job NAME`` through the built pyz, against moto's SageMaker API and S3 with request
authentication on: the job's hyperparameters as stored, its channels (with their inputdataconfig entries, a
sharded one across the job's hosts), its instance groups, its code from S3; the command line over the job; and
each refusal in one line with nothing written."""

import json
import os

import pytest
from conftest import error_lines
from fault_proxy import FaultProxy
from local_s3 import code_bundle, environ, local
from moto_server import moto  # noqa: F401 - the fixture

# As the SageMaker Python SDK stores them: each value json.dumps-ed into a string.
STORED = {"epochs": "3", "lr": "0.001", "optimizer": "\"adam\"", "layers": "[64, 32]", "version": "\"1.10\"",
          "opts": "{\"beta\": 0.9}", "sagemaker_program": "\"train.py\"",
          "sagemaker_container_log_level": "20", "sagemaker_region": "\"us-west-2\""}
ARGV = ["--epochs", "3", "--layers", "[64, 32]", "--lr", "0.001", "--optimizer", "adam", "--opts", "beta=0.9",
        "--version", "1.10"]
TRAIN = {"a.csv": b"1,2\n", "sub/b.csv": b"3,4\n"}
SHARDS = {"part-%d" % k: b"%d\n" % k for k in range(5)}


def s3_channel(name, uri, distribution="FullyReplicated", **extra):
    entry = {"ChannelName": name, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                                                  "S3DataDistributionType": distribution}}}
    entry.update(extra)
    return entry


def create(moto, name, channels, resources=None, hyperparameters=None, mode="File"):  # noqa: F811
    moto.client("sagemaker").create_training_job(
        TrainingJobName=name, HyperParameters=hyperparameters if hyperparameters is not None else STORED,
        AlgorithmSpecification={"TrainingImage": "123456789012.dkr.ecr.us-west-2.amazonaws.com/train:1",
                                "TrainingInputMode": mode},
        RoleArn=moto.role_arn, InputDataConfig=channels,
        OutputDataConfig={"S3OutputPath": "s3://%s/output" % moto.bucket},
        ResourceConfig=resources or {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600})
    return name


@pytest.fixture(scope="module")
def jobs(moto):  # noqa: F811
    """Data, code and the jobs the tests run, made once."""
    code = moto.put("job/source/sourcedir.tar.gz", code_bundle())
    for path, data in TRAIN.items():
        moto.put("job/data/train/" + path, data)
    for path, data in SHARDS.items():
        moto.put("job/data/shards/" + path, data)
    stored = dict(STORED, sagemaker_submit_directory=json.dumps(code))
    train = s3_channel("train", "s3://%s/job/data/train" % moto.bucket, ContentType="text/csv")
    shards = s3_channel("shards", "s3://%s/job/data/shards/" % moto.bucket, "ShardedByS3Key")
    create(moto, "one-host", [train], hyperparameters=stored)
    create(moto, "two-hosts", [train, shards], {"InstanceType": "ml.c5.xlarge", "InstanceCount": 2,
                                                "VolumeSizeInGB": 30}, stored)
    create(moto, "groups", [train], {"InstanceGroups": [
        {"InstanceGroupName": "data", "InstanceType": "ml.c5.xlarge", "InstanceCount": 1},
        {"InstanceGroupName": "gpus", "InstanceType": "ml.p3.2xlarge", "InstanceCount": 2}], "VolumeSizeInGB": 30},
        stored)
    create(moto, "piped", [s3_channel("train", "s3://%s/job/data/train" % moto.bucket, InputMode="Pipe")],
           hyperparameters=stored)
    create(moto, "from-efs", [{"ChannelName": "train", "DataSource": {"FileSystemDataSource": {
        "FileSystemId": "fs-0123456789abcdef0", "FileSystemAccessMode": "ro", "FileSystemType": "EFS",
        "DirectoryPath": "/data"}}}], hyperparameters=stored)
    create(moto, "manifest", [{"ChannelName": "train", "DataSource": {"S3DataSource": {
        "S3DataType": "ManifestFile", "S3Uri": "s3://%s/job/train.manifest" % moto.bucket}}}], hyperparameters=stored)
    create(moto, "fast-file", [s3_channel("train", "s3://%s/job/data/train/" % moto.bucket, InputMode="FastFile")],
           hyperparameters=stored)
    create(moto, "no-program", [train], hyperparameters={"epochs": "3"})
    create(moto, "code-in-image", [train], hyperparameters=dict(STORED, sagemaker_submit_directory="\"/opt/ml/code\""))
    moto.stored = stored
    return moto


def run(pyz, tmp_path, moto, *args, status=0, **extra):  # noqa: F811
    """A kept local run; (its stderr, the tree)."""
    tree = str(tmp_path / "tree")
    result = local(pyz, environ(moto, tmp_path, AWS_ENDPOINT_URL_SAGEMAKER=moto.endpoint, **extra), "--keep", tree,
                   *args)
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert "Traceback" not in stderr
    return stderr, tree


def read(tree, *path):
    with open(os.path.join(tree, *path)) as f:
        return json.load(f)


def files(folder):
    found = {}
    for where, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(where, name), "rb") as f:
                found[os.path.relpath(os.path.join(where, name), folder)] = f.read()
    return found


def test_a_job_runs_as_its_description_says(pyz, tmp_path, jobs):
    stderr, tree = run(pyz, tmp_path, jobs, "--job", "one-host")
    assert read(tree, "input", "config", "hyperparameters.json") == jobs.stored  # as stored, to the byte
    assert read(tree, "input", "config", "inputdataconfig.json") == {"train": {
        "ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
        "RecordWrapperType": "None"}}
    resources = read(tree, "input", "config", "resourceconfig.json")
    assert (resources["current_instance_type"], resources["hosts"]) == ("ml.m5.xlarge", ["algo-1"])
    # S3Prefix job/data/train (no '/'): each key less the prefix's folder, job/data/, as SageMaker lays it out
    assert files(os.path.join(tree, "input", "data", "train")) == {"train/" + k: v for k, v in TRAIN.items()}
    seen = read(tree, "model", "seen.json")
    assert seen["argv"] == ARGV and seen["job"] == "one-host"
    assert seen["env"]["SM_MODULE_DIR"] == json.loads(jobs.stored["sagemaker_submit_directory"])
    screen = stderr[:stderr.index("Invoking user script")]
    for words in ("job one-host in us-west-2, as SageMaker describes it:", "status:          Completed",
                  "123456789012.dkr.ecr.us-west-2.amazonaws.com/train:1 -- not used: the job runs here",
                  "instances:       1 x ml.m5.xlarge -> algo-1 here", "hyperparameters: 10 as stored on the job",
                  "code:            s3://%s/job/source/sourcedir.tar.gz, fetched" % jobs.bucket,
                  "channel train: s3://%s/job/data/train, 2 objects, 8 B" % jobs.bucket, "tree %s" % tree):
        assert words in screen, words


def test_a_sharded_channel_is_split_across_the_jobs_hosts(pyz, tmp_path, jobs):
    stderr, tree = run(pyz, tmp_path, jobs, "--job", "two-hosts")
    one, two = (files(os.path.join(tree, host, "input", "data", "shards")) for host in ("algo-1", "algo-2"))
    assert (sorted(one), sorted(two)) == (["part-0", "part-2", "part-4"], ["part-1", "part-3"])
    assert read(tree, "algo-2", "input", "config", "inputdataconfig.json")["shards"]["S3DistributionType"] == \
        "ShardedByS3Key"
    for host in ("algo-1", "algo-2"):
        seen = read(tree, host, "model", "seen.json")
        assert seen["env"]["SM_CURRENT_HOST"] == host and seen["env"]["SM_CURRENT_INSTANCE_TYPE"] == "ml.c5.xlarge"
    assert "instances:       2 x ml.c5.xlarge -> algo-1 to algo-2 here" in stderr


def test_instance_groups_become_the_resourceconfig_groups(pyz, tmp_path, jobs):
    stderr, tree = run(pyz, tmp_path, jobs, "--job", "groups")
    groups = [{"instance_group_name": "data", "instance_type": "ml.c5.xlarge", "hosts": ["algo-1"]},
              {"instance_group_name": "gpus", "instance_type": "ml.p3.2xlarge", "hosts": ["algo-2", "algo-3"]}]
    for host, group, kind in (("algo-1", "data", "ml.c5.xlarge"), ("algo-3", "gpus", "ml.p3.2xlarge")):
        resources = read(tree, host, "input", "config", "resourceconfig.json")
        assert resources["instance_groups"] == groups
        assert (resources["current_group_name"], resources["current_instance_type"]) == (group, kind)
        assert read(tree, host, "model", "seen.json")["env"]["SM_IS_HETERO"] == "true"
    assert "data: 1 x ml.c5.xlarge -> algo-1; gpus: 2 x ml.p3.2xlarge -> algo-2 to algo-3" in stderr


def test_the_command_line_overrides_the_job(pyz, tmp_path, jobs):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "x.csv").write_bytes(b"mine\n")
    stderr, tree = run(pyz, tmp_path, jobs, "--job", "two-hosts", "--hp", "epochs=5", "--channel",
                       "train=%s" % mine, "--hosts", "1", "--instance-type", "ml.g5.xlarge", "--sample", "2B")
    hps = read(tree, "input", "config", "hyperparameters.json")
    assert hps == dict(jobs.stored, epochs="5")
    channels = read(tree, "input", "config", "inputdataconfig.json")
    assert channels["train"]["ContentType"] == "text/csv"  # the job's entry, the command line's files
    assert files(os.path.join(tree, "input", "data", "train")) == {"x.csv": b"mine\n"}
    assert sorted(files(os.path.join(tree, "input", "data", "shards"))) == ["part-0"]  # 2 bytes: one object
    resources = read(tree, "input", "config", "resourceconfig.json")
    assert (resources["hosts"], resources["current_instance_type"]) == (["algo-1"], "ml.g5.xlarge")
    assert read(tree, "model", "seen.json")["argv"][:2] == ["--epochs", "5"]
    assert "hyperparameters: 10 as stored on the job; set here: epochs" in stderr
    assert "A SAMPLE" in stderr


def test_a_sharded_channel_from_a_folder_goes_whole_to_every_host_and_says_so(pyz, tmp_path, jobs):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "x.csv").write_bytes(b"mine\n")
    _, tree = run(pyz, tmp_path, jobs, "--job", "two-hosts", "--channel", "shards=%s" % mine)
    for host in ("algo-1", "algo-2"):
        assert files(os.path.join(tree, host, "input", "data", "shards")) == {"x.csv": b"mine\n"}
        entry = read(tree, host, "input", "config", "inputdataconfig.json")["shards"]
        assert entry["S3DistributionType"] == "FullyReplicated"


def test_a_pipe_mode_channel_is_refused_naming_the_way_to_file_mode(pyz, tmp_path, jobs):
    stderr, tree = run(pyz, tmp_path, jobs, "--job", "piped", status=1)
    line = error_lines(stderr)[0]
    assert len(error_lines(stderr)) == 1
    assert "channel train is in Pipe mode" in line and "--channel train=s3://%s/job/data/train" % jobs.bucket in line
    assert not os.path.exists(tree) and os.listdir(str(tmp_path / "tmp")) == []
    stderr, tree = run(pyz, tmp_path, jobs, "--job", "piped", "--channel",
                       "train=s3://%s/job/data/train" % jobs.bucket)
    assert read(tree, "input", "config", "inputdataconfig.json")["train"]["TrainingInputMode"] == "File"


def test_a_fast_file_channel_is_files_here_and_fast_file_in_its_entry(pyz, tmp_path, jobs):
    _, tree = run(pyz, tmp_path, jobs, "--job", "fast-file")
    assert read(tree, "input", "config", "inputdataconfig.json")["train"]["TrainingInputMode"] == "FastFile"
    assert files(os.path.join(tree, "input", "data", "train")) == TRAIN


def test_code_from_the_command_line_runs_in_place_of_the_jobs_bundle(pyz, tmp_path, jobs):
    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text("import os, sys\nopen(os.path.join(os.environ['SM_MODEL_DIR'], 'mine'), 'w')"
                                   ".write(os.environ['SM_MODULE_DIR'] + ' ' + ' '.join(sys.argv[1:]))\n")
    stderr, tree = run(pyz, tmp_path, jobs, "--job", "one-host", "--code", str(code))
    with open(os.path.join(tree, "model", "mine")) as f:
        assert f.read() == "%s %s" % (json.loads(jobs.stored["sagemaker_submit_directory"]), " ".join(ARGV))
    assert read(tree, "input", "config", "hyperparameters.json") == jobs.stored
    assert "Downloaded s3://" not in stderr and "code:            %s, copied" % code in stderr


@pytest.mark.parametrize("job, words", [
    ("from-efs", ["--job from-efs: channel train reads FileSystemDataSource, which this machine cannot mount",
                  "--channel train=DIR"]),
    ("manifest", ["--job manifest: channel train is an S3 ManifestFile, which local does not read",
                  "--channel train=DIR"]),
    ("code-in-image", ["--job code-in-image: its code is in its image (sagemaker_submit_directory /opt/ml/code)",
                       "--code DIR"]),
    ("no-such-job", ["no training job no-such-job in us-west-2: the SageMaker API says \"Could not find training "
                     "job", "credentials from environment variables"]),
])
def test_a_job_that_cannot_run_here_is_one_line(pyz, tmp_path, jobs, job, words):
    stderr, tree = run(pyz, tmp_path, jobs, "--job", job, status=1)
    lines = error_lines(stderr)
    assert len(lines) == 1 and all(w in lines[0] for w in words), stderr
    assert not os.path.exists(tree) and os.listdir(str(tmp_path / "tmp")) == []
    assert not os.path.exists(str(tmp_path / "cache"))


def test_no_credentials_names_the_sources_tried(pyz, tmp_path, jobs):
    stderr, _ = run(pyz, tmp_path, jobs, "--job", "one-host", status=1, AWS_ACCESS_KEY_ID="",
                    AWS_SECRET_ACCESS_KEY="", HOME=str(tmp_path))
    lines = error_lines(stderr)
    assert len(lines) == 1 and "no AWS credentials found; tried environment variables" in lines[0], stderr
    assert "instance metadata" in lines[0]


def test_access_denied_is_the_apis_message(pyz, tmp_path, jobs):
    iam = jobs.client("iam")
    iam.create_user(UserName="no-describe")
    iam.put_user_policy(UserName="no-describe", PolicyName="deny", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "sagemaker:DescribeTrainingJob", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="no-describe")["AccessKey"]
    stderr, _ = run(pyz, tmp_path, jobs, "--job", "one-host", status=1, AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                    AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    assert "DescribeTrainingJob one-host in us-west-2 (endpoint 127.0.0.1:" in lines[0]
    assert "AccessDenied: User: arn:aws:iam::123456789012:user/no-describe is not authorized to perform: " \
           "sagemaker:DescribeTrainingJob" in lines[0]
    assert key["SecretAccessKey"] not in stderr


@pytest.mark.parametrize("args, words", [
    (["--job", "bad_name"], "--job 'bad_name': a training job's name is 1 to 63 letters"),
    (["--job", "one-host", "--region", "Mars"], "--job one-host: 'Mars' is not a region name"),
    (["--region", "us-west-2", "--", "true"], "--region applies to --job NAME"),
    (["--job", "one-host", "--shard", "nope"], "--shard nope: no S3 channel of that name"),
    (["--job", "no-program"], "--job no-program: the job names no program (no sagemaker_program: on SageMaker its "
                              "image's entry point ran it): give --code DIR --program NAME, or the command after --"),
])
def test_a_wrong_command_line_is_one_line_and_status_2(pyz, tmp_path, jobs, args, words):
    stderr, tree = run(pyz, tmp_path, jobs, *args, status=2)
    lines = error_lines(stderr)
    assert len(lines) == 1 and words in lines[0], stderr
    assert not os.path.exists(tree)


def test_no_region_anywhere_is_one_line(pyz, tmp_path, jobs):
    env = environ(jobs, tmp_path, AWS_ENDPOINT_URL_SAGEMAKER=jobs.endpoint, HOME=str(tmp_path))
    del env["AWS_REGION"]
    result = local(pyz, env, "--job", "one-host")
    lines = error_lines(result.stderr.decode())
    assert result.returncode == 2 and len(lines) == 1
    assert "--job one-host: no region: give --region, or set AWS_REGION or AWS_DEFAULT_REGION" in lines[0]


def test_without_aws_region_the_channels_are_read_in_the_jobs_region(pyz, tmp_path, jobs):
    stored = dict((k, v) for k, v in jobs.stored.items() if k != "sagemaker_region")  # nor a region of its own
    create(jobs, "regionless", [s3_channel("train", "s3://%s/job/data/train" % jobs.bucket)], hyperparameters=stored)
    proxy = FaultProxy(jobs.endpoint)  # no faults: it records the requests, signed for a region each
    try:
        env = environ(jobs, tmp_path, proxy.endpoint, AWS_ENDPOINT_URL_SAGEMAKER=jobs.endpoint,
                      AWS_DEFAULT_REGION="eu-central-1")
        del env["AWS_REGION"]
        result = local(pyz, env, "--job", "regionless", "--region", "us-west-2", "--keep", str(tmp_path / "tree"))
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stderr.decode()
    assert files(str(tmp_path / "tree" / "input" / "data" / "train")) == {"train/" + k: v for k, v in TRAIN.items()}
    scopes = {headers["Authorization"].split("/")[2] for _, _, headers in proxy.seen}
    assert scopes == {"us-west-2"}, scopes

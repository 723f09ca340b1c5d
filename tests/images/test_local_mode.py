"""The README's SageMaker SDK snippet, run for real: the SDK's local mode builds the job trees, starts the recipe
image with docker-compose (one container per instance) and packs the model; the SDK runs with no network."""

import os
import re
import shutil

from .harness import PROGRAMS, exit_codes, model_files, run_sdk, sdk_snippet

MARKER = "from sagemaker.estimator import Estimator"
HOST = re.compile(r"^algo-([12])-[a-z0-9]{5}$")
HPS = {"augment": True, "epochs": 3, "layers": [64, 32], "lr": 0.05, "optimizer": "adam", "opts": {"beta": 0.9}}
ARGV = ["--augment", "True", "--epochs", "3", "--layers", "[64, 32]", "--lr", "0.05", "--optimizer", "adam",
        "--opts", "beta=0.9"]


def workdir(tmp_path, status=None):
    """What the snippet expects in its working directory: src/train.py and the two channels."""
    os.makedirs(str(tmp_path / "src"))
    shutil.copy(os.path.join(PROGRAMS, "sdk_train.py"), str(tmp_path / "src" / "train.py"))
    if status is not None:
        (tmp_path / "src" / "status").write_text(str(status))
    for channel, name in (("training", "train.csv"), ("validation", "val.csv")):
        os.makedirs(str(tmp_path / "data" / channel))
        (tmp_path / "data" / channel / name).write_text("x,y\n1,2\n")
    return str(tmp_path)


def test_one_container_gets_the_hyperparameters_and_channels(recipe_image, tmp_path):
    work = workdir(tmp_path)
    status, out = run_sdk(sdk_snippet(MARKER, recipe_image, "my-training-image"), work)
    assert status == 0, out[-5000:]
    models = model_files(work)
    assert len(models) == 1, sorted(models)
    name, seen = models.popitem()
    env = seen["env"]
    assert HOST.match(env["SM_CURRENT_HOST"]) and name == env["SM_CURRENT_HOST"] + ".json"
    assert seen["argv"] == ARGV
    assert seen["cwd"] == "/opt/ml/code"
    assert seen["channels"] == {"training": ["train.csv"], "validation": ["val.csv"]}
    assert env["SM_HOSTS"] == '["%s"]' % env["SM_CURRENT_HOST"]
    assert env["SM_HPS"] == '{"augment":true,"epochs":3,"layers":[64,32],"lr":0.05,"optimizer":"adam",' \
                            '"opts":{"beta":0.9}}'
    assert (env["SM_HP_EPOCHS"], env["SM_HP_LR"], env["SM_HP_OPTIMIZER"], env["SM_HP_AUGMENT"],
            env["SM_HP_LAYERS"], env["SM_HP_OPTS"]) == ("3", "0.05", "adam", "true", "[64,32]", '{"beta":0.9}')
    assert env["SM_CHANNELS"] == '["training","validation"]'
    assert env["SM_CHANNEL_TRAINING"] == "/opt/ml/input/data/training"
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SM_MODULE_DIR"] == "/opt/ml/code"
    assert list(exit_codes().values()) == [0]


def test_a_failing_job_makes_fit_raise_with_its_status(recipe_image, tmp_path):
    work = workdir(tmp_path, status=3)
    status, out = run_sdk(sdk_snippet(MARKER, recipe_image, "my-training-image"), work)
    assert status != 0, out[-5000:]
    words = " ".join(out.split())  # the SDK's traceback is wrapped to the terminal's width
    assert "RuntimeError: Failed to run: ['docker-compose'" in words, out[-5000:]
    assert "Process exited with code: 3" in words, out[-5000:]
    assert list(exit_codes().values()) == [3]


def test_two_containers_each_know_their_host(recipe_image, tmp_path):
    work = workdir(tmp_path)
    snippet = sdk_snippet(MARKER, recipe_image, "my-training-image",
                          [("instance_count=1,", "instance_count=2,")])
    status, out = run_sdk(snippet, work)
    assert status == 0, out[-5000:]
    models = model_files(work)
    assert len(models) == 2, sorted(models)
    hosts = sorted(seen["env"]["SM_CURRENT_HOST"] for seen in models.values())
    assert [HOST.match(h).group(1) for h in hosts] == ["1", "2"]
    assert hosts[0][-5:] == hosts[1][-5:]  # one job's suffix
    for name, seen in models.items():
        assert name == seen["env"]["SM_CURRENT_HOST"] + ".json"
        assert seen["env"]["SM_HOSTS"] == '["%s","%s"]' % tuple(hosts)
        assert seen["argv"] == ARGV
    codes = exit_codes()
    assert sorted(codes.values()) == [0, 0], codes

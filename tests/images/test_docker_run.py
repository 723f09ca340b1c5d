"""The README's recipe, started as SageMaker starts it: `docker run IMAGE train` with a job tree mounted at
/opt/ml, `docker stop`, and zombies; in exec mode and with SM_TRAIN_SUPERVISE=true."""

import json
import os
import time

from .harness import WAIT, docker

ONE_HOST = {"current_host": "algo-1", "hosts": ["algo-1"]}


def job_tree(tmp_path, hyperparameters):
    """An /opt/ml tree on this machine; hyperparameters as SageMaker writes them (string values)."""
    tree = str(tmp_path / "ml")
    os.makedirs(os.path.join(tree, "input", "config"))
    for name, data in (("hyperparameters.json", hyperparameters), ("resourceconfig.json", ONE_HOST),
                       ("inputdataconfig.json", {})):
        with open(os.path.join(tree, "input", "config", name), "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
    for name in ("model", "output"):
        os.makedirs(os.path.join(tree, name))
    return tree


def hps(**values):
    return {k: json.dumps(v) for k, v in values.items()}


def start(image, tree):
    """`docker run IMAGE train` in the background with the tree's input, model and output mounted, as SageMaker
    mounts them (the code stays the image's); the container's id."""
    mounts = []
    for name in ("input", "model", "output"):
        mounts += ["-v", "%s/%s:/opt/ml/%s" % (tree, name, name)]
    return docker("run", "-d", "--network", "none", *mounts, image, "train")


def finish(container):
    """The container's exit status, once it has ended."""
    return int(docker("wait", container))


def read(tree, *path):
    with open(os.path.join(tree, *path)) as f:
        return f.read()


def wait_for(path, container):
    deadline = time.time() + WAIT
    while not os.path.exists(path):
        assert time.time() < deadline, "never appeared: %s\n%s" % (path, docker("logs", container))
        time.sleep(0.05)


def test_train_runs_the_program_as_pid_1(recipe_image, tmp_path):
    tree = job_tree(tmp_path, hps(mode="report"))
    container = start(recipe_image, tree)
    assert finish(container) == 0, docker("logs", container)
    report = json.loads(read(tree, "model", "report.json"))
    assert report["pid"] == 1
    assert report["pid1"] == ["/usr/bin/python3", "--", "train.py", "--mode", "report"]
    assert report["env"]["SM_CURRENT_HOST"] == "algo-1"
    assert report["env"]["SM_MODEL_DIR"] == "/opt/ml/model"
    assert report["env"]["SM_USER_ENTRY_POINT"] == "train.py"
    assert not os.path.exists(os.path.join(tree, "output", "failure"))


def test_exit_statuses_are_the_containers(recipe_image, tmp_path):
    for status in (3, 137):
        tree = job_tree(tmp_path / str(status), hps(mode="report", status=status))
        container = start(recipe_image, tree)
        assert finish(container) == status, docker("logs", container)
        assert json.loads(read(tree, "model", "report.json"))["pid"] == 1
        # the program replaced the launcher: nobody is left to write a failure reason
        assert not os.path.exists(os.path.join(tree, "output", "failure"))


def test_a_bad_job_gets_its_failure_file(recipe_image, tmp_path):
    tree = job_tree(tmp_path, '{"mode": ')
    container = start(recipe_image, tree)
    assert finish(container) == 1, docker("logs", container)
    failure = read(tree, "output", "failure")
    assert "hyperparameters.json" in failure, failure
    assert os.listdir(os.path.join(tree, "model")) == []


def test_docker_stop_in_exec_mode_waits_for_sigkill(recipe_image, tmp_path):
    """PID 1 without a SIGTERM handler drops SIGTERM: `docker stop -t 5` ends in SIGKILL (137), no reason."""
    tree = job_tree(tmp_path, hps(mode="sleep"))
    container = start(recipe_image, tree)
    wait_for(os.path.join(tree, "model", "ready"), container)
    started = time.time()
    docker("stop", "-t", "5", container)
    print("exec mode: docker stop -t 5 took %.1f s" % (time.time() - started))
    assert finish(container) == 137
    assert docker("inspect", "-f", "{{.State.OOMKilled}}", container) == "false"
    assert not os.path.exists(os.path.join(tree, "output", "failure"))


def test_docker_stop_under_supervise_ends_with_143(supervised_image, tmp_path):
    """sm-train as PID 1 forwards SIGTERM: the program dies of it before the timeout, 143, the reason written."""
    tree = job_tree(tmp_path, hps(mode="sleep"))
    container = start(supervised_image, tree)
    wait_for(os.path.join(tree, "model", "ready"), container)
    started = time.time()
    docker("stop", "-t", "5", container)
    print("--supervise: docker stop -t 5 took %.1f s" % (time.time() - started))
    assert finish(container) == 143, docker("logs", container)
    failure = read(tree, "output", "failure")
    assert "SIGTERM" in failure, failure


def test_supervise_keeps_the_launcher_as_pid_1(supervised_image, tmp_path):
    tree = job_tree(tmp_path / "ok", hps(mode="report"))
    container = start(supervised_image, tree)
    assert finish(container) == 0, docker("logs", container)
    report = json.loads(read(tree, "model", "report.json"))
    assert report["pid"] != 1
    assert report["pid1"] == ["python3", "/sm-train.pyz", "train"]
    assert os.path.exists(os.path.join(tree, "output", "success"))

    tree = job_tree(tmp_path / "failed", hps(mode="report", status=3))
    container = start(supervised_image, tree)
    assert finish(container) == 3, docker("logs", container)
    failure = read(tree, "output", "failure")
    assert "exit status 3" in failure, failure


def test_zombies_are_reaped_under_supervise_only(recipe_image, supervised_image, tmp_path):
    """Three orphans exit; PID 1 must reap them. In exec mode PID 1 is the program, which does not (the control
    that shows the count can fail); under --supervise sm-train does."""
    for image, wait, left in ((recipe_image, 2, 3), (supervised_image, WAIT, 0)):
        tree = job_tree(tmp_path / image, hps(mode="zombies", count=3, wait=wait))
        container = start(image, tree)
        assert finish(container) == 0, docker("logs", container)
        counted = json.loads(read(tree, "model", "zombies.json"))
        assert counted["left"] == left, (image, counted)

"""The real engines on this machine: a two-node torchrun job (CPU PyTorch, gloo) whose two nodes are two pyz
processes with host names that resolve here, and a single-host Open MPI job with two ranks through mpi4py.
Each test skips, saying why, where torch or mpirun is missing; CI installs both (`make engines`, .ci/run).
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import clean_env, make_tree
from distributed_cases import hps

WAIT = 180  # seconds; generous for a loaded 2-core machine, and only reached when something is broken
BIN = os.path.dirname(sys.executable)  # torchrun comes from the environment whose Python runs the pyz
HOSTS = ["localhost", "127.0.0.1"]     # two names for this machine: node 0 and node 1

TORCH_TRAIN = """import datetime, json, os, sys
import torch
import torch.distributed as dist

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
rank = dist.get_rank()
if os.environ.get("FAIL_HOST") == os.environ["SM_CURRENT_HOST"]:
    sys.exit(3)
total = torch.tensor([float(rank + 1)])
dist.all_reduce(total)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "result.json"), "w") as f:
    json.dump({"rank": rank, "world": dist.get_world_size(), "sum": total.item(), "args": sys.argv[1:],
               "group_rank": os.environ["GROUP_RANK"], "nccl_ifname": os.environ["NCCL_SOCKET_IFNAME"]}, f)
dist.destroy_process_group()
"""

MPI_TRAIN = """import json, os, sys
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
seen = {name: os.environ.get(name) for name in ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
        "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE", "SM_CURRENT_HOST", "CURRENT_HOST", "SM_HOSTS")}
seen.update(rank=rank, size=comm.Get_size(), sum=comm.allreduce(rank + 1), args=sys.argv[1:])
with open(os.path.join(os.environ["SM_MODEL_DIR"], "rank%d.json" % rank), "w") as f:
    json.dump(seen, f)
if os.environ.get("FAIL_RANK") == str(rank):
    raise SystemExit(3)
"""


def has_module(name):
    return importlib.util.find_spec(name) is not None


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as torch's store does: TIME_WAIT is no owner
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def node(tmp_path, host, hyperparameters, code, hosts):
    rc = {"current_host": host, "hosts": hosts, "network_interface_name": "lo"}
    root = make_tree(tmp_path / host, hyperparameters, {}, rc, code)
    os.makedirs(os.path.join(root, "model"))
    return root


def start(pyz, root, **env):
    tmp = root + ".tmp"  # torchrun's torchelastic_* folders go here, inside the test's tmp_path, not in /tmp
    os.makedirs(tmp, exist_ok=True)
    env = clean_env(PATH=BIN + os.pathsep + os.environ.get("PATH", os.defpath), OMP_NUM_THREADS="1", TMPDIR=tmp,
                    **env)
    return subprocess.Popen([sys.executable, pyz, "--root", root], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def outcome(proc):
    try:
        out, _ = proc.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("still running after %d s:\n%s" % (WAIT, out.decode()[-4000:]))
    return proc.returncode, out.decode()


needs_torch = pytest.mark.skipif(
    not has_module("torch") or not os.path.exists(os.path.join(BIN, "torchrun")),
    reason="needs PyTorch and its torchrun beside %s (`make test-engines` installs requirements-engines.txt)"
           % sys.executable)


def torch_job(pyz, tmp_path, **env):
    if not port_free(7777):
        pytest.skip("port 7777, torchrun's master port on SageMaker, is in use on this machine")
    on = hps(sagemaker_program="train.py", sagemaker_torch_distributed_enabled=True, tag="x")
    roots = [node(tmp_path, host, on, {"train.py": TORCH_TRAIN}, HOSTS) for host in HOSTS]
    procs = [start(pyz, root, GLOO_SOCKET_IFNAME="lo", **env) for root in roots]
    return roots, [outcome(proc) for proc in procs]


@needs_torch
def test_two_node_torchrun_all_reduce(pyz, tmp_path):
    roots, results = torch_job(pyz, tmp_path)
    for (status, out) in results:
        assert status == 0, out[-4000:]
    for rank, root in enumerate(roots):
        with open(os.path.join(root, "model", "result.json")) as f:
            result = json.load(f)
        assert result == {"rank": rank, "world": 2, "sum": 3.0, "args": ["--tag", "x"], "group_rank": str(rank),
                          "nccl_ifname": "lo"}


@needs_torch
def test_two_node_torchrun_with_a_failing_node_fails_on_both(pyz, tmp_path):
    _, results = torch_job(pyz, tmp_path, FAIL_HOST="127.0.0.1")
    for (status, out) in results:
        assert status != 0, out[-4000:]


needs_mpi = pytest.mark.skipif(
    shutil.which("mpirun") is None or not has_module("mpi4py"),
    reason="needs Open MPI's mpirun on PATH (.ci/run installs openmpi-bin) and mpi4py (`make test-engines`)")


def mpi_job(pyz, tmp_path, **env):
    on = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True, sagemaker_mpi_num_of_processes_per_host=2,
             tag="x")
    root = node(tmp_path, "localhost", on, {"train.py": MPI_TRAIN}, ["localhost"])
    return root, outcome(start(pyz, root, **env))


@needs_mpi
def test_single_host_mpirun_gives_each_rank_its_variables(pyz, tmp_path):
    root, (status, out) = mpi_job(pyz, tmp_path)
    assert status == 0, out[-4000:]
    for rank in (0, 1):
        with open(os.path.join(root, "model", "rank%d.json" % rank)) as f:
            seen = json.load(f)
        assert seen == {"OMPI_COMM_WORLD_RANK": str(rank), "OMPI_COMM_WORLD_SIZE": "2",
                        "OMPI_COMM_WORLD_LOCAL_RANK": str(rank), "OMPI_COMM_WORLD_LOCAL_SIZE": "2",
                        "SM_CURRENT_HOST": "localhost", "CURRENT_HOST": "localhost", "SM_HOSTS": '["localhost"]',
                        "rank": rank, "size": 2, "sum": 3, "args": ["--tag", "x"]}


@needs_mpi
def test_single_host_mpirun_failure_is_the_launchers_failure(pyz, tmp_path):
    root, (status, out) = mpi_job(pyz, tmp_path, FAIL_RANK="1")
    assert status != 0, out[-4000:]
    with open(os.path.join(root, "output", "failure")) as f:
        assert f.read() == "mpirun exited with status %d" % status

"""The distributed cases shared by tests/recorders/record_distributed_golden.py (which records them from the real
toolkit) and tests/test_distributed.py (which checks the pyz against the recordings), and the one place where
both sides are normalised before they are compared.

Normalisation (``normalize``), and why each step is there:
- the interpreter path -> "<PYTHON>": the toolkit's venv Python records, the test's Python runs the pyz;
- the job's base dir -> "<BASE>": each side has its own temporary /opt/ml tree;
- the recording machine's CPU count (the golden file's "cpus"), in SM_NUM_CPUS and in SM_TRAINING_ENV's
  "num_cpus", -> this machine's os.cpu_count() on the toolkit's side only (``cpus_of_this_machine``);
- PYTHONPATH -> "<PYTHONPATH>": the toolkit exports its own sys.path, sm-train the code dir (README, difference 2);
- PYTHONUNBUFFERED: sm-train sets it for Python programs, a documented difference; test_distributed.py
  requires it to be "1" on sm-train's side for a .py entry point (all these cases) and then drops it;
- the pair "-x LD_PRELOAD=<...gethostname...so>" dropped from mpirun's argv: sm-train has no C extension to
  preload (README, "Distributed training").
"""

import json
import os

P4D = "ml.p4d.24xlarge"
TRAIN = "import sys\nprint(sys.argv)\n"
BASE_ENV = {
    "AWS_DEFAULT_REGION": "us-west-2",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "SAGEMAKER_TRAINING_MODULE": "sagemaker_pytorch_container.training:main",
}


def hps(**values):
    return {k: json.dumps(v) for k, v in values.items()}


def homogeneous(current, hosts, itype=P4D):
    return {"current_host": current, "current_instance_type": itype, "current_group_name": "homogeneousCluster",
            "hosts": hosts, "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": itype,
                                                 "hosts": hosts}], "network_interface_name": "eth0"}


def hetero(current):
    """Two groups: gpu_group (algo-2 listed before algo-1, so algo-2 is the master) and cpu_group (algo-3)."""
    group = "cpu_group" if current == "algo-3" else "gpu_group"
    return {"current_host": current, "current_instance_type": "ml.c5.xlarge" if group == "cpu_group" else P4D,
            "current_group_name": group, "hosts": ["algo-1", "algo-2", "algo-3"],
            "instance_groups": [{"instance_group_name": "gpu_group", "instance_type": P4D,
                                 "hosts": ["algo-2", "algo-1"]},
                                {"instance_group_name": "cpu_group", "instance_type": "ml.c5.xlarge",
                                 "hosts": ["algo-3"]}],
            "network_interface_name": "eth0"}


def case(hyperparameters, resourceconfig, gpus=8, smddprun=False, env=None, code=None, plain=False,
         smddpmprun=False):
    """``plain``: recorded from the plain toolkit's `train`, without the PyTorch container's module.
    ``smddprun``, ``smddpmprun``: a fake of that tool is on PATH."""
    base = {k: v for k, v in BASE_ENV.items() if not (plain and k == "SAGEMAKER_TRAINING_MODULE")}
    return {"hyperparameters": hyperparameters, "resourceconfig": resourceconfig, "gpus": gpus,
            "smddprun": smddprun, "smddpmprun": smddpmprun, "env": dict(base, **(env or {})),
            "code": code or {"train.py": TRAIN}}


TORCH = hps(sagemaker_program="train.py", sagemaker_torch_distributed_enabled=True, lr=0.1, epochs=2)
MPI = hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True, lr=0.1,
          sagemaker_mpi_custom_mpi_options="--NCCL_DEBUG WARN -x FOO=1 --verbose")
SMDDP = hps(sagemaker_program="train.py", sagemaker_distributed_dataparallel_enabled=True, lr=0.1,
            sagemaker_distributed_dataparallel_custom_mpi_options="--NCCL_DEBUG WARN")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SESSION_TOKEN": "token-example"}

CASES = {
    "torchrun_1node": case(TORCH, homogeneous("algo-1", ["algo-1"])),
    "torchrun_2nodes_rank0": case(TORCH, homogeneous("algo-1", ["algo-1", "algo-2"])),
    "torchrun_2nodes_rank1": case(TORCH, homogeneous("algo-2", ["algo-1", "algo-2"])),
    "mpi_master_2x8": case(MPI, homogeneous("algo-1", ["algo-1", "algo-2"]), env=CREDENTIALS),
    "mpi_worker_2x8": case(MPI, homogeneous("algo-2", ["algo-1", "algo-2"]), env=CREDENTIALS),
    "mpi_master_cpu_2x1": case(hps(sagemaker_program="train.py", sagemaker_mpi_enabled=True, batch=32),
                               homogeneous("algo-1", ["algo-1", "algo-2"], "ml.c5.xlarge"), gpus=0),
    "smddp_master_2x8": case(SMDDP, homogeneous("algo-1", ["algo-1", "algo-2"]), smddprun=True),
    "smddp_1node": case(SMDDP, homogeneous("algo-1", ["algo-1"]), smddprun=True),
    "pytorch_ddp_master_2x8": case(hps(sagemaker_program="train.py", sagemaker_pytorch_ddp_enabled=True),
                                   homogeneous("algo-1", ["algo-1", "algo-2"]), smddprun=True),
    "hetero_inside": case(dict(TORCH, **hps(sagemaker_distribution_instance_groups=["gpu_group"])),
                          hetero("algo-1")),
    # A node outside the distribution groups runs the core's plain single process: recorded from the plain
    # toolkit, since the PyTorch container would add its NCCL_* and MASTER_* variables there too.
    "hetero_outside": case(dict(TORCH, **hps(sagemaker_distribution_instance_groups=["gpu_group"])),
                           hetero("algo-3"), gpus=0, plain=True),
    # model parallelism under MPI: the NCCL_* options and the smddpmprun wrapper before the program
    "mpi_modelparallel_2x8": case(dict(MPI, **hps(mp_parameters={"partitions": 2})),
                                  homogeneous("algo-1", ["algo-1", "algo-2"]), smddpmprun=True,
                                  env={"SM_DLC_TORCH_VERSION": "2.3.0"}),
    # Studio local mode (the SDK sets SM_STUDIO_LOCAL_MODE): the other host's name never resolves
    "torchrun_studio_local": case(TORCH, homogeneous("localhost", ["localhost", "no-such-host.invalid"]),
                                  gpus=0, env={"SM_STUDIO_LOCAL_MODE": "true"}),
    "xla_2nodes_rank1": case(hps(sagemaker_program="train.py", sagemaker_pytorch_xla_multi_worker_enabled=True),
                             homogeneous("algo-2", ["algo-1", "algo-2"])),
}

FAKE_NVIDIA_SMI = ("#!/bin/sh\nfor i in 0 1 2 3 4 5 6 7; do echo \"GPU $i: NVIDIA A100-SXM4-40GB (UUID: GPU-$i)\"; "
                   "done\n")
FAKE_SMDDPRUN = "#!/bin/sh\nexec \"$@\"\n"


def normalize(doc, base, python):
    """{"argv", "env", "cwd"} of one side, comparable with the other side's (see the module docstring)."""
    def text(value):
        return value.replace(python, "<PYTHON>").replace(base, "<BASE>")

    argv, raw = [], list(doc["argv"])
    while raw:
        arg = raw.pop(0)
        if arg == "-x" and raw and raw[0].startswith("LD_PRELOAD=") and "gethostname" in raw[0]:
            raw.pop(0)
            continue
        argv.append(text(arg))
    env = {name: text(value) for name, value in doc["env"].items()}
    if "PYTHONPATH" in env:
        env["PYTHONPATH"] = "<PYTHONPATH>"
    return {"argv": argv, "env": env, "cwd": text(doc["cwd"]) if doc.get("cwd") else doc.get("cwd")}


def cpus_of_this_machine(env, recorded):
    """The toolkit's env with the recording machine's CPU count replaced by the count of the machine running this."""
    here = os.cpu_count()
    env = dict(env)
    if "SM_NUM_CPUS" in env:
        assert env["SM_NUM_CPUS"] == str(recorded)
        env["SM_NUM_CPUS"] = str(here)
    if "SM_TRAINING_ENV" in env:
        assert env["SM_TRAINING_ENV"].count('"num_cpus":%d,' % recorded) == 1
        env["SM_TRAINING_ENV"] = env["SM_TRAINING_ENV"].replace('"num_cpus":%d,' % recorded, '"num_cpus":%d,' % here)
    return env

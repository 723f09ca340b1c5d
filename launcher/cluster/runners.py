"""Each engine's command and variables, as the PyTorch framework container builds them: torchrun, PyTorch XLA,
Open MPI and SageMaker distributed data parallel. Pure: each builder mirrors one runner of sagemaker-training
5.1.4 (torch_distributed.py, pytorch_xla.py, mpi.py, smdataparallel.py)."""

from .. import jsonc
from ..errors import JobError, NotFound

# sagemaker_training/__init__.py of 5.1.4
EFA_NCCL_INSTANCES = ("ml.g4dn.8xlarge", "ml.g4dn.12xlarge", "ml.g5.48xlarge", "ml.p3dn.24xlarge", "ml.p4d.24xlarge",
                      "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.p5e.48xlarge", "ml.trn1.32xlarge",
                      "ml.p6e-gb200.36xlarge")
EFA_RDMA_INSTANCES = ("ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.p5e.48xlarge", "ml.trn1.32xlarge",
                      "ml.p6e-gb200.36xlarge")
MASTER_PORT = "7777"
SMDDP_SERVER_PORT = "7592"
XLA_WORKER_PORT, XLA_MESH_PORT = 43857, 53957


def shown(value):
    """A value in an error message, as JSON (compact, as config.py shows them)."""
    return jsonc.dumps(value, sort_keys=False)


def _whole(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise JobError("hyperparameter %s must be a positive whole number, not %s" % (name, shown(value)))
    return value


def torchrun_env(t):
    """torch_distributed._setup: EFA on the instance types that have it, NCCL on the job's interface."""
    env = {}
    itype = t["current_instance_type"]
    if itype in EFA_NCCL_INSTANCES:
        env["FI_PROVIDER"] = "efa"
    if itype in EFA_RDMA_INSTANCES:
        env["FI_EFA_USE_DEVICE_RDMA"] = "1"
        env["RDMAV_FORK_SAFE"] = "1"
    env["NCCL_SOCKET_IFNAME"] = str(t["network_interface_name"])
    env["NCCL_PROTO"] = "simple"
    return env


def torchrun_argv(t, pph, kind, argv, name, args, environ):
    hosts = t["distribution_hosts"]
    if kind == "package":
        raise JobError("Python packages are not supported for torch_distributed. Please use a python script as the "
                       "entry-point")
    if kind == "command":
        raise JobError("Unsupported entry point type for torch_distributed")
    command = ["neuron_parallel_compile"] if environ.get("RUN_NEURON_PARALLEL_COMPILE") == "1" else []
    command += ["torchrun", "--nnodes", str(len(hosts)), "--nproc_per_node", str(pph)]
    if len(hosts) > 1:
        command += ["--master_addr", str(t["master_hostname"]), "--master_port", MASTER_PORT,
                    "--node_rank", str(hosts.index(t["current_host"]))]
    if kind == "explicit":  # `-- PROGRAM ARGS`: torchrun starts the command itself instead of a Python script
        return command + ["--no-python"] + argv
    return command + [name] + args


def xla_env(t):
    """pytorch_xla._setup."""
    hosts = t["distribution_hosts"]
    gpus = t["num_gpus"]
    env = {
        "NCCL_DEBUG": "info",
        "NCCL_PROTO": "simple",
        "FI_EFA_USE_DEVICE_RDMA": "1",
        "OFI_NCCL_NIC_DUP_CONNS": str(gpus),
        "XRT_HOST_ORDINAL": str(hosts.index(t["current_host"])),
        "XRT_SHARD_WORLD_SIZE": str(len(hosts)),
        "XRT_WORKERS": "|".join("localservice:%d;%s:%d" % (i, h, XLA_WORKER_PORT) for i, h in enumerate(hosts)),
        "GPU_NUM_DEVICES": str(gpus),
    }
    if len(hosts) > 1:
        env["XRT_MESH_SERVICE_ADDRESS"] = "%s:%d" % (t["master_hostname"], XLA_MESH_PORT)
    return env


def xla_argv(t, kind, python, name, args):
    if not t["num_gpus"] > 0:
        raise JobError("Distributed training through PT-XLA is only supported for GPUs.")
    if kind == "package":
        raise JobError("Distributed Training through PT-XLA is not supported for Python packages. Please use a "
                       "python script as the entry-point")
    if kind != "program":
        raise JobError("Distributed Training through PT-XLA is only supported for Python scripts. Please use a "
                       "python script as the entry-point")
    return [python, "-m", "torch_xla.distributed.xla_spawn", "--num_gpus", str(t["num_gpus"]), name] + args


def mpi_program(kind, python, argv, name, args):
    """What every rank runs: Python through mpi4py (so an uncaught exception aborts the job), else as planned."""
    if kind == "program":
        return [python, "-m", "mpi4py", name] + args
    if kind == "package":
        return [python, "-m", "mpi4py", "-m", name[:-3] if name.endswith(".py") else name] + args
    return list(argv)


def custom_mpi_options(text, name):
    """The toolkit's argparse of the custom options: --NCCL_DEBUG (default INFO) is taken, the rest passed on."""
    if not isinstance(text, str):
        raise JobError("hyperparameter %s must be a string of mpirun options, not %s" % (name, shown(text)))
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            raise JobError("hyperparameter %s: %s" % (name, message))

    # add_help=False: the toolkit's parser would print its help and end the job on a -h meant for mpirun.
    parser = Parser(prog=name, add_help=False)
    parser.add_argument("--NCCL_DEBUG", default="INFO", type=str)
    known, extra = parser.parse_known_args(text.split())
    return known.NCCL_DEBUG, extra


def mpi_master_argv(t, pph, names, env):
    """mpi.MasterRunner._create_command, without the gethostname LD_PRELOAD (see the README)."""
    framework = t["additional_framework_parameters"]
    hosts = t["distribution_hosts"]
    nic = t["network_interface_name"]
    itype = t["current_instance_type"]
    pph = _whole(pph, "sagemaker_mpi_num_of_processes_per_host")
    num = framework.get("sagemaker_mpi_num_processes") or pph * len(hosts)
    host_list = hosts if pph == 1 else ["%s:%s" % (h, pph) for h in hosts]
    debug, extra = custom_mpi_options(framework.get("sagemaker_mpi_custom_mpi_options", ""),
                                      "sagemaker_mpi_custom_mpi_options")
    argv = ["mpirun", "--host", ",".join(host_list), "-np", str(num), "--allow-run-as-root", "--display-map",
            "--tag-output", "-mca", "btl_tcp_if_include", nic, "-mca", "oob_tcp_if_include", nic,
            "-mca", "plm_rsh_no_tree_spawn", "1", "-bind-to", "none", "-map-by", "slot", "-mca", "pml", "ob1",
            "-mca", "btl", "^openib", "-mca", "orte_abort_on_non_zero_status", "1",
            "-mca", "btl_vader_single_copy_mechanism", "none", "-x", "NCCL_MIN_NRINGS=4",
            "-x", "NCCL_SOCKET_IFNAME=%s" % nic, "-x", "NCCL_DEBUG=%s" % debug, "-x", "LD_LIBRARY_PATH",
            "-x", "PATH"] + extra
    if itype in EFA_NCCL_INSTANCES:
        argv += ["-x", "FI_PROVIDER=efa", "-x", "NCCL_PROTO=simple"]
    if itype in EFA_RDMA_INSTANCES:
        argv += ["-x", "FI_EFA_USE_DEVICE_RDMA=1"]
    for credential in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        if credential in env:
            argv += ["-x", credential]
    for name in names:
        argv += ["-x", name]
    return argv + _model_parallel(env, itype, t["is_smddpmprun_installed"])


def _model_parallel(env, itype, smddpmprun):
    """mpi._modelparallel_environment_command: only when the user's mp_parameters hyperparameter is set."""
    mp = env.get("SM_HP_MP_PARAMETERS")
    if not (mp and mp != "{}"):
        return []
    argv = []
    version = env.get("SM_DLC_TORCH_VERSION")  # the container imports torch for it; we take it from the image
    if version:
        argv += ["-x", "NCCL_PROTO=simple"]
        major = version.split(".")[0]
        if major.isdigit() and int(major) > 1:
            argv += ["-x", "NCCL_ALGO=ring"]
    try:
        backend = jsonc.loads(mp).get("ddp_dist_backend", "auto")
    except (ValueError, AttributeError, RecursionError):
        raise JobError("hyperparameter mp_parameters must be a JSON object, not %s" % mp[:80])
    if backend == "auto" and smddpmprun:
        argv += ["smddpmprun", "-i", itype, "--allow-bypass"]
    return argv


NO_SMDDPRUN = ("SageMaker distributed data parallel (sagemaker_distributed_dataparallel_enabled or "
                "sagemaker_pytorch_ddp_enabled) needs smddprun on PATH, which this image does not have: use an "
                "image with the smdistributed-dataparallel library, or turn the switch off")


def smddp_master_argv(t, pph):
    """smdataparallel.SMDataParallelRunner._create_command (smddprun required), without the LD_PRELOAD."""
    if not t["is_smddprun_installed"]:
        raise NotFound(NO_SMDDPRUN)
    framework = t["additional_framework_parameters"]
    hosts = t["distribution_hosts"]
    nic = t["network_interface_name"]
    pph = _whole(pph, "sagemaker_mpi_num_of_processes_per_host")
    multi = len(hosts) > 1
    host_list = ["%s:%s" % (h, pph) for h in hosts] if multi else hosts
    debug, extra = custom_mpi_options(framework.get("sagemaker_distributed_dataparallel_custom_mpi_options", ""),
                                      "sagemaker_distributed_dataparallel_custom_mpi_options")
    flag = "SMDATAPARALLEL_USE_HOMOGENEOUS=1" if multi else "SMDATAPARALLEL_USE_SINGLENODE=1"
    argv = ["mpirun", "--host", ",".join(host_list), "-np", str(pph * len(hosts)), "--allow-run-as-root",
            "--tag-output", "--oversubscribe", "-mca", "btl_tcp_if_include", nic, "-mca", "oob_tcp_if_include", nic,
            "-mca", "plm_rsh_no_tree_spawn", "1", "-mca", "pml", "ob1", "-mca", "btl", "^openib",
            "-mca", "orte_abort_on_non_zero_status", "1", "-mca", "btl_vader_single_copy_mechanism", "none",
            "-mca", "plm_rsh_num_concurrent", str(len(hosts)), "-x", "NCCL_SOCKET_IFNAME=%s" % nic,
            "-x", "NCCL_DEBUG=%s" % debug, "-x", "LD_LIBRARY_PATH", "-x", "PATH", "-x", flag,
            "-x", "FI_PROVIDER=efa", "-x", "RDMAV_FORK_SAFE=1"] + extra
    itype = framework.get("sagemaker_instance_type") or t["current_instance_type"]
    if itype in EFA_NCCL_INSTANCES:
        argv += ["-x", "NCCL_PROTO=simple"]
    if itype in EFA_RDMA_INSTANCES:
        argv += ["-x", "FI_EFA_USE_DEVICE_RDMA=1"]
    if multi:
        argv += ["-x", "SMDATAPARALLEL_SERVER_ADDR=%s" % t["master_hostname"],
                 "-x", "SMDATAPARALLEL_SERVER_PORT=%s" % SMDDP_SERVER_PORT, "-x", "SAGEMAKER_INSTANCE_TYPE=%s" % itype]
    return argv + ["smddprun"]

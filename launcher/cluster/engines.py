"""Distributed training as the PyTorch framework container runs it: which engine, its argv and its variables.

Pure: plugged into plan.build when a distribution hyperparameter is on; cluster.py does the waiting and
running. Each builder mirrors one runner of sagemaker-training 5.1.4 (runner.py, torch_distributed.py, mpi.py,
smdataparallel.py, pytorch_xla.py) and sagemaker_pytorch_container/training.py.
"""

import os

from . import jsonc, options
from .errors import JobError, NotFound

# sagemaker_training/__init__.py of 5.1.4
EFA_NCCL_INSTANCES = ("ml.g4dn.8xlarge", "ml.g4dn.12xlarge", "ml.g5.48xlarge", "ml.p3dn.24xlarge", "ml.p4d.24xlarge",
                      "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.p5e.48xlarge", "ml.trn1.32xlarge",
                      "ml.p6e-gb200.36xlarge")
EFA_RDMA_INSTANCES = ("ml.p4d.24xlarge", "ml.p4de.24xlarge", "ml.p5.48xlarge", "ml.p5e.48xlarge", "ml.trn1.32xlarge",
                      "ml.p6e-gb200.36xlarge")
MASTER_PORT = "7777"
SMDDP_SERVER_PORT = "7592"
XLA_WORKER_PORT, XLA_MESH_PORT = 43857, 53957
DEFAULT_SSHD = "/usr/sbin/sshd"

# training.py of the PyTorch container: the first switch that is on picks the engine, in this order.
RUNNERS = (
    ("sagemaker_mpi_enabled", "mpi"),
    ("sagemaker_pytorch_ddp_enabled", "smddp"),
    ("sagemaker_torch_distributed_enabled", "torchrun"),
    ("sagemaker_distributed_dataparallel_enabled", "smddp"),
    ("sagemaker_pytorch_xla_multi_worker_enabled", "xla"),
)


class Cluster(object):
    """What the launch step does besides exec: ``role`` is "exec" (every node execs the engine), "mpi-master"
    (runs mpirun, then tells the workers its outcome) or "mpi-worker" (serves ssh and waits for that outcome)."""

    def __init__(self, role, engine, hosts, master, current_host, workers, settings):
        self.role = role
        self.engine = engine
        self.hosts = hosts              # every host of the job: their names must resolve first
        self.master = master
        self.current_host = current_host
        self.workers = workers          # for the master: the hosts whose sshd it waits for
        self.settings = settings


class Settings(object):
    """The SM_TRAIN_* settings of cluster.py's waits, read when the plan is made: a bad one is a UsageError
    (status 2) in --print-env too, before anything is installed. Every wait is in seconds."""

    def __init__(self, environ):
        # every host name resolves (the toolkit: 15 minutes)
        self.dns_timeout = options.seconds(None, environ, "SM_TRAIN_DNS_TIMEOUT", 900)
        # the MPI master sees every worker's sshd (the toolkit: 1 hour)
        self.worker_timeout = options.seconds(None, environ, "SM_TRAIN_WORKER_TIMEOUT", 3600)
        # an MPI worker gets the master's first answer
        self.master_timeout = options.seconds(None, environ, "SM_TRAIN_MASTER_TIMEOUT", 3600)
        # an MPI worker hears again from a master that went silent
        self.master_lost_timeout = options.seconds(None, environ, "SM_TRAIN_MASTER_LOST_TIMEOUT", 300)
        self.status_port = options.integer(environ, "SM_TRAIN_STATUS_PORT", 7791, 1, 65535)
        self.ssh_port = options.integer(environ, "SM_TRAIN_SSH_PORT", 22, 1, 65535)
        self.ssh_environment = environ.get("SM_TRAIN_SSH_ENVIRONMENT", "/etc/environment")
        self.sshd = environ.get("SM_TRAIN_SSHD") or DEFAULT_SSHD


def select(training_env):
    """The engine the PyTorch container picks for this node, or None for a single process."""
    t = training_env
    if t["current_instance_group"] not in t["distribution_instance_groups"]:
        return None
    framework = t["additional_framework_parameters"]
    for switch, engine in RUNNERS:
        if framework.get(switch):
            return engine
    return None


def apply(plan, python, environ, command=None):
    """Turn the single-process plan into this node's part of a distributed job, when a switch asks for one."""
    t = plan.rendered.training_env
    engine = select(t)
    if engine is None:  # outside the distribution groups, or only a switch the PyTorch container ignores (a
        return          # TensorFlow parameter server): the core's single process, as the plain toolkit runs it
    settings = Settings(environ)
    hosts = t["distribution_hosts"]
    env = container_env(t)
    if t["current_host"] not in hosts:
        raise JobError("current host %s is not among the distribution hosts %s"
                       % (t["current_host"], _shown(hosts)))
    kind = "explicit" if command else entry_kind(plan.rendered.entry_point, plan.cwd)
    pph = processes_per_host(t)
    master = t["master_hostname"]
    role = "exec"
    if engine == "torchrun":
        env.update(torchrun_env(t))
        argv = torchrun_argv(t, pph, kind, plan.argv, plan.rendered.entry_point, plan.rendered.user_args, environ)
    elif engine == "xla":
        env.update(xla_env(t))
        argv = xla_argv(t, kind, python, plan.rendered.entry_point, plan.rendered.user_args)
    elif t["current_host"] != master:
        role = "mpi-worker"
        argv = [settings.sshd, "-D"]
        if engine == "smddp" and not t["is_smddprun_installed"]:
            raise NotFound(_NO_SMDDPRUN)
    else:
        role = "mpi-master"
        program = mpi_program(kind, python, plan.argv, plan.rendered.entry_point, plan.rendered.user_args)
        if engine == "mpi":
            names = [name for name in plan.env if name.startswith("SM_") or name == "PYTHONPATH"]
            launcher_env = _merged(environ, plan.env)
            argv = mpi_master_argv(t, pph, names, launcher_env) + program
        else:
            argv = smddp_master_argv(t, pph) + program
    plan.env = _merged(plan.env, env)
    plan.argv = argv
    plan.cluster = Cluster(role, engine, t["hosts"], master, t["current_host"],
                           [h for h in hosts if h != master] if role == "mpi-master" else [], settings)


def _merged(first, second):
    merged = dict(first)
    merged.update(second)
    return merged


def container_env(t):
    """training.py's _set_nccl_environment and _set_distributed_environment, on every node of the engine."""
    return {
        "NCCL_SOCKET_IFNAME": t["network_interface_name"],
        "NCCL_IB_DISABLE": "1",
        "NCCL_DEBUG": "WARN",
        "MASTER_ADDR": t["master_hostname"],
        "MASTER_PORT": MASTER_PORT,
    }


def entry_kind(name, code_dir):
    """The toolkit's entry point type (_entry_point_type.get): "command", "package" or "program"."""
    if name.endswith(".sh"):
        return "command"
    if os.path.exists(os.path.join(code_dir, "setup.py")):
        return "package"
    return "program" if name.endswith(".py") else "command"


def processes_per_host(t):
    """sagemaker_mpi_num_of_processes_per_host, else one per GPU, else per Neuron core, else 1."""
    default = t["num_gpus"] if t["num_gpus"] > 0 else t["num_neurons"] if t["num_neurons"] > 0 else 1
    return t["additional_framework_parameters"].get("sagemaker_mpi_num_of_processes_per_host", default)


def _shown(value):
    """A value in an error message, as JSON (compact, as config.py shows them)."""
    return jsonc.dumps(value, sort_keys=False)


def _whole(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise JobError("hyperparameter %s must be a positive whole number, not %s" % (name, _shown(value)))
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
        raise JobError("hyperparameter %s must be a string of mpirun options, not %s" % (name, _shown(text)))
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
    except (ValueError, AttributeError):
        raise JobError("hyperparameter mp_parameters must be a JSON object, not %s" % mp[:80])
    if backend == "auto" and smddpmprun:
        argv += ["smddpmprun", "-i", itype, "--allow-bypass"]
    return argv


_NO_SMDDPRUN = ("SageMaker distributed data parallel (sagemaker_distributed_dataparallel_enabled or "
                "sagemaker_pytorch_ddp_enabled) needs smddprun on PATH, which this image does not have: use an "
                "image with the smdistributed-dataparallel library, or turn the switch off")


def smddp_master_argv(t, pph):
    """smdataparallel.SMDataParallelRunner._create_command (smddprun required), without the LD_PRELOAD."""
    if not t["is_smddprun_installed"]:
        raise NotFound(_NO_SMDDPRUN)
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

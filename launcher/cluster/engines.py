"""Distributed training as the PyTorch framework container runs it: which engine this node runs, and the plan
that runs it (runners.py builds each engine's command).

Pure: applied to the core's plan when a distribution hyperparameter is on; node.py does the waiting and running.
Mirrors runner.py of sagemaker-training 5.1.4 and sagemaker_pytorch_container/training.py.
"""

import os

from ..core.plan import Plan
from ..errors import JobError, NotFound
from .runners import (
    MASTER_PORT,
    NO_SMDDPRUN,
    mpi_master_argv,
    mpi_program,
    shown,
    smddp_master_argv,
    torchrun_argv,
    torchrun_env,
    xla_argv,
    xla_env,
)

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


def apply(plan, python, environ, settings, command=None):
    """The single-process plan made into this node's part of a distributed job, when a switch asks for one:
    a new Plan, or ``plan`` itself. ``settings``: the options.Settings of node.py's waits, checked already."""
    t = plan.rendered.training_env
    engine = select(t)
    if engine is None:  # outside the distribution groups, or only a switch the PyTorch container ignores (a
        return plan     # TensorFlow parameter server): the core's single process, as the plain toolkit runs it
    hosts = t["distribution_hosts"]
    env = container_env(t)
    if t["current_host"] not in hosts:
        raise JobError("current host %s is not among the distribution hosts %s"
                       % (t["current_host"], shown(hosts)))
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
            raise NotFound(NO_SMDDPRUN)
    else:
        role = "mpi-master"
        program = mpi_program(kind, python, plan.argv, plan.rendered.entry_point, plan.rendered.user_args)
        if engine == "mpi":
            names = [name for name in plan.env if name.startswith("SM_") or name == "PYTHONPATH"]
            launcher_env = _merged(environ, plan.env)
            argv = mpi_master_argv(t, pph, names, launcher_env) + program
        else:
            argv = smddp_master_argv(t, pph) + program
    cluster = Cluster(role, engine, t["hosts"], master, t["current_host"],
                      [h for h in hosts if h != master] if role == "mpi-master" else [], settings)
    return Plan(_merged(plan.env, env), argv, plan.cwd, plan.install, plan.chmod, plan.rendered, cluster,
                plan.fetch, plan.intermediate)


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



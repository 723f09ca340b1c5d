"""Distributed training, with --distribution or the tree's hyperparameter: Open MPI (mpirun and orted, sshd, ssh, a
key pair in authorized_keys, no host-key prompt, mpi4py) or torchrun (torch, torchrun, its backend)."""

import os

from ..core.probes import which
from ..errors import UsageError
from . import pytorch, ssh
from .findings import error, install_line, ok, warning

OPEN_MPI, OTHER_MPI = ("openmpi", "orterun", "prterun", "ompi"), ("mpich", "hydra", "intel", "mvapich")
TORCHRUN_FIX = ("RUN printf '#!/usr/bin/env python3\\nimport sys\\nfrom torch.distributed.run import main\\n"
                "sys.exit(main())\\n' > /usr/local/bin/torchrun && chmod +x /usr/local/bin/torchrun")


def check(ctx):
    if ctx.distribution is None:
        return [ok("distributed", "none asked: --distribution mpi|torchrun (and --hosts N) checks what one needs")]
    if ctx.distribution in ("mpi", "smddp"):
        found = mpi(ctx)
        if ctx.distribution == "smddp" and which("smddprun", ctx.path) is None:
            found.append(error("smddp", "SageMaker distributed data parallel needs smddprun on PATH, which this image "
                               "lacks", "use an image with the smdistributed-dataparallel library"))
        return found
    if ctx.distribution == "torchrun":
        return torchrun(ctx)
    from importlib.util import find_spec

    if find_spec("torch_xla") is None:
        return [error("xla", "PyTorch/XLA's distributed switch needs torch_xla, which Python here lacks",
                      "install torch_xla in the image, or turn sagemaker_pytorch_xla_multi_worker_enabled off")]
    return [ok("xla", "torch_xla is there for PyTorch/XLA (not checked further)")]


def settings(ctx):
    """The waits' SM_TRAIN_* settings, read as a distributed start reads them."""
    from ..cluster.engines import Settings

    try:
        return Settings(ctx.environ), []
    except UsageError as e:
        return None, [error("settings", "%s: every distributed start would fail with status 2" % e,
                            "correct or remove that ENV line")]


def mpi(ctx):
    waits, found = settings(ctx)
    found += mpirun(ctx)
    need = error if ctx.hosts > 1 else warning
    if ctx.hosts == 1:
        found.append(ok("mpi", "one host: mpirun starts every rank here, and no sshd or ssh is needed; what a job of "
                        "2 or more hosts needs is checked below as warnings (--hosts 2 makes them errors)"))
    elif not (which("orted", ctx.path) or which("prted", ctx.path)):
        found.append(error("mpi", "Open MPI's orted is not on PATH: mpirun starts it on the other hosts over ssh",
                           install_line("mpirun")))
    found += ssh.check(ctx, waits.sshd if waits else "/usr/sbin/sshd", need)
    if ctx.program and (ctx.program.endswith(".py") or "setup.py" in (ctx.code_files() or [])):
        found.append(mpi4py())
    if waits:
        found.append(ok("waits", "the waits: host names resolve within %gs (SM_TRAIN_DNS_TIMEOUT), the master waits "
                        "%gs for the workers' sshd (SM_TRAIN_WORKER_TIMEOUT), a worker %gs for the master "
                        "(SM_TRAIN_MASTER_TIMEOUT)" % (waits.dns_timeout, waits.worker_timeout, waits.master_timeout)))
    return found


def mpirun(ctx):
    """mpirun on PATH, and Open MPI's: the command line sm-train gives it (-mca, --allow-run-as-root) is Open MPI's."""
    found = which("mpirun", ctx.path)
    if found is None:
        return [error("mpi", "mpirun is not on PATH: the MPI master runs it", install_line("mpirun"))]
    names, link = [found], found
    while os.path.islink(link) and len(names) < 10:  # Debian: mpirun -> /etc/alternatives/mpirun -> orterun
        link = os.path.join(os.path.dirname(link), os.readlink(link))
        names.append(link)
    lowered = " ".join(os.path.basename(n) for n in names).lower()
    if any(word in lowered for word in OTHER_MPI) and not any(word in lowered for word in OPEN_MPI):
        return [error("mpi", "mpirun is not Open MPI's (%s): sm-train gives it Open MPI's options" % " -> ".join(names),
                      install_line("mpirun") + "; on Debian also RUN update-alternatives --set mpirun "
                      "/usr/bin/mpirun.openmpi")]
    if not any(word in lowered for word in OPEN_MPI):
        return [warning("mpi", "mpirun at %s: cannot tell from its name that it is Open MPI's, whose options sm-train "
                        "gives it" % found, install_line("mpirun"))]
    return [ok("mpi", "mpirun is Open MPI's (%s)" % " -> ".join(names))]


def mpi4py():
    """Each rank runs `python -m mpi4py PROGRAM`: mpi4py and its compiled MPI module, looked for, not imported."""
    from importlib.util import find_spec

    spec = find_spec("mpi4py")
    if spec is None:
        return error("mpi4py", "mpi4py is not installed for this Python: every rank runs `python3 -m mpi4py` the "
                     "program", install_line("mpi4py"))
    folder = list(spec.submodule_search_locations or [""])[0]
    if not any(name.startswith("MPI.") and name.endswith(".so") for name in _listing(folder)):
        return error("mpi4py", "mpi4py at %s has no compiled MPI module" % folder, install_line("mpi4py"))
    return ok("mpi4py", "mpi4py at %s, with its MPI module" % folder)


def _listing(folder):
    try:
        return os.listdir(folder)
    except OSError:
        return []


def torchrun(ctx):
    """Every node execs `torchrun ... PROGRAM`: torchrun on PATH, the torch it belongs to, a Python script to run,
    and the backend the build has (gloo on CPUs, NCCL for GPUs)."""
    found = []
    if ctx.program and (not ctx.program.endswith(".py") or "setup.py" in (ctx.code_files() or [])):
        found.append(error("torchrun", "torchrun runs a Python script, and %s is not one (or setup.py makes it a "
                           "package): the start refuses it" % ctx.program,
                           "name a .py file: ENV SAGEMAKER_PROGRAM=train.py"))
    torch = pytorch.find()
    if torch is None:
        return found + [error("torch", "torch is not installed for %s: torchrun and its workers need it" % ctx.python,
                              "RUN python3 -m pip install torch (on CPUs only: --index-url "
                              "https://download.pytorch.org/whl/cpu)")]
    if not os.path.isfile(os.path.join(torch.folder, "distributed", "run.py")):
        found.append(error("torch", "torch %s at %s has no torch.distributed.run" % (torch.version, torch.folder),
                           "install a full build of torch"))
    runner = which("torchrun", ctx.path)
    if runner is None:
        found.append(error("torchrun", "torchrun is not on PATH, though torch %s is installed (%s): every node's start "
                           "runs it" % (torch.version, torch.folder), TORCHRUN_FIX))
    else:
        found.append(_runner(ctx, runner, torch))
    found.append(backend(ctx, torch))
    return found


def _runner(ctx, runner, torch):
    """torchrun's #! line names the Python its workers run: it should exist, and be the one that runs sm-train."""
    try:
        with open(runner, "rb") as f:
            first = f.readline(256)
    except OSError as e:
        return error("torchrun", "%s cannot be read: %s" % (runner, e.strerror or e), "RUN chmod a+rx " + runner)
    words = first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []
    interpreter = words[0] if words else None
    if words and os.path.basename(words[0]) == "env" and len(words) > 1:
        interpreter = which(words[1], ctx.path)
    if interpreter is None or not os.access(interpreter, os.X_OK):
        return error("torchrun", "%s starts with `%s`, a Python the image lacks" % (runner, first.decode(
            "utf-8", "replace").strip()), TORCHRUN_FIX)
    if os.path.realpath(interpreter) != os.path.realpath(ctx.python):
        return warning("torchrun", "%s runs %s, not %s, which runs sm-train: its workers see that Python's packages"
                       % (runner, interpreter, ctx.python), "put the torchrun of %s first on PATH" % ctx.python)
    return ok("torchrun", "torchrun at %s (torch %s, %s)" % (runner, torch.version, torch.folder))


def backend(ctx, torch):
    if torch.cuda is None:
        text = "torch %s is a CPU build: gloo is its backend" % torch.version
        if ctx.gpus:
            return warning("torch", text + ", and the job's %d GPU(s) (%s) go unused" % (ctx.gpus, ctx.gpus_from),
                           "install a CUDA build of torch for a GPU instance")
        return ok("torch", text + ", for CPU instances")
    nccl = [where for name, where in pytorch.cuda_libraries(torch, ctx.environ) if name.startswith("libnccl")]
    if nccl and not nccl[0]:
        return error("torch", "torch %s (CUDA %s) links NCCL, which is nowhere the loader looks" % (
            torch.version, torch.cuda), "RUN python3 -m pip install nvidia-nccl-cu%s" % torch.cuda.split(".")[0])
    return ok("torch", "torch %s is a CUDA %s build: NCCL for GPUs%s, gloo for CPUs" % (
        torch.version, torch.cuda, " (%s)" % nccl[0] if nccl else ""))

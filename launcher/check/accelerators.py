"""Accelerators, mostly information: nvidia-smi and neuron-ls (which the start probes once, with a timeout), the CUDA
libraries the image's torch links against, and EFA."""

import os

from ..core.probes import which
from . import pytorch
from .findings import error, ok, warning


def check(ctx):
    found = [gpus(ctx)]
    torch = pytorch.find()
    if torch is not None:
        found.append(cuda(ctx, torch))
    found.append(neuron(ctx))
    found.append(efa(ctx))
    found.append(probes(ctx))
    return found


def gpus(ctx):
    smi = which("nvidia-smi", ctx.path)
    if smi is None:
        return ok("gpu", "nvidia-smi is not in the image: normal, the NVIDIA runtime mounts it on GPU instances "
                  "(without it a start counts 0 GPUs)")
    counted = "%d GPU(s) here" % ctx.gpus if ctx.gpus_from == "nvidia-smi here" else "not run (--gpus)"
    return ok("gpu", "nvidia-smi at %s (the runtime mounted it, or the image has it): %s" % (smi, counted))


def cuda(ctx, torch):
    """What libtorch_cuda.so links against, and where each library is; the driver's own are the runtime's to
    mount. A CUDA library missing fails `import torch`, GPUs or not."""
    if torch.cuda is None:
        return ok("cuda", "torch %s at %s is a CPU build: it links no CUDA library" % (torch.version, torch.folder))
    libraries = pytorch.cuda_libraries(torch, ctx.environ)
    if not libraries:
        return warning("cuda", "torch %s names CUDA %s, but %s/lib/libtorch_cuda.so cannot be read" % (
            torch.version, torch.cuda, torch.folder), "reinstall torch")
    missing = [name for name, where in libraries if where is None and not pytorch.is_driver(name)]
    if missing:
        return error("cuda", "torch %s (CUDA %s) links %s, which the loader finds nowhere in the image: `import torch` "
                     "fails" % (torch.version, torch.cuda, ", ".join(missing)),
                     "install the CUDA libraries of torch's wheels (RUN python3 -m pip install torch pulls the "
                     "nvidia-* packages), or start FROM a CUDA %s runtime image" % torch.cuda)
    shown = ", ".join(name if where else name + " (the runtime mounts it)" for name, where in libraries)
    return ok("cuda", "torch %s (CUDA %s) links %s" % (torch.version, torch.cuda, shown))


def neuron(ctx):
    tool = which("neuron-ls", ctx.path)
    if tool is None:
        return ok("neuron", "neuron-ls is not in the image: a start counts 0 Neuron cores (on ml.trn* and ml.inf*, "
                  "the Neuron SDK's aws-neuronx-tools brings it)")
    return ok("neuron", "neuron-ls at %s: a start counts the Neuron cores with it" % tool)


def efa(ctx):
    """Only information: EFA matters on the instance types that have it (ml.p4d, ml.p5, ml.trn1, ...)."""
    there = os.path.isdir("/opt/amazon/efa")
    fi_info = which("fi_info", ctx.path) or (os.path.exists("/opt/amazon/efa/bin/fi_info") and
                                              "/opt/amazon/efa/bin/fi_info")
    if not there and not fi_info:
        return ok("efa", "no EFA software (/opt/amazon/efa, fi_info): on EFA instances NCCL and MPI use TCP")
    shown = [p for p in ("/opt/amazon/efa" if there else "", fi_info or "") if p]
    return ok("efa", "EFA software: %s" % ", ".join(shown))


def probes(ctx):
    """The waits a start here would bound: each probe once, at most SM_TRAIN_PROBE_TIMEOUT seconds."""
    tools = [name for name in ("nvidia-smi", "neuron-ls") if which(name, ctx.path)]
    if not tools:
        return ok("probes", "a start runs no probe here (neither nvidia-smi nor neuron-ls); each would wait at most "
                  "%gs (SM_TRAIN_PROBE_TIMEOUT)" % ctx.probe_timeout)
    return ok("probes", "a start runs %s once, waiting at most %gs for each (SM_TRAIN_PROBE_TIMEOUT)" % (
        " and ".join(tools), ctx.probe_timeout))

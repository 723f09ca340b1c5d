"""`sm-train check`: will this image work on SageMaker? Each stage looks at one idea and returns its findings; the
status is 0 without an error, else 1. It reads and stats, runs no program but `sshd -t` (bounded), writes nothing
and contacts nothing."""

import sys
import time

from .. import log, options
from ..errors import UsageError
from . import accelerators, distributed, program, report, signals, start
from .context import Context

USAGE = """usage: python3 sm-train.pyz check [OPTIONS]
       docker run --rm IMAGE check [OPTIONS]

Say whether this image will work on SageMaker, and what to change where it will not: each finding is ok, warning
or error, with the line to change. Status 0 without an error, 1 with one. Nothing is changed or contacted.

options:
  --format text|json        the findings for a person (default) or for CI
  --root DIR                the tree to check (default $SAGEMAKER_BASE_DIR, else /opt/ml)
  --distribution mpi|torchrun
                            check what this engine needs (default: the tree's hyperparameters, else none)
  --hosts N                 the job's instance count (default: the tree's resourceconfig.json, else 1)
  --gpus N                  GPUs per instance (default: what nvidia-smi counts here, else 0)
  -h, --help                print this help
"""
STAGES = (start.check, program.check, signals.check, distributed.check, accelerators.check)


class Options(object):
    """check's options: the defaults here, what the command line gave on the instance."""

    format = "text"
    root = None
    distribution = None
    hosts = None
    gpus = None
    help = False
    probe_timeout = 10.0


def parse(argv, environ):
    opts = Options()
    for name, value in options.scan(argv, ("--format", "--root", "--distribution", "--hosts", "--gpus"),
                                    ("-h", "--help")):
        if name in ("--", None):
            raise UsageError("check takes no program to run: %r" % " ".join(value))
        if name == "--format" and value not in ("text", "json"):
            raise UsageError("--format must be text or json, not %r" % value)
        if name == "--distribution" and value not in ("mpi", "torchrun"):
            raise UsageError("--distribution must be mpi or torchrun, not %r" % value)
        if name in ("--hosts", "--gpus"):
            value = _count(name, value, 1 if name == "--hosts" else 0)
        if name in ("-h", "--help"):
            opts.help = True
        else:
            setattr(opts, name[2:], value)
    try:  # a bad value is the settings finding's to report; the probes wait as a start would otherwise
        opts.probe_timeout = options.seconds(None, environ, "SM_TRAIN_PROBE_TIMEOUT", "10")
    except UsageError:
        pass
    return opts


def _count(name, value, low):
    if not (value.isdigit() and low <= int(value) <= 100000):
        raise UsageError("%s must be a whole number from %d, not %r" % (name, low, value))
    return int(value)


def main(argv, environ):
    began = time.perf_counter()
    try:
        opts = parse(argv, environ)
    except UsageError as e:
        log.error(str(e))
        return e.status
    if opts.help:
        sys.stdout.write(USAGE)
        return 0
    sys.dont_write_bytecode = True  # nothing it imports from the image may leave a __pycache__ there
    log.threshold = log.ERROR + 100  # the start's pieces it reuses log as a start would: the findings say it all
    ctx = Context(opts, environ)
    findings = []
    for stage in STAGES:
        findings += stage(ctx)
    text = report.render(findings, ctx, time.perf_counter() - began, opts.format)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (OSError, ValueError):  # a closed pipe (`check | head -3`)
        pass
    return 1 if any(f.level == "error" for f in findings) else 0

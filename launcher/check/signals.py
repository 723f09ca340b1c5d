"""Signals: SageMaker stops a job with SIGTERM, then SIGKILL 120 s later. In exec mode the program replaces sm-train
as PID 1, and Linux gives PID 1 no default action for SIGTERM: a program without a handler ignores the stop."""

import os

from .. import options
from ..errors import UsageError
from .findings import ok, warning

SUPERVISE_FIX = ("ENV SM_TRAIN_SUPERVISE=true: sm-train stays PID 1 beside the program, and a stop ends the job within "
                 "a second (143) with a failure reason, for one more 11 MB process")


def check(ctx):
    try:
        supervised = options.switch(ctx.environ, "SM_TRAIN_SUPERVISE")
    except UsageError:  # the settings finding says so; a start would not even begin
        supervised = False
    if supervised:
        return [ok("signals", "SM_TRAIN_SUPERVISE is on: sm-train stays PID 1 beside the program, forwards SIGTERM "
                   "and writes the failure reason")]
    if ctx.decoded.get("sagemaker_s3_output"):
        return [ok("signals", "sagemaker_s3_output keeps sm-train the program's parent (supervised) for the uploads")]
    if ctx.distribution in ("mpi", "smddp"):
        return [ok("signals", "an MPI job keeps sm-train as the parent of mpirun (or of a worker's sshd): it handles "
                   "SIGTERM")]
    if ctx.distribution == "torchrun":
        return [ok("signals", "torchrun takes sm-train's place as PID 1; it handles SIGTERM and stops its workers")]
    if ctx.program is None or ctx.submit_directory():
        return [ok("signals", "the program is not in the image, so its SIGTERM handler is not looked for: give it "
                   "one, or set ENV SM_TRAIN_SUPERVISE=true")]
    package = "setup.py" in (ctx.code_files() or [])
    if not package and not os.path.isfile(os.path.join(ctx.layout.code, ctx.program)):
        return []  # the program finding says where it is missing
    if package or ctx.program.endswith(".py"):
        return [python_handler(ctx)]
    return [shell_handler(ctx)]


def python_handler(ctx):
    """SIGTERM named in the code dir's Python code (signal.signal(signal.SIGTERM, ...), an asyncio
    add_signal_handler, `from signal import SIGTERM`), comments and strings aside: a heuristic, so it says where."""
    for name, data in ctx.sources():
        line = _named(data, "SIGTERM") if b"SIGTERM" in data else None
        if line:
            return ok("signals", "the code dir handles SIGTERM (%s line %d names it), as PID 1 must" % (name, line))
    return warning("signals", "%s becomes PID 1 (exec mode) and no Python file of the code dir names SIGTERM: a "
                   "stop is ignored, and the job ends 120 s later by SIGKILL (137) with no failure reason"
                   % ctx.program, SUPERVISE_FIX)


def _named(data, word):
    """The first line where ``word`` is a name in Python source ``data`` (bytes), or None."""
    import io
    import tokenize

    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type == tokenize.NAME and token.string == word:
                return token.start[0]
    except (tokenize.TokenError, SyntaxError):  # a file that does not compile: the compile finding says so
        pass
    return None


def shell_handler(ctx):
    """`/bin/sh -c "./NAME args"` takes PID 1: dash forks the script and stays there without a handler; bash execs
    it, so a script that traps TERM gets the stop."""
    try:
        with open(os.path.join(ctx.layout.code, ctx.program), "rb") as f:
            text = f.read(1024 * 1024)
    except OSError:
        text = b""
    if b"trap" in text and b"TERM" in text and os.path.basename(os.path.realpath("/bin/sh")) == "bash":
        return ok("signals", "/bin/sh is bash, which execs %s in its place, and the script traps TERM" % ctx.program)
    return warning("signals", "%s runs under `/bin/sh -c` as PID 1 (exec mode), where a stop's SIGTERM is ignored: the "
                   "job ends 120 s later by SIGKILL (137) with no failure reason" % ctx.program, SUPERVISE_FIX)

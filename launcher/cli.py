"""The frame: command line -> mode (a start, a dry run, local); LauncherError -> log line, failure file, status."""

import os
import sys

from . import __version__, log, options, start
from .core.hyperparameters import style as hp_style
from .core.layout import Layout
from .errors import LauncherError, NotFound, UsageError

USAGE = """usage: python3 sm-train.pyz [train] [OPTIONS] [-- PROGRAM [ARG ...]]

Render the SageMaker training environment from /opt/ml and exec the training program.

options:
  --print-env            dry run: print the environment and the command, run nothing
  --format shell|json    output of --print-env (default shell)
  --root DIR             the /opt/ml tree (default $SAGEMAKER_BASE_DIR, else /opt/ml)
  --probe-timeout SEC    bound on each nvidia-smi / neuron-ls probe (default 10; $SM_TRAIN_PROBE_TIMEOUT)
  --supervise            stay as the program's parent: forward signals, reap zombies, write the failure
                         reason ($SM_TRAIN_SUPERVISE=true)
  --grace-period SEC     with --supervise: SIGKILL a program still running this long after SIGTERM
                         (default 110; $SM_TRAIN_GRACE_PERIOD)
  --hp-style toolkit|json
                         arguments from hyperparameters: the toolkit's rendering (default) or lists, dicts,
                         booleans and null as JSON ($SM_TRAIN_HP_STYLE)
  --version              print the version
  -h, --help             print this help
  -- PROGRAM ARGS        run this command instead of the configured program

       python3 sm-train.pyz local [OPTIONS] [-- PROGRAM [ARG ...]]

Run the job on this machine in a temporary /opt/ml tree, no Docker or AWS needed; or rerun a SageMaker
training job from its name, with its data and code from S3: local --job NAME (see local --help).

       python3 sm-train.pyz check [OPTIONS]

Say whether this image will work on SageMaker, changing nothing (see check --help).
"""


class Options(object):
    def __init__(self):
        self.print_env = False
        self.format = "shell"
        self.root = None
        self.probe_timeout = None
        self.supervise = None
        self.grace_period = None
        self.hp_style = None
        self.settings = None  # options.Settings: the SM_TRAIN_* values without an option
        self.command = None
        self.typed_command = None  # the command, when it began at a word that is not an option (`sm-train locl`)
        self.help = False
        self.version = False


VALUED = ("--format", "--root", "--probe-timeout", "--grace-period", "--hp-style")
FLAGS = ("--print-env", "--supervise", "-h", "--help", "--version")


def parse(argv, environ, opts):
    """Fill ``opts`` from argv, then the environment twins; raises UsageError."""
    if argv and argv[0] == "train":  # SageMaker starts images as `docker run IMAGE train`
        argv = argv[1:]
    for name, value in options.scan(argv, VALUED, FLAGS):
        if name in ("--", None):
            opts.command = value
            opts.typed_command = value if name is None else None
        elif name == "--format" and value not in ("shell", "json"):
            raise UsageError("--format must be shell or json, not %r" % value)
        elif name in VALUED:
            setattr(opts, name[2:].replace("-", "_"), value)
        elif name in ("-h", "--help"):
            opts.help = True
        else:
            setattr(opts, name[2:].replace("-", "_"), True)
    if opts.help or opts.version:
        return
    opts.probe_timeout = options.seconds(opts.probe_timeout, environ, "SM_TRAIN_PROBE_TIMEOUT", "10",
                                         option="--probe-timeout")
    if opts.supervise is None:
        opts.supervise = options.switch(environ, "SM_TRAIN_SUPERVISE")
    opts.grace_period = options.seconds(opts.grace_period, environ, "SM_TRAIN_GRACE_PERIOD", "110", allow_zero=True,
                                        option="--grace-period")
    opts.hp_style = hp_style(opts.hp_style, environ)
    opts.settings = options.Settings(environ)


def prescan(argv, opts):
    """What a UsageError needs before parsing: --print-env, --format and --root, read leniently."""
    for name, value in options.scan(argv[1:] if argv[:1] == ["train"] else argv, VALUED, FLAGS, strict=False):
        if name == "--print-env":
            opts.print_env = True
        elif name == "--format" and value in ("shell", "json"):
            opts.format = value
        elif name == "--root":
            opts.root = value


def main(argv=None, environ=None):
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    if argv and argv[0] == "local":  # the local runner; imported only here, so a real start never pays for it
        from .local.main import main as local_main

        return local_main(argv[1:], environ)
    if not argv:  # never so on SageMaker, which passes `train`: only then is the parent's command line read
        argv = dropped_by_shell() or argv
    if argv and argv[0] == "check":  # as `local`: imported only here
        from .check.main import main as check_main

        return check_main(argv[1:], environ)
    opts = Options()
    try:
        parse(argv, environ, opts)
    except LauncherError as e:
        shown = Options()
        prescan(argv, shown)
        return fail(e, layout_for(shown, environ), shown.print_env, shown.format)
    if opts.help:
        sys.stdout.write(USAGE)
        return 0
    if opts.version:
        sys.stdout.write("sm-train %s (Python %s, %s)\n" % (__version__, sys.version.split()[0], code_origin()))
        return 0
    layout = layout_for(opts, environ)
    try:
        if opts.typed_command:  # only then: a plain start pays nothing for the check
            refuse_mistyped(opts.typed_command[0], environ)
        if not opts.print_env:
            return start.run(opts, layout, environ)
        plan, _ = start.make_plan(opts, layout, environ)
    except LauncherError as e:
        status = fail(e, layout, opts.print_env, opts.format)
        return end_dry_run(status) if opts.print_env else status
    from .core.show import show

    sys.stdout.write(show(plan, opts.format))
    return end_dry_run(0)


def dropped_by_shell():
    """The arguments of `docker run IMAGE check ...` that a shell-form ENTRYPOINT dropped, so that the check still
    runs and says what is wrong: Docker then starts `/bin/sh -c "python3 /sm-train.pyz" check ...`, the words after
    the command become the shell's $0, $1, ..., and sm-train gets none. None for any other start."""
    if os.getpid() == 1:
        return None
    try:
        with open("/proc/%d/cmdline" % os.getppid(), "rb") as f:
            words = f.read().split(b"\0")[:-1]
    except OSError:
        return None
    me = os.path.basename(sys.argv[0]).encode()
    if len(words) >= 4 and words[1] == b"-c" and me and me in words[2] and words[3] == b"check":
        return [word.decode("utf-8", "replace") for word in words[3:]]
    return None


def refuse_mistyped(word, environ):
    """A first word that is neither a program on PATH nor a file, but close to a command (`sm-train locl`), is a
    typo: said first, before the job is read and its warnings logged; 127 as for any program not found."""
    if "/" in word or os.path.lexists(word):
        return
    from .core.probes import which

    if which(word, environ.get("PATH", os.defpath), executable=False) is None:
        meant = options.mistyped(word)
        if meant:
            raise NotFound("did you mean `sm-train.pyz %s`? %r not found: it is neither a command of sm-train.pyz "
                           "nor a program on PATH" % (meant, word))


def end_dry_run(status):
    """Exit at once, without the interpreter's teardown (2.5 ms, a tenth of a dry run): a dry run has
    started nothing and holds nothing but its output, flushed here."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (`--print-env | head -1`)
        status = status or 1
    os._exit(status)


def code_origin():
    """Where this Python got the launcher's code: its own bytecode in the pyz, the sources compiled at every start
    (a pyz on a Python the build did not find: rebuild with it to start faster), or a folder (an installed package
    or a checkout, whose bytecode the import system caches)."""
    bundle = getattr(getattr(__spec__, "loader", None), "bundle", None)
    if bundle:
        return "bytecode %s" % bundle
    if os.path.isfile(__file__):  # in a pyz, __file__ names a member of the archive
        return "from %s" % os.path.dirname(os.path.abspath(__file__))
    return "compiled from the sources at every start"


def layout_for(opts, environ):
    """The tree: an absolute --root or $SAGEMAKER_BASE_DIR as given, character for character as the toolkit
    uses the variable (a trailing '/', '//' or '/./' stays); a relative one made absolute, because the program
    runs in the code dir, where the toolkit's relative paths would point elsewhere."""
    base = opts.root or environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml"
    return Layout(base if os.path.isabs(base) else os.path.abspath(base))


def fail(error, layout, dry, fmt):
    """One log line; in a real run the failure file (unless the program's own exists); the status."""
    message = str(error)
    log.error(message)
    if dry:
        from .core.show import show_error

        sys.stdout.write(show_error(message, fmt))
    elif error.report:
        from .run.launch import write_failure

        write_failure(layout, message)
    return error.status

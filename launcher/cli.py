"""Command line -> mode; the checklist of a start; LauncherError -> log line, failure file, status."""

import os
import sys

from . import __version__, log, options
from .core.hyperparameters import style as hp_style
from .core.layout import Layout
from .errors import LauncherError, UsageError

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

Run the job on this machine in a temporary /opt/ml tree, no Docker or AWS needed (see local --help).
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
    if not opts.print_env:  # as PID 1 a SIGTERM would be ignored until exec: stop the start instead
        from .run import launch

        launch.stop_on_signals("before the program started")
    try:
        plan, masked = make_plan(opts, layout, environ)
    except LauncherError as e:
        status = fail(options.mistyped(e, opts.typed_command), layout, opts.print_env, opts.format)
        return end_dry_run(status) if opts.print_env else status
    if opts.print_env:
        from .core.show import show

        sys.stdout.write(show(plan, opts.format))
        return end_dry_run(0)
    return start(plan, masked, opts, layout, environ)


def start(plan, masked, opts, layout, environ):
    """Act on the plan: the start record, installs, the intermediate-output uploads, then exec, supervise or this
    node's part of a distributed job; the exit status (exec returns only by failing). A stop by signal anywhere
    in it is a LauncherError like the others (Stopped)."""
    try:
        from .run import launch

        log_invocation(masked)
        env = plan.full_env(environ)
        launch.prepare(plan, env, masked.install)
        sync = None
        if plan.intermediate is not None:  # the uploads need a parent that outlives the program: supervised
            from .aws import intermediate

            sync = intermediate.start(plan.intermediate, env)
        finish = sync.finish if sync is not None else None
        supervised = opts.supervise or sync is not None
        if plan.cluster is not None:  # distributed: cluster.py waits for the hosts, then runs this node's part
            from .cluster import node

            try:
                code = node.run(plan, env, layout, opts.grace_period if supervised else None, masked.argv, finish)
            except LauncherError as e:
                return fail(e, layout, False, opts.format, _last_uploads(sync))
            unfinished = _last_uploads(sync)
            if unfinished:
                fail(LauncherError(unfinished), layout, False, opts.format)
            return code
        if supervised:
            from .run import supervise

            return supervise.run(plan, env, layout, opts.grace_period, masked.argv, finish)
        launch.execute(plan, env)
    except LauncherError as e:
        return fail(options.mistyped(e, opts.typed_command), layout, False, opts.format)
    return 1  # execute() only returns by raising


def _last_uploads(sync):
    """An MPI role runs its program itself: its uploads end here. The line naming what did not arrive, or None."""
    if sync is None or sync.stopping:  # none, or finished by the supervisor already
        return None
    return sync.finish(None)


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
    """Where this Python got the launcher's code: its own bytecode in the pyz, or the sources compiled at
    every start (a Python the build did not find: rebuild with it to start faster)."""
    bundle = getattr(getattr(__spec__, "loader", None), "bundle", None)
    return "bytecode %s" % bundle if bundle else "compiled from the sources at every start"


def layout_for(opts, environ):
    """The tree: an absolute --root or $SAGEMAKER_BASE_DIR as given, character for character as the toolkit
    uses the variable (a trailing '/', '//' or '/./' stays); a relative one made absolute, because the program
    runs in the code dir, where the toolkit's relative paths would point elsewhere."""
    base = opts.root or environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml"
    return Layout(base if os.path.isabs(base) else os.path.abspath(base))


def make_plan(opts, layout, environ):
    """Read the job, probe once, plan; returns the plan and, for a real start, its twin with secrets masked
    for the log (None for a dry run, which logs no command)."""
    from . import masking
    from .core import config, hyperparameters, probes
    from .core.plan import check_exec, with_index

    if opts.command is None:  # with a command of their own, users may run it beside any tree, or none
        config.find_job(layout)
    job = config.read_job(layout, environ)
    decoded, not_json = hyperparameters.decode(job.hyperparameters)
    log.set_level(decoded.get("sagemaker_container_log_level", log.INFO))
    if opts.print_env:  # a dry run's stderr is for what needs the user's attention, not the start records
        log.set_level(max(log.threshold, log.WARNING))
    for key in not_json:
        value = masking.MASK if masking.is_secret(key) else job.hyperparameters[key]
        log.debug("Failed to parse hyperparameter %s value %s to Json.\nReturning the value itself" % (key, value))
    resources = probes.probe(job.resource_config.get("current_instance_type", "local"),
                             environ.get("PATH", os.defpath), opts.probe_timeout)
    if "sagemaker_submit_directory" in decoded and not (opts.print_env or opts.command) and _holds_files(layout.code):
        log.info("Provided path: %s is not empty, abandoning unzipping sourcedir.tar.gz" % layout.code)
    real = node_plan(job, decoded, resources, layout, environ, opts)
    fetched = None
    if real.fetch is not None and not opts.print_env:
        # The code arrives first; only then are the program, its type (setup.py) and its requirements known.
        from .aws.fetch import fetch
        from .run.launch import stop_on_signals

        fetched = real.fetch
        stop_on_signals("while fetching the code from %s" % fetched)
        fetch(fetched, layout.code, real.full_env(environ))
        stop_on_signals("before the program started")
        real = node_plan(job, decoded, resources, layout, environ, opts, fetched)
    check_exec(real.full_env(environ), real.argv)
    index, shown = codeartifact_index(real, environ, opts.print_env)
    if opts.print_env:
        return with_index(real, index), None
    hidden = masking.mask(decoded)
    masked = real if hidden is None else node_plan(job, hidden, resources, layout, environ, opts, fetched)
    return with_index(real, index), with_index(masked, shown)


def codeartifact_index(plan, environ, dry):
    """pip's index from CA_REPOSITORY_ARN when a step installs requirements.txt, as 5.1.4 adds it, and the same
    with its token hidden, for the log; for a dry run, a stand-in naming the repository (nothing is contacted).
    (None, None) when there is none to add."""
    arn = environ.get("CA_REPOSITORY_ARN")
    if not (arn and any("requirements.txt" in step for step in plan.install)):
        return None, None
    from .aws import codeartifact

    if dry:
        stand_in = "<the index of %s, with a token fetched at the start>" % codeartifact.Repository(arn).arn
        return stand_in, stand_in
    return codeartifact.index(arn, plan.full_env(environ))


def _holds_files(path):
    try:
        return bool(os.listdir(path))
    except OSError:
        return False


def node_plan(job, decoded, resources, layout, environ, opts, fetched=None):
    """This node's plan: the single process of the core, or this node's part of a distributed job. ``fetched``:
    the sagemaker_submit_directory that filled the code dir in this start."""
    from .core import hyperparameters, plan

    single = plan.build(job, decoded, resources, layout, environ, opts.command, hyperparameters.STYLES[opts.hp_style],
                        fetched)
    if not single.rendered.training_env["distribution_instance_groups"]:  # no distribution hyperparameter is on
        return single
    from .cluster import engines

    return engines.apply(single, sys.executable, environ, opts.command)


def log_invocation(plan):
    """The toolkit's "Invoking user script" record, which users look for in CloudWatch."""
    from .core.environment import training_env_text

    lines = "\n".join("%s=%s" % item for item in plan.env.items())
    log.info("Invoking user script\n\nTraining Env:\n\n%s\n\nEnvironment variables:\n\n%s\n\n"
             "Invoking script with the following command:\n\n%s\n"
             % (training_env_text(plan.rendered.training_env), lines, " ".join(plan.argv)))
    if plan.intermediate is not None:
        log.info("Intermediate output: files closed under %s are uploaded to %s while the program runs; sm-train "
                 "stays the program's parent (supervised) so that the last uploads finish"
                 % (plan.intermediate.directory, plan.intermediate.url()))


def fail(error, layout, dry, fmt, first=None):
    """One log line; in a real run the failure file (unless the program's own exists); the status. ``first``:
    a line that comes before the error's (files the intermediate output could not upload)."""
    message = str(error) if first is None else "%s; %s" % (first, error)
    log.error(message)
    if dry:
        from .core.show import show_error

        sys.stdout.write(show_error(message, fmt))
    elif error.report:
        from .run.launch import write_failure

        write_failure(layout, message)
    return error.status

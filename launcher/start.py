"""A start: read the job, probe, plan; fetch the code and plan again; then act on the plan (installs, the
intermediate-output uploads, exec, supervise or this node's part of a distributed job). Stages raise
LauncherError; the frame (cli.py) reports it."""

import os
import sys

from . import log


def run(opts, layout, environ):
    """A real start, to the exec; the exit status when the launcher stays the program's parent."""
    from .run import launch

    launch.stop_on_signals("before the program started")  # as PID 1 a SIGTERM would be ignored until exec
    plan, masked = make_plan(opts, layout, environ)
    return act(plan, masked, opts, layout, environ)


def make_plan(opts, layout, environ):
    """Read the job, probe once, plan; returns the plan and, for a real start, its twin with secrets masked
    for the log (None for a dry run, which logs no command)."""
    from . import masking
    from .core import config, hyperparameters, probes
    from .core.plan import check_exec, code_awaited, with_index

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
    if "sagemaker_submit_directory" in decoded and not (opts.print_env or code_awaited(layout.code)):
        log.info("Provided path: %s is not empty, abandoning unzipping sourcedir.tar.gz" % layout.code)
    real = node_plan(job, decoded, resources, layout, environ, opts)
    fetched = None
    if real.fetch is not None and not opts.print_env:
        # The code arrives first; only then are the program, its type (setup.py) and its requirements known.
        from .fetch.code import fetch
        from .run.launch import stop_on_signals

        fetched = real.fetch
        stop_on_signals("while fetching the code from %s" % fetched)
        fetch(fetched, layout.code, real.full_env(environ), opts.settings.fetch_timeout)
        stop_on_signals("before the program started")
        real = node_plan(job, decoded, resources, layout, environ, opts, fetched)
    check_exec(real.full_env(environ), real.argv)
    index, shown = codeartifact_index(real, environ, opts.print_env)
    if opts.print_env:
        return with_index(real, index), None
    hidden = masking.mask(decoded)
    masked = real if hidden is None else node_plan(job, hidden, resources, layout, environ, opts, fetched)
    return with_index(real, index), with_index(masked, shown)


def node_plan(job, decoded, resources, layout, environ, opts, fetched=None):
    """This node's plan: the single process of the core, or this node's part of a distributed job. ``fetched``:
    the sagemaker_submit_directory that filled the code dir in this start."""
    from .core import hyperparameters, plan

    single = plan.build(job, decoded, resources, layout, environ, opts.command, hyperparameters.STYLES[opts.hp_style],
                        fetched)
    if not single.rendered.training_env["distribution_instance_groups"]:  # no distribution hyperparameter is on
        return single
    from .cluster import engines

    return engines.apply(single, sys.executable, environ, opts.settings, opts.command)


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


def act(plan, masked, opts, layout, environ):
    """The folders SageMaker provides, the start record, installs, the intermediate-output uploads, then exec,
    supervise or this node's part of a distributed job; the exit status (exec returns only by failing). A stop by
    signal anywhere in it is a LauncherError like the others (Stopped)."""
    from .run import launch

    launch.provide_folders(layout, plan.rendered.training_env["channel_input_dirs"])
    log_invocation(masked)
    env = plan.full_env(environ)
    launch.prepare(plan, env, masked.install)
    sync = None
    if plan.intermediate is not None:  # the uploads need a parent that outlives the program: supervised
        from .intermediate import sync as intermediate

        sync = intermediate.start(plan.intermediate, env, opts.settings)
    finish = sync.finish if sync is not None else None
    supervised = opts.supervise or sync is not None
    if plan.cluster is not None:
        return _node(plan, env, layout, opts.grace_period if supervised else None, masked.argv, finish)
    if supervised:
        from .run import supervise

        return supervise.run(plan, env, layout, opts.grace_period, masked.argv, finish)
    launch.execute(plan, env)
    return 1  # execute() only returns by raising


def _node(plan, env, layout, grace, shown_argv, finish):
    """This node's part of a distributed job (cluster/node.py waits for the hosts first). An MPI role runs its
    program itself, so its uploads end here: the files that did not arrive come first in the error, or, after
    the program's own end, make an error that keeps the program's status."""
    from .cluster import node
    from .errors import JobError, LauncherError

    try:
        code = node.run(plan, env, layout, grace, shown_argv, finish)
    except LauncherError as e:
        unfinished = finish(None) if finish is not None else None
        if unfinished:
            e.args = ("%s; %s" % (unfinished, e),)
        raise
    unfinished = finish(None) if finish is not None else None
    if unfinished:
        error = JobError(unfinished)
        error.status = code
        raise error
    return code


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

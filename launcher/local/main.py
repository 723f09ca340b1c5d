"""``sm-train local``: lay out an /opt/ml tree from the user's own files and run the job on this machine,
one launcher process per host, through the same path as a real start. No Docker, SDK or AWS needed."""

import os
import sys
import time

from .. import log, options
from ..core.hyperparameters import decode
from ..core.layout import Layout
from ..errors import JobError, LauncherError, UsageError
from . import hosts as local_hosts
from . import job as local_job
from . import tree as local_tree
from .command_line import USAGE, check_s3_options, parse
from .s3inputs import S3Inputs

# A single-line bootstrap to run the launcher from a source checkout or an installed package, keeping PYTHONPATH
# untouched. The package is named as this one is imported: launcher in a checkout, sm_train once installed.
_PACKAGE = __name__.split(".")[0]
_FROM_SOURCE = "import sys; sys.path.insert(0, sys.argv.pop(1)); from %s.cli import main; sys.exit(main())" % _PACKAGE


def main(argv, environ):
    """The local run, start to end; the job's exit status (the first failing host's)."""
    try:
        opts = parse(argv, environ)
        if opts.help:
            sys.stdout.write(USAGE)
            return 0
        job = LocalJob(opts, environ)
        job.inputs.plan()
        job.lay_out()
        try:
            log.info(job.summary())
            started = time.time()
            codes, stopped_by = job.run()
        except BaseException:
            job.discard()  # no job ran in the tree: nothing in it to look at
            raise
    except LauncherError as e:
        log.error(str(e))
        return e.status
    except KeyboardInterrupt:
        log.error("interrupted before the job started")
        return 130
    status, report = job.finish(codes, time.time() - started, stopped_by)
    (log.info if status == 0 else log.error)(report)
    return status


class LocalJob(object):
    """The trees of one local run and the processes that run them."""

    def __init__(self, opts, environ):
        self.opts = opts
        self.environ = environ
        self.described = None  # the Job of --job NAME
        self.entries = {}      # inputdataconfig.json entries of the job's channels
        if opts.job is not None:
            self.described = local_job.describe(opts, environ)
            # the job's region for every S3 client of the run (channels here, the code in each host's launcher),
            # unless AWS_REGION says otherwise
            self.environ = environ = dict(environ)
            environ.setdefault("AWS_REGION", self.described.region)
            self.entries = local_job.apply(self.described, opts)
            check_s3_options(opts)
        stored = self.described.stored if self.described else {}
        self.overrides = local_tree.gather(opts.hps)
        self.hyperparameters = decode(stored)[0]
        self.hyperparameters.update(self.overrides)
        self.program = local_tree.check_inputs(opts, self.hyperparameters, environ)
        self.job_name = self.described.name if self.described else environ.get("TRAINING_JOB_NAME") or _job_name()
        self.hosts = ["algo-%d" % k for k in range(1, (opts.hosts or 1) + 1)]
        self.groups = local_job.groups(self.described, opts, self.hosts)
        if len(self.hosts) > 1:
            _refuse_engines(self.hyperparameters)
        self.inputs = S3Inputs(opts, environ, self.hyperparameters, len(self.hosts))
        if self.described:
            log.info(local_job.screen(self.described, opts, self.overrides, self.groups))
        self.base = None
        self.trees = []

    def lay_out(self):
        import tempfile

        try:
            if self.opts.keep is None:
                self.base = tempfile.mkdtemp(prefix="sm-train-local-")
            else:
                self.base = os.path.abspath(self.opts.keep)
                os.makedirs(self.base, exist_ok=True)
        except OSError as e:
            raise JobError("cannot create the tree %s: %s" % (self.opts.keep or "in " + tempfile.gettempdir(),
                                                               e.strerror or e))
        except RecursionError:  # makedirs recurses once per folder it creates
            raise JobError("cannot create the tree %s: too many folders to create" % self.opts.keep)
        self.trees = [self.base] if len(self.hosts) == 1 else [os.path.join(self.base, h) for h in self.hosts]
        try:
            for host, tree in zip(self.hosts, self.trees):
                try:
                    local_tree.lay_out(tree, host, self)
                except OSError as e:
                    raise JobError("cannot lay out %s: %s" % (tree, e))
            self.inputs.fill(self.base, self.trees)
        except BaseException:
            self.discard()
            raise

    def discard(self):
        """Remove a temporary tree (never a --keep DIR)."""
        if self.opts.keep is None and self.base is not None:
            local_tree.rmtree(self.base)

    def summary(self):
        if self.opts.command:
            what = "command %s" % " ".join(self.opts.command)
        else:
            what = "program %s" % (self.program or self.environ.get("SAGEMAKER_PROGRAM")
                                   or self.hyperparameters.get("sagemaker_program"))
        channels = ", ".join("%s (%s)" % (name, local_tree.size(Layout(self.trees[0]).channel(name)))
                             for name, _ in self.opts.channels) or "none"
        hosts = "1 host" if len(self.hosts) == 1 else "%d hosts, %s to %s" % (len(self.hosts), self.hosts[0],
                                                                              self.hosts[-1])
        gpus = _count_gpus(self.environ)
        tree = self.base if self.opts.keep is not None else "%s (temporary: removed if the job succeeds)" % self.base
        return ("local job %s: %s; %d hyperparameters; channels: %s; %s; %d GPU%s found; tree %s"
                % (self.job_name, what, len(self.hyperparameters), channels, hosts, gpus, "" if gpus == 1 else "s",
                   tree))

    def run(self):
        """One launcher per host, each with its own tree: (return codes in host order, signal or None)."""
        env = dict(self.environ)
        if self.described:  # set in its container on SageMaker
            env.update(self.described.environment)
        env["TRAINING_JOB_NAME"] = self.job_name
        if self.opts.program:  # --program, written as sagemaker_program, beats an ambient SAGEMAKER_PROGRAM
            env.pop("SAGEMAKER_PROGRAM", None)
        commands = []
        for host, tree in zip(self.hosts, self.trees):
            argv = _launcher() + ["--root", tree, "--hp-style", self.opts.hp_style]
            argv += ["--"] + self.opts.command if self.opts.command else []
            commands.append((host, argv, dict(env, SAGEMAKER_BASE_DIR=tree)))
        return local_hosts.run(commands)

    def finish(self, codes, seconds, stopped_by):
        """(the job's exit status, the closing record: where the model and the output went, why hosts failed,
        what became of the tree). A temporary tree is removed when the job succeeded, kept when it failed."""
        from ..run.statuses import from_returncode, signal_name

        statuses = [from_returncode(code) for code in codes]
        status = next((s for s in statuses if s != 0), 0)
        failed = [h for h, s in zip(self.hosts, statuses) if s != 0]
        head = "local job %s: exit status %d after %.1f s" % (self.job_name, status, seconds)
        if stopped_by is not None:
            head += ", stopped by %s" % signal_name(stopped_by)
        if len(self.hosts) > 1 and failed:
            head += " (failed: %s)" % ", ".join(failed)
        lines = [head]
        removing = status == 0 and self.opts.keep is None  # the paths are not shown: they are about to go
        for host, tree, code, status_k in zip(self.hosts, self.trees, codes, statuses):
            layout = Layout(tree)
            indent = "  "
            if len(self.hosts) > 1:
                lines.append("  %s: exit status %d" % (host, status_k))
                indent = "    "
            for label, path in (("model:   ", layout.model), ("output:  ", layout.output_data)):
                shown = local_tree.size(path)
                lines.append("%s%s%s" % (indent, label, shown if removing else "%s (%s)" % (path, shown)))
            reason = local_tree.first_line(layout.failure)
            if status_k != 0 or reason:
                lines.append("%sfailure: %s" % (indent, reason or _no_reason(code)))
        lines.append("  tree:    %s" % self._tree_fate(status))
        return status, "\n".join(lines)

    def _tree_fate(self, status):
        """What became of the tree, in one line: kept (--keep), removed (success), or kept for a look (failure)."""
        import shlex

        if self.opts.keep is not None:
            launcher = _launcher()
            again = "python3 %s" % launcher[1] if len(launcher) == 2 else "python3 sm-train.pyz"
            if _PACKAGE != "launcher":  # the installed package: its console script
                again = "sm-train"
            where = self.base if len(self.hosts) == 1 else os.path.join(self.base, "algo-K")
            return "%s (kept; a real run of it: %s --root %s)" % (self.base, again, where)
        if status == 0:
            self.discard()
            if not os.path.lexists(self.base):
                return "%s removed, as the job succeeded (--keep DIR keeps the tree, model included)" % self.base
            return "%s could not be removed entirely; remove it with: rm -rf %s" % (self.base, shlex.quote(self.base))
        return "%s kept, as the job failed; remove it with: rm -rf %s" % (self.base, shlex.quote(self.base))


def _launcher():
    """The command that runs this same launcher: the pyz it was started from, or its package's folder."""
    if not sys.executable:
        raise JobError("cannot tell which Python runs sm-train (sys.executable is empty)")
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.isfile(here):
        return [sys.executable, here]
    return [sys.executable, "-c", _FROM_SOURCE, here]


def _count_gpus(environ):
    """The GPU count for the summary line, probed as each host's launcher will probe it, without its log line."""
    from ..core import probes

    timeout = options.seconds(None, environ, "SM_TRAIN_PROBE_TIMEOUT", "10")
    quiet, log.threshold = log.threshold, log.WARNING
    try:
        return probes.count_gpus(environ.get("PATH", os.defpath), timeout)
    finally:
        log.threshold = quiet


def _refuse_engines(hyperparameters):
    """The algo-K names do not resolve on one machine: an engine across hosts would wait 15 minutes for DNS."""
    from ..core.environment import DISTRIBUTION_SWITCHES

    on = [k for k in DISTRIBUTION_SWITCHES if hyperparameters.get(k)]
    if on:
        raise UsageError("local --hosts N cannot run %s: the hosts algo-1 ... algo-N do not resolve on this machine; "
                         "see the README's \"Distributed training\" for two trees on loopback" % on[0])


def _job_name():
    """A name in the SDK's name_from_base shape: base, then the UTC time to the millisecond."""
    now = time.time()
    return "sm-train-local-%s-%03d" % (time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(now)), int(now * 1000) % 1000)


def _no_reason(code):
    from ..run.statuses import describe_returncode

    return "%s; no output/failure was written" % describe_returncode(code)



"""``local --job NAME``: a training job as DescribeTrainingJob describes it, made the inputs of a local run (its
hyperparameters as stored, its channels, hosts and instance groups, environment and code), the command line's
options over the job's; and the job's part of the first screen."""

import os
import re
import sys

from ..errors import JobError, UsageError
from .command_line import is_s3

GROUP = "homogeneousCluster"  # the group name SageMaker gives a job without instance groups
_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}\Z")  # CreateTrainingJob's TrainingJobName
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-[0-9]+\Z")


def describe(opts, environ):
    """The Job of ``--job NAME``, described in the region of --region, AWS_REGION or the profile."""
    from ..aws import sagemaker
    from ..core import awsfiles

    if not _NAME.match(opts.job):
        raise UsageError("--job %r: a training job's name is 1 to 63 letters, digits and '-', starting with a letter "
                         "or digit" % opts.job)
    region = opts.region or environ.get("AWS_REGION") or awsfiles.region(environ)
    if not region:
        raise UsageError("--job %s: no region: give --region, or set AWS_REGION or AWS_DEFAULT_REGION" % opts.job)
    if not _REGION.match(region):
        raise UsageError("--job %s: %r is not a region name such as us-west-2" % (opts.job, region))
    return Job(opts.job, region, sagemaker.describe_training_job(opts.job, region, environ))


class Job(object):
    """What a local run takes from a described job."""

    def __init__(self, name, region, described):
        self.name, self.region = name, region
        self.status = described.get("TrainingJobStatus") or "(no status)"
        self.failure = described.get("FailureReason")
        spec = described.get("AlgorithmSpecification") or {}
        self.image = spec.get("TrainingImage") or "algorithm %s" % spec.get("AlgorithmName")
        self.stored = dict((k, v) for k, v in (described.get("HyperParameters") or {}).items() if isinstance(v, str))
        self.environment = dict((k, v) for k, v in (described.get("Environment") or {}).items()
                                if isinstance(v, str))
        mode = spec.get("TrainingInputMode") or "File"
        self.channels = [_channel(self, entry, mode) for entry in described.get("InputDataConfig") or []]
        resources = described.get("ResourceConfig") or {}
        self.groups = [(g.get("InstanceGroupName"), g.get("InstanceType"), int(g.get("InstanceCount") or 0))
                       for g in resources.get("InstanceGroups") or []]
        if not self.groups:
            self.groups = [(GROUP, resources.get("InstanceType") or "local", int(resources.get("InstanceCount") or 1))]

    def code(self):
        """The job's sagemaker_submit_directory, decoded; None without one."""
        from ..core.hyperparameters import decode

        value = decode(self.stored)[0].get("sagemaker_submit_directory")
        return value if isinstance(value, str) and value else None


class Channel(object):
    """One channel of InputDataConfig: its S3 URI (None for another source), its inputdataconfig.json entry, and
    why it cannot be fetched here (None when it can)."""

    def __init__(self, name, uri, fields, problem):
        self.name, self.uri, self.fields, self.problem = name, uri, fields, problem


def _channel(job, entry, mode):
    name = entry.get("ChannelName")
    source = entry.get("DataSource") or {}
    s3 = source.get("S3DataSource")
    fields = {}
    if entry.get("ContentType"):
        fields["ContentType"] = entry["ContentType"]
    fields["TrainingInputMode"] = entry.get("InputMode") or mode
    fields["S3DistributionType"] = (s3 or {}).get("S3DataDistributionType") or "FullyReplicated"
    fields["RecordWrapperType"] = entry.get("RecordWrapperType") or "None"
    instead = "give --channel %s=DIR or --channel %s=s3://bucket/prefix to run it from a copy" % (name, name)
    problem = None
    if s3 is None:
        kind = ", ".join(sorted(source)) or "no data source"
        problem = "channel %s reads %s, which this machine cannot mount: %s" % (name, kind, instead)
    elif (s3.get("S3DataType") or "S3Prefix") != "S3Prefix":
        problem = "channel %s is an S3 %s, which local does not read: %s" % (name, s3["S3DataType"], instead)
    elif fields["TrainingInputMode"] == "Pipe":
        problem = ("channel %s is in Pipe mode, which local does not emulate (SageMaker streams it through the FIFO "
                   "%s_0): give --channel %s=%s to read it in File mode, as files in input/data/%s"
                   % (name, name, name, s3.get("S3Uri"), name))
    return Channel(name, (s3 or {}).get("S3Uri"), fields, problem)


def apply(job, opts):
    """Fold the job into ``opts``: its channels, shards, hosts and code where the command line gave none. Returns
    {channel: its inputdataconfig.json entry} for the job's channels (tree.py sets S3DistributionType by
    opts.shards); a JobError for a channel that cannot run here."""
    from ..fetch.channels import SHARDED

    given = dict(opts.channels)
    channels, entries = [], {}
    for channel in job.channels:
        overridden = channel.name in given
        if channel.problem and not overridden:
            raise JobError("--job %s: %s" % (job.name, channel.problem))
        source = given.pop(channel.name) if overridden else channel.uri
        entry = dict(channel.fields)
        if overridden and entry["TrainingInputMode"] == "Pipe":  # the command line's source is read as files
            entry["TrainingInputMode"] = "File"
        if entry["S3DistributionType"] == SHARDED and is_s3(source) and channel.name not in opts.shards:
            opts.shards.append(channel.name)  # a folder given over it goes whole to every host
        entries[channel.name] = entry
        channels.append((channel.name, source))
    opts.channels = channels + [(name, source) for name, source in opts.channels if name in given]
    if opts.hosts is None:
        opts.hosts = sum(count for _, _, count in job.groups)
    if "sagemaker_program" not in job.stored and opts.program is None and not opts.command:
        raise UsageError("--job %s: the job names no program (no sagemaker_program: on SageMaker its image's "
                         "entry point ran it): give --code DIR --program NAME, or the command after --" % job.name)
    if opts.code is None and not opts.command:
        code = job.code()
        if code and is_s3(code):
            opts.code = code
        elif code and "sagemaker_program" in job.stored and opts.program is None:
            raise JobError("--job %s: its code is in its image (sagemaker_submit_directory %s), which local does not "
                           "use: give --code DIR with the source" % (job.name, code))
    return entries


def groups(job, opts, hosts):
    """[(group name, instance type, its hosts)]: the job's instance groups, hosts algo-1 ... in group order; one
    group of every host when --hosts overrides the count. --instance-type sets every group's type."""
    if job is None:
        return [(GROUP, opts.instance_type or "local", hosts)]
    if sum(count for _, _, count in job.groups) != len(hosts):
        return [(GROUP, opts.instance_type or job.groups[0][1], hosts)]
    found, first = [], 0
    for name, kind, count in job.groups:
        found.append((name, opts.instance_type or kind, hosts[first:first + count]))
        first += count
    return found


def screen(job, opts, overrides, group_list):
    """The job's lines of the first screen: what SageMaker says of it, and what of it runs here."""
    failure = (job.failure or "").strip().splitlines()
    status = job.status + (": %s" % failure[0][:300] if failure else "")
    python = "%s (%s)" % (sys.executable, sys.version.split()[0])
    if len(group_list) == 1:
        name, kind, members = group_list[0]
        instances = "%d x %s -> %s here" % (len(members), kind, _hosts(members))
    else:
        instances = "; ".join("%s: %d x %s -> %s" % (name, len(members), kind, _hosts(members))
                              for name, kind, members in group_list)
    hps = "%d as stored on the job" % len(job.stored)
    if overrides:
        hps += "; set here: %s" % ", ".join(sorted(overrides))
    environment = ("%d variable%s from the job: %s" % (len(job.environment), "" if len(job.environment) == 1 else "s",
                                                       ", ".join(sorted(job.environment)))
                   if job.environment else "none from the job")
    if opts.code is None:
        code = "none: the command after -- runs" if opts.command else "none"
    elif is_s3(opts.code):
        code = "%s, fetched by each host's launcher as on SageMaker" % opts.code
    else:
        code = "%s, copied" % os.path.abspath(opts.code)
    lines = ["job %s in %s, as SageMaker describes it:" % (job.name, job.region),
             "  status:          %s" % status,
             "  image:           %s -- not used: the job runs here, on %s and what it has installed" % (job.image,
                                                                                                      python),
             "  instances:       %s" % instances,
             "  hyperparameters: %s" % hps,
             "  environment:     %s" % environment,
             "  code:            %s" % code]
    return "\n".join(lines)


def _hosts(members):
    return members[0] if len(members) == 1 else "%s to %s" % (members[0], members[-1]) if members else "no hosts"

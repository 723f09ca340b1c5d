"""The command line of ``sm-train local``: its options, read into Options; bad ones are UsageErrors."""

import re

from .. import jsonc, options
from ..errors import LauncherError, UsageError

USAGE = """usage: python3 sm-train.pyz local [OPTIONS] [-- PROGRAM [ARG ...]]

Run a training job on this machine as SageMaker would: lay out an /opt/ml tree (hyperparameters
encoded as the SageMaker Python SDK writes them, channels, code, resourceconfig) and start the job
through sm-train itself, once per host. Exits with the job's status.

options:
  --job NAME             start from the SageMaker training job NAME as DescribeTrainingJob describes it:
                         its hyperparameters as stored, S3 channels, instance count and groups, environment
                         (as variables) and code (sagemaker_submit_directory); the options below override it
  --region REGION        the job's region (default AWS_REGION, else AWS_DEFAULT_REGION or the profile's)
  --hp KEY=VALUE         a hyperparameter; VALUE is read as JSON when it parses (3, 0.1, true, [1,2],
                         {"a":1}, null), else taken as a string; quote to force a string: 'v="1.10"'
  --hps FILE.json        hyperparameters from a JSON object of real values ({"epochs": 3, ...});
                         --hp and --hps apply in command-line order, the last one wins
  --channel NAME=DIR     an input channel, copied to input/data/NAME (your DIR is never written)
  --channel NAME=s3://bucket/prefix
                         an S3 channel (a prefix or one object), downloaded as SageMaker's File mode
                         lays it out: each object whose key starts with the prefix, at its key less the
                         prefix's folder (the prefix up to its last '/'); folder markers skipped
  --shard NAME           the S3 channel NAME is ShardedByS3Key: with --hosts N, the objects in key order,
                         the k-th (from 0) to algo-(k mod N + 1)
  --sample SIZE          take each S3 channel's objects in key order up to SIZE (200MB, 1.5GB, 512MiB)
  --cache DIR            keep downloaded objects in DIR, by bucket, key and ETag: a second run downloads
                         only what changed (default $XDG_CACHE_HOME/sm-train, else ~/.cache/sm-train)
  --no-cache             download into the tree only
  --code DIR             the source dir, copied to code/ (default: only the --program file)
  --code s3://bucket/.../sourcedir.tar.gz
                         the code as the SDK uploads it: written as sagemaker_submit_directory and
                         fetched by each host's launcher, as a real start fetches it
  --program NAME         the entry point, relative to --code (sagemaker_program)
  --instance-type TYPE   current_instance_type in resourceconfig.json (default: the job's, else local)
  --hosts N              run N hosts, algo-1 ... algo-N, as N processes on this machine (default: the
                         job's instance count, else 1)
  --keep DIR             lay the tree out in DIR (new or empty) and keep all of it; with --hosts N,
                         one tree per host in DIR/algo-K. Without it: a temporary dir, removed when the
                         job succeeds (model included) and kept when it fails, with the line to remove it
  --hp-style toolkit|json
                         how hyperparameters become arguments ($SM_TRAIN_HP_STYLE; see sm-train --help)
  -h, --help             print this help
  -- PROGRAM ARGS        run this command (in code/) instead of --program

The SageMaker API and S3 use the AWS credential chain. The API's endpoint: AWS_ENDPOINT_URL_SAGEMAKER,
AWS_ENDPOINT_URL or the config file, else api.sagemaker.REGION. S3 uses AWS_REGION when set, else the
job's region, else SAGEMAKER_REGION as the launcher renders it, and the endpoint settings (S3_ENDPOINT_URL,
AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL) as a real start does.

Exit status: the job's (the first failing host's); 2 for a wrong command line; 1 when a file or
directory it names cannot be used, or S3 refuses a channel.
"""


_VALUED = ("--job", "--region", "--hp", "--hps", "--channel", "--code", "--program", "--instance-type", "--hosts",
           "--keep", "--hp-style", "--shard", "--sample", "--cache")
_FLAGS = ("-h", "--help", "--no-cache")


_CHANNEL_NAME = re.compile(r"[A-Za-z0-9.\-_]{1,64}\Z")  # CreateTrainingJob's ChannelName


class Options(object):
    def __init__(self):
        self.job = None      # a training job's name: its description is the run's starting point
        self.region = None
        self.hps = []        # ("hp", key, value) and ("hps", path), in command-line order
        self.channels = []   # (name, dir or s3:// URI)
        self.shards = []     # names of S3 channels that are ShardedByS3Key
        self.sample = None   # bytes, from --sample SIZE
        self.cache = None
        self.no_cache = False
        self.code = None
        self.program = None
        self.instance_type = None  # the job's, else "local"
        self.hosts = None          # the job's count, else 1
        self.keep = None
        self.hp_style = None
        self.command = None
        self.help = False


def parse(argv, environ):
    from ..core.hyperparameters import style

    opts = Options()
    for name, value in options.scan(argv, _VALUED, _FLAGS):
        if name is None:
            raise UsageError("unexpected argument %r: name the program with --program, or put a command after --"
                             % value[0])
        if name == "--":
            opts.command = value
        elif name in _VALUED:
            _take(opts, name, value)
        elif name == "--no-cache":
            opts.no_cache = True
        else:
            opts.help = True
    if opts.help:
        return opts
    if opts.region is not None and opts.job is None:
        raise UsageError("--region applies to --job NAME (S3 channels take AWS_REGION)")
    if opts.job is None:
        check_s3_options(opts)  # with --job, once the job's channels are known
    opts.hp_style = style(opts.hp_style, environ)
    options.seconds(None, environ, "SM_TRAIN_PROBE_TIMEOUT", "10")  # each host's launcher would refuse it
    if opts.program is not None and opts.command:
        raise UsageError("give --program or a command after --, not both")
    if opts.code is not None and opts.program is not None:
        _check_program(opts.program)
    return opts


def is_s3(source):
    """Whether a --channel or --code value names S3 (and so must parse as an S3 URI)."""
    return source[:3].lower() == "s3:"


def check_s3_options(opts):
    s3 = [name for name, source in opts.channels if is_s3(source)]
    for name in opts.shards:
        if name not in s3:
            raise UsageError("--shard %s: no S3 channel of that name; give --channel %s=s3://bucket/prefix" % (name,
                                                                                                        name))
    if opts.sample is not None and not s3:
        raise UsageError("--sample applies to S3 channels, and no --channel names one")
    if opts.cache is not None and opts.no_cache:
        raise UsageError("give --cache DIR or --no-cache, not both")


def _check_program(program):
    """With --code, --program is sagemaker_program, which the launcher refuses outside the code dir (an absolute
    path, a '.' or '..' segment): refused here, before a tree is laid out for nothing."""
    if program.startswith("/") or any(segment in (".", "..") for segment in program.split("/")):
        raise UsageError("--program %s: with --code, --program is a path inside --code, relative to it and without "
                         "'.' or '..' (such as train.py or bin/train.sh)" % program)


def _take(opts, name, value):
    if name == "--hp":
        key, eq, text = value.partition("=")
        if not eq:
            raise UsageError("--hp %r: expected KEY=VALUE" % value)
        if not key:
            raise UsageError("--hp %r: the key is empty" % value)
        opts.hps.append(("hp", key, _value(key, text)))
    elif name == "--hps":
        opts.hps.append(("hps", value))
    elif name == "--channel":
        channel, eq, folder = value.partition("=")
        if not eq or not folder:
            raise UsageError("--channel %r: expected NAME=DIR or NAME=s3://bucket/prefix" % value)
        if not _CHANNEL_NAME.match(channel):
            raise UsageError("--channel %r: a channel name is 1 to 64 letters, digits, '.', '-' or '_'" % value)
        if any(channel == c for c, _ in opts.channels):
            raise UsageError("--channel %s given twice" % channel)
        opts.channels.append((channel, folder))
    elif name == "--shard":
        if value not in opts.shards:
            opts.shards.append(value)
    elif name == "--sample":
        from ..fetch.channels import parse_size

        try:
            opts.sample = parse_size(value)
        except LauncherError as e:
            raise UsageError(str(e))
    elif name == "--hosts":
        try:
            opts.hosts = int(value)
        except ValueError:
            opts.hosts = 0
        if opts.hosts < 1:
            raise UsageError("--hosts must be a whole number, 1 or more, not %r" % value)
    elif not value:
        raise UsageError("option %s needs a value" % name)
    else:
        setattr(opts, name[2:].replace("-", "_"), value)


def _value(key, text):
    """--hp's VALUE: its JSON value when it parses, else the text itself (the rule the toolkit decodes by);
    nested too deep for the job to read (jsonc.MAX_DEPTH), an error now rather than in the job."""
    try:
        return jsonc.loads(text)
    except ValueError:
        return text
    except RecursionError:
        pass
    raise UsageError("--hp %s: the value is JSON nested more than %d levels deep" % (key, jsonc.MAX_DEPTH))

"""The S3 channels of a local job: listed before any tree is laid out (so bad input writes nothing, and the first
screen says what each channel holds and whether it is a sample), then fetched once, into the cache, and placed in
every host's tree."""

from ..core.layout import Layout
from .command_line import is_s3


class S3Inputs(object):
    def __init__(self, opts, environ, hyperparameters, hosts):
        from ..fetch.channels import FULLY, SHARDED

        self.opts, self.environ, self.hosts = opts, environ, hosts
        self.specs = [(name, source, SHARDED if name in opts.shards else FULLY)
                      for name, source in opts.channels if is_s3(source)]
        self.region = _region(environ, hyperparameters)
        self.client = self.channels = None

    def plan(self):
        """List every S3 channel (ListObjectsV2) and log its first-screen line."""
        if not self.specs:
            return
        from ..fetch import channels, transfer

        self.client = transfer.Client(self.environ, self.region)
        self.channels = channels.plan(self.specs, self.hosts, self.client, self.opts.sample)

    def fill(self, base, trees):
        """Fetch the listed objects and place each host's share in its tree; a signal stops it, leaving no partial
        file in the cache (Stopped, with the shell's status)."""
        if not self.channels:
            return
        import signal

        from ..fetch import cache, channels
        from ..run.launch import stop_on_signals

        if self.opts.no_cache:
            store = cache.Scratch(base)
        else:
            store = cache.Cache(self.opts.cache or cache.default_dir(self.environ))
        previous = [(s, signal.getsignal(s)) for s in (signal.SIGTERM, signal.SIGINT)]
        stop_on_signals("while downloading the S3 channels")
        try:
            channels.download(self.channels, [Layout(tree).input_data for tree in trees], self.client, store)
        finally:
            for signum, handler in previous:
                signal.signal(signum, handler)
            store.close()


def _region(environ, hyperparameters):
    """The region each host's launcher gives its S3 client: AWS_REGION when set (even empty), else SAGEMAKER_REGION
    as it renders it (the sagemaker_region hyperparameter, else the region boto3 finds)."""
    from ..core import awsfiles

    if "AWS_REGION" in environ:
        return environ["AWS_REGION"]
    value = hyperparameters.get("sagemaker_region")
    return str(value) if value else awsfiles.region(environ) or ""

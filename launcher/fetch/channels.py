"""S3 channels laid out as SageMaker's File mode lays them out: which objects a channel holds, where each lands, a
sample of them, each host's share of a sharded channel. ``plan`` lists (ListObjectsV2), ``download`` fetches into
the cache and places the files in each host's tree. The caller passes (channel name, S3 URI, distribution).

The layout rule. A channel holds every object whose key starts with the URI's prefix (S3Prefix), each at its key
less the prefix's folder: the prefix up to and including its last '/'. So s3://b/data/ and s3://b/data/train
both put data/train-1.csv at train-1.csv, and data/train/a.csv at train/a.csv; s3://b/data/train.csv (one
object) puts it at train.csv. This is the platform's naming, where a file keeps its whole name (the SDK's bug
report "Files partially matched by S3Prefix get named differently in local and remote mode"); SDK local mode
(sagemaker/local/data.py, utils.download_folder) differs: it takes the URI's object alone when one has that
exact key, and otherwise cuts the whole prefix (train-1.csv lands as -1.csv). Keys ending in '/' (the
console's folder markers) are no files: skipped, as the SDK skips them. An object whose path would also be a
folder of another (data/x and data/x/y), or whose path has an empty, '.' or '..' part, stops the run with one
line: the platform documents no layout for it, and the SDK's local mode either drops the folder or fails
part-way.

Shards (ShardedByS3Key): the objects in key order, the k-th (from 0) to host algo-(k mod N + 1). SageMaker says
only that each of N hosts gets about 1/N of the objects; a script must not count on which."""

import os

from .. import log
from ..errors import JobError
from .transfer import shown_size

FULLY, SHARDED = "FullyReplicated", "ShardedByS3Key"
_BUCKET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def parse_uri(uri, what):
    """(bucket, prefix) of s3://bucket[/prefix], or a one-line JobError for a URI that does not parse."""
    rest = uri[5:] if uri.startswith("s3://") else None
    bucket, _, prefix = (rest or "").partition("/")
    if rest is None or not bucket:
        raise JobError("%s: %s is not an S3 URI of the form s3://bucket/prefix" % (what, uri))
    if not set(bucket) <= _BUCKET or len(bucket) > 255 or len(prefix.encode("utf-8")) > 1024 or "\x00" in prefix:
        raise JobError("%s: %s does not name an S3 bucket and key: a bucket name is letters, digits, '.', '-' "
                       "and '_', a key at most 1024 bytes" % (what, uri))
    return bucket, prefix


def relative_path(prefix, key):
    """Where the object ``key`` lands in a channel of ``prefix``: the key less the prefix's folder."""
    return key[prefix.rfind("/") + 1:]


class Object(object):
    """One object as listed: it is fetched once, whatever the channels and hosts that hold it."""

    __slots__ = ("bucket", "key", "size", "etag")

    def __init__(self, bucket, key, size, etag):
        self.bucket, self.key, self.size, self.etag = bucket, key, size, etag

    def uri(self):
        return "s3://%s/%s" % (self.bucket, self.key)


class Channel(object):
    """A listed channel: its files as (path in the channel, Object), in key order, and each host's share."""

    def __init__(self, name, uri, distribution):
        self.name, self.uri, self.distribution = name, uri, distribution
        self.bucket, self.prefix = parse_uri(uri, "channel %s" % name)
        self.files = []
        self.sampled = False  # objects were left out by the sample limit

    def share(self, host, hosts):
        """The files of host number ``host`` (from 0) of ``hosts``."""
        return self.files[host::hosts] if self.distribution == SHARDED else self.files

    def size(self):
        return sum(item.size for _, item in self.files)


def plan(specs, hosts, client, sample=None):
    """List each channel of ``specs`` [(name, S3 URI, distribution)]: the Channels, their first-screen lines
    logged. ``sample``: the most bytes a channel takes, objects in key order; ``client`` as transfer.Client."""
    channels = []
    for name, uri, distribution in specs:
        channel = Channel(name, uri, distribution)
        _select(channel, client, sample)
        channels.append(channel)
        log.info(describe(channel, hosts, sample))
        if distribution == SHARDED and len(channel.files) < hosts:
            log.warning("channel %s: %d objects for %d hosts: some hosts get none (SageMaker warns of the same)"
                        % (name, len(channel.files), hosts))
    return channels


def _select(channel, client, sample):
    """The channel's files, listed and checked; an empty channel is refused, as SageMaker refuses it."""
    _take(channel, _listed(channel, client), sample)
    if not channel.files:
        raise JobError("channel %s: no S3 objects found under %s (SageMaker fails such a job): check the prefix, "
                       "and that these credentials may list the bucket (%s)" % (channel.name, channel.uri,
                                                                                client.credentials.source))
    _check_folders(channel)


def _listed(channel, client):
    """The channel's objects as listed, its listing's errors naming it; a bucket in another region than the
    job's is refused, as SageMaker refuses it."""
    from ..aws.s3list import OtherRegion

    try:
        for item in client.list(channel.uri, channel.bucket, channel.prefix):
            yield item
    except OtherRegion as e:
        raise JobError("channel %s: %s; SageMaker reads a channel only from the job's region: to run this one, set "
                       "AWS_REGION=%s" % (channel.name, e, e.bucket_region))
    except JobError as e:
        raise JobError("channel %s: %s" % (channel.name, e))


def _take(channel, listed, sample):
    """The channel's files by the layout rule, up to ``sample`` bytes; the listing stops once the sample is full."""
    taken = 0
    for key, size, etag in listed:
        if key.endswith("/"):
            continue
        if sample is not None and taken + size > sample:
            channel.sampled = True
            if not channel.files:
                raise JobError("channel %s: --sample %s takes no object of %s: the first, s3://%s/%s, is %s"
                               % (channel.name, shown_size(sample), channel.uri, channel.bucket, key,
                                  shown_size(size)))
            break
        path = relative_path(channel.prefix, key)
        if any(part in ("", ".", "..") for part in path.split("/")):
            raise JobError("channel %s: the object s3://%s/%s cannot be a file of the channel: its path %r has an "
                           "empty, '.' or '..' part" % (channel.name, channel.bucket, key, path))
        channel.files.append((path, Object(channel.bucket, key, size, etag)))
        taken += size


def _check_folders(channel):
    """No path may be both a file and the folder of another file."""
    files = set(path for path, _ in channel.files)
    for path, item in channel.files:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in files:
                raise JobError("channel %s: s3://%s/%s and s3://%s/%s cannot both be laid out: %r would be a "
                               "file and a folder; give a prefix that holds only one of them"
                               % (channel.name, channel.bucket, channel.prefix[:channel.prefix.rfind("/") + 1]
                                  + folder, channel.bucket, item.key, folder))


def describe(channel, hosts, sample):
    """The channel's first-screen line: its objects and bytes, a sample or a shard if it is one."""
    count, size = len(channel.files), channel.size()
    line = "channel %s: %s, %d object%s, %s" % (channel.name, channel.uri, count, "" if count == 1 else "s",
                                               shown_size(size))
    if channel.sampled:
        line += (" -- A SAMPLE: the first objects in key order within --sample, %s; the prefix holds more"
                 % shown_size(sample))
    if channel.distribution == SHARDED:
        line += "; %s: host algo-K of %d gets objects K, K+%d, K+%d, ... in key order" % (SHARDED, hosts, hosts,
                                                                                        2 * hosts)
    return line


def parse_size(text, what="--sample"):
    """Bytes of '200MB', '1.5GiB', '512k' or '1000': decimal units (KB, MB, GB, TB), binary ones (KiB ...)."""
    units = {"": 1, "B": 1, "K": 10 ** 3, "KB": 10 ** 3, "M": 10 ** 6, "MB": 10 ** 6, "G": 10 ** 9, "GB": 10 ** 9,
             "T": 10 ** 12, "TB": 10 ** 12, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}
    number = text.strip()
    unit = ""
    while number and number[-1].isalpha():
        number, unit = number[:-1], number[-1] + unit
    try:
        value = float(number) * units[unit.upper()]
    except (KeyError, ValueError):
        value = -1
    if not value > 0 or value != value or value == float("inf"):
        raise JobError("%s %r: expected a size such as 200MB, 1.5GB or 512MiB" % (what, text))
    return int(value)


def download(channels, data_dirs, client, store):
    """Fetch every file of ``channels`` (plan's) into ``store`` (a cache.Cache or cache.Scratch) and place each
    host's share under its ``data_dirs[k]/NAME`` (input/data of host k's tree, each channel's folder made)."""
    from . import cache, transfer

    hosts = len(data_dirs)
    uses = {}
    for channel in channels:
        for host in range(hosts):
            for _, item in channel.share(host, hosts):
                uses[cache.ident(item)] = uses.get(cache.ident(item), 0) + 1
    wanted = {}
    for channel in channels:
        for _, item in channel.files:
            wanted.setdefault(cache.ident(item), item)
    transfer.fetch([item for ident, item in sorted(wanted.items()) if ident in uses], store, client)
    for host, data_dir in enumerate(data_dirs):
        for channel in channels:
            folder = os.path.join(data_dir, channel.name)
            for path, item in channel.share(host, hosts):
                ident = cache.ident(item)
                uses[ident] -= 1
                store.place(item, os.path.join(folder, path), last=uses[ident] == 0)

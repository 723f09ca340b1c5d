"""Where downloaded objects wait before they are placed in a tree: the cache (``--cache DIR``), one read-only file per
object version named by a hash of its bucket, key and ETag, so a second run fetches nothing that did not change;
or, with ``--no-cache``, a scratch folder inside the tree's base, removed once the files are placed.

A download writes to a temporary name in ``tmp/`` and is renamed into ``objects/`` only when it is whole and
checked, so ``objects/`` never holds a partial file. Temporary files of a run that was killed are removed by a
later run (their process gone, the file untouched for ten minutes). Files are placed by a copy, a copy-on-write
clone where the filesystem makes one (btrfs, XFS): never a hard link, through which a job that writes into its
input would change the cache."""

import hashlib
import os
import shutil

from ..errors import JobError

_FICLONE = 0x40049409  # Linux's ioctl: dst shares src's blocks until either is written
STALE = 600  # seconds a left temporary file waits before a later run removes it


def ident(item):
    """The name of one object version: bucket, key and ETag."""
    text = "%s\n%s\n%s" % (item.bucket, item.key, item.etag)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def default_dir(environ):
    """$XDG_CACHE_HOME/sm-train (an absolute one: the XDG spec ignores a relative value), else ~/.cache/sm-train."""
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sm-train")


class Cache(object):
    """The objects of past runs, kept: placed by copy."""

    def __init__(self, root, what="the cache"):
        self.root, self.what = os.path.abspath(root), what
        self.objects, self.tmp = os.path.join(self.root, "objects"), os.path.join(self.root, "tmp")
        try:
            os.makedirs(self.objects, mode=0o700, exist_ok=True)
            os.makedirs(self.tmp, mode=0o700, exist_ok=True)
        except OSError as e:
            raise JobError("cannot use %s %s: %s" % (what, self.root, e.strerror or e))
        self._sweep()
        self.cloning = True  # until the filesystem refuses a clone once

    def path(self, item):
        name = ident(item)
        return os.path.join(self.objects, name[:2], name)

    def has(self, item):
        try:
            return os.stat(self.path(item)).st_size == item.size
        except OSError:
            return False

    def temp(self, item):
        """A new, empty temporary file for ``item``, named after this process so a later run can tell it is left."""
        for attempt in range(100):
            path = os.path.join(self.tmp, "%s.%d.%d.part" % (ident(item)[:16], os.getpid(), attempt))
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                return path
            except FileExistsError:
                continue
            except OSError as e:
                raise JobError("cannot write to %s %s: %s" % (self.what, self.tmp, e.strerror or e))
        raise JobError("cannot make a temporary file in %s %s" % (self.what, self.tmp))

    def commit(self, temp, item):
        """The whole, checked download ``temp`` becomes the object's file."""
        final = self.path(item)
        try:
            os.chmod(temp, 0o444)
            os.makedirs(os.path.dirname(final), mode=0o700, exist_ok=True)
            os.replace(temp, final)
        except OSError as e:
            raise JobError("cannot write to %s %s: %s" % (self.what, self.root, e.strerror or e))

    def place(self, item, dst, last):
        """The object's file at ``dst``, a file the job may change without changing this one."""
        self._copy(self.path(item), dst)

    def close(self):
        pass

    def _copy(self, src, dst):
        try:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if self.cloning and self._clone(src, dst):
                return
            shutil.copyfile(src, dst)
        except OSError as e:
            raise JobError("cannot place %s: %s" % (dst, e.strerror or e))

    def _clone(self, src, dst):
        import fcntl

        with open(src, "rb") as source, open(dst, "wb") as target:
            try:
                fcntl.ioctl(target.fileno(), _FICLONE, source.fileno())
                return True
            except OSError:  # not Linux, another filesystem, or one that cannot clone: copies from now on
                self.cloning = False
                return False

    def _sweep(self):
        """Remove the temporary files of runs that ended without cleaning up (killed)."""
        try:
            names = os.listdir(self.tmp)
        except OSError:
            return
        import time

        for name in names:
            parts = name.split(".")
            path = os.path.join(self.tmp, name)
            try:
                # Its process gone, and still for a while: a run in another PID namespace (a container sharing
                # the cache) shows no process here, but its download writes at least once a request timeout.
                if len(parts) == 4 and parts[1].isdigit() and not _alive(int(parts[1])) and \
                        os.stat(path).st_mtime < time.time() - STALE:
                    os.unlink(path)
            except OSError:
                pass


class Scratch(Cache):
    """--no-cache: the downloads wait in a folder inside the tree's base; each is moved to its last place."""

    def __init__(self, base):
        import tempfile

        try:
            root = tempfile.mkdtemp(prefix=".sm-train-download-", dir=base)
        except OSError as e:
            raise JobError("cannot make a download folder in %s: %s" % (base, e.strerror or e))
        Cache.__init__(self, root, "the download folder")

    def place(self, item, dst, last):
        if not last:
            return self._copy(self.path(item), dst)
        try:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.rename(self.path(item), dst)
            os.chmod(dst, 0o644)
        except OSError as e:
            raise JobError("cannot place %s: %s" % (dst, e.strerror or e))

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's: alive
        return True
    return True

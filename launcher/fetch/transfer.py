"""Many objects from S3 at once: a small pool of threads, objects of 8 MiB and more in ranged parts of 8 MiB (as
boto3's transfer defaults), each into a temporary file of the store, renamed when whole and checked. The first
failure stops the others; a stop (a signal in the main thread) leaves no partial file. Progress on stderr once a
download takes more than two seconds: one line updated in place on a terminal, a log line every five seconds
otherwise."""

import collections
import os
import sys
import threading
import time

from .. import log
from ..errors import JobError

WORKERS = 10  # boto3's max_concurrency
PART = 8 << 20  # boto3's multipart_threshold and multipart_chunksize
QUIET, EVERY_TTY, EVERY_LOG = 2.0, 0.25, 5.0  # seconds


class Client(object):
    """The S3 side of a channel download: the credentials (botocore's chain), the region, the endpoint settings of
    ``environ``, and the stop that ends every request of the run."""

    def __init__(self, environ, region):
        from ..aws import credentials, endpoints

        self.environ, self.region = environ, region
        self.configured = endpoints.configured_endpoint(environ)  # read once: it may read the config file
        self.credentials = credentials.resolve(environ, region or None)
        self.stop = threading.Event()
        self.deadline = float("inf")  # none for the whole: a channel of terabytes takes what it takes

    def list(self, uri, bucket, prefix):
        from ..aws import s3list

        return s3list.list_objects(uri, bucket, prefix, self.credentials, self.region, self.environ, self.deadline,
                                   self.stop, configured=self.configured)

    def get(self, item, path, progress):
        from ..aws import s3

        return s3.download(item.uri(), path, self.credentials, self.region, self.environ, self.deadline,
                           etag=item.etag, stop=self.stop, progress=progress, configured=self.configured)

    def get_part(self, item, path, first, length, progress):
        from ..aws import s3

        return s3.download_part(item.uri(), path, first, length, item.etag, self.credentials, self.region,
                                self.environ, self.deadline, self.stop, progress, configured=self.configured)


def fetch(items, store, client, workers=WORKERS):
    """Every one of ``items`` (channels.Object) that ``store`` lacks, fetched into it."""
    missing = [item for item in items if not store.has(item)]
    if len(missing) < len(items):
        log.info("%d of %d objects already in %s %s" % (len(items) - len(missing), len(items), store.what,
                                                         store.root))
    if missing:
        _Run(missing, store, client).go(workers)


class _Run(object):
    def __init__(self, items, store, client):
        self.store, self.client = store, client
        self.tasks = collections.deque()  # popleft is atomic: the workers share it without a lock
        self.lock = threading.Lock()
        self.temps, self.left, self.errors = {}, {}, []
        for item in items:
            if item.size < PART:
                self.tasks.append((item, None, None))
                continue
            spans = [(first, min(PART, item.size - first)) for first in range(0, item.size, PART)]
            self.left[id(item)] = len(spans)
            self.tasks.extend((item, first, length) for first, length in spans)
        self.progress = Progress(len(items), sum(item.size for item in items))

    def go(self, workers):
        threads = [threading.Thread(target=self.work) for _ in range(min(workers, len(self.tasks)))]
        for thread in threads:
            thread.daemon = True  # one stuck in a read must not hold the exit after a stop
            thread.start()
        try:
            alive = threads
            while alive and not self.errors:  # after a failure, a worker stuck in a read is not waited for
                alive[0].join(EVERY_TTY)
                alive = [thread for thread in alive if thread.is_alive()]
                self.progress.show()
        except BaseException:  # a signal's Stopped, or Ctrl-C: the workers stop, the temporary files go
            self.client.stop.set()
            self.end(threads)
            raise
        if self.errors:
            self.end(threads)
            raise next((e for e in self.errors if not _cancelled(e)), self.errors[0])
        self.progress.show(final=True)

    def end(self, threads):
        """Give the workers two seconds to notice the stop, then remove every temporary file left."""
        until = time.monotonic() + 2.0
        for thread in threads:
            thread.join(max(0.0, until - time.monotonic()))
        with self.lock:
            temps, self.temps = list(self.temps.values()), {}
        for temp in temps:
            try:
                os.unlink(temp)
            except OSError:
                pass
        self.progress.show(final=True, stopped=True)

    def work(self):
        while not self.client.stop.is_set():
            try:
                task = self.tasks.popleft()
            except IndexError:
                return
            try:
                self.one(*task)
            except BaseException as e:  # the first failure ends the run, and is its error
                if isinstance(e, OSError):  # the disk: full, or a folder that went away
                    e = JobError("cannot download %s into %s: %s" % (task[0].uri(), self.store.root,
                                                                     e.strerror or e))
                with self.lock:
                    self.errors.append(e)
                self.client.stop.set()
                return

    def one(self, item, first, length):
        with self.lock:
            temp = self.temps.get(id(item))
            if temp is None:
                temp = self.temps[id(item)] = self.store.temp(item)
                if first is not None:
                    os.truncate(temp, item.size)  # sparse: each part fills its own bytes
        if first is None:
            self.client.get(item, temp, self.progress.add)
        else:
            self.client.get_part(item, temp, first, length, self.progress.add)
            with self.lock:
                self.left[id(item)] -= 1
                if self.left[id(item)]:
                    return
        size = os.path.getsize(temp)
        if size != item.size:
            raise JobError("cannot download %s: %d bytes came, the listing said %d" % (item.uri(), size, item.size))
        self.store.commit(temp, item)
        with self.lock:
            self.temps.pop(id(item), None)
        self.progress.object_done()


def _cancelled(error):
    from ..aws.s3call import Cancelled

    return isinstance(error, Cancelled)


class Progress(object):
    """Objects and bytes done, and the rate, on stderr: nothing for a download under two seconds."""

    def __init__(self, objects, size, stream=None):
        self.objects, self.size = objects, size
        self.stream = stream or sys.stderr
        self.done = self.bytes = 0
        self.started = time.monotonic()
        self.shown = None
        self.lock = threading.Lock()
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False

    def add(self, n):
        with self.lock:
            self.bytes += n

    def object_done(self):
        with self.lock:
            self.done += 1

    def show(self, final=False, stopped=False):
        now = time.monotonic()
        took = now - self.started
        if took < QUIET and not (final and self.shown is not None):
            return
        if not final and self.shown is not None and now - self.shown < (EVERY_TTY if self.tty else EVERY_LOG):
            return
        self.shown = now
        text = "%s %d of %d objects, %s of %s, %s/s" % (
            "stopped after" if stopped else "downloaded" if final else "downloading:", self.done, self.objects,
            shown_size(self.bytes), shown_size(self.size), shown_size(self.bytes / max(took, 1e-6)))
        if final:
            text += " in %.1f s" % took
        if not self.tty:
            return log.info(text)
        log.clear_line = None if final else self.clear
        self.write("\r%s\x1b[K%s" % (text, "\n" if final else ""))

    def clear(self):
        """Before a log record: the record takes the line, and the next show() draws the progress again."""
        self.write("\r\x1b[K")

    def write(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass


def shown_size(size):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024.0
    return "%d B" % size if unit == "B" else "%.1f %s" % (size, unit)

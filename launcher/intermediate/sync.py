"""Intermediate output (sagemaker_s3_output), as the toolkit's intermediate_output.start_sync:
every file closed under output/intermediate is copied to .tmp.sagemaker_s3_sync (a snapshot: a program
rewriting the file cannot tear the upload) and uploaded to <prefix>/<relative path>, one file at a time in
the order closed. Unlike the toolkit, a file or directory renamed into the tree is uploaded too, and the end
is explicit: ``finish`` takes the last events, rescans the tree, waits for the uploads until a deadline and
names every file that did not arrive.

A copy waits a settle interval (SM_TRAIN_INTERMEDIATE_SETTLE) before it is uploaded, and a write to its file
in that time (IN_MODIFY) drops it: a write() the program was in the middle of while the copy was made reports
itself only when it ends, after every check the copy passed. The file's next close brings it back; so a file
rewritten faster than the interval goes up at its last close, and the final pass takes every file as it is.

Two daemon threads, started with every signal blocked so that signals stay the supervisor's: one takes the
events and the snapshots, one uploads. A newer snapshot of a file still waiting replaces the older one."""

import collections
import os
import posixpath
import shutil
import threading
import time

from .. import log
from ..errors import JobError
from . import watcher

TMP = ".tmp.sagemaker_s3_sync"


def start(target, environ, settings):
    """Create the directories and start watching ``target`` (a core.plan.Intermediate); a running Sync.
    ``settings``: options.Settings, checked with the options (the polling interval, the settle interval)."""
    from ..aws import credentials, endpoints, upload

    try:
        os.makedirs(os.path.join(target.directory, TMP), exist_ok=True)
    except OSError as e:
        raise JobError("cannot create %s for sagemaker_s3_output: %s" % (target.directory, e.strerror or e))
    region = endpoints.client_region(environ)
    source = credentials.resolve(environ, region or None)
    changes = watcher.open_source(target.directory, TMP, settings.intermediate_poll)
    # Only inotify tells of a write (IN_MODIFY) a settling copy could be dropped for; polling takes a file once it
    # stayed the same for an interval, its own wait.
    sync = Sync(target, settings.intermediate_settle if changes.mode == "inotify" else 0.0)
    sync.client = upload.Client(target.bucket, source, region, environ, deadline=lambda: sync.deadline)
    sync.run(changes)
    log.info("Intermediate output: watching %s (%s), uploading to %s with credentials from %s"
             % (target.directory, sync.source.mode, target.url(), source.source))
    return sync


class Sync(object):
    def __init__(self, target, settle=0.0):
        self.target, self.root, self.tmp = target, target.directory, os.path.join(target.directory, TMP)
        self.settle = settle
        self.settling = {}                # the watcher's own: relative path -> (copy, signature, due), due order
        self.client = self.source = None
        self.lock = threading.Condition()
        self.queue = collections.deque()  # relative paths with a snapshot waiting, in the order first closed
        self.snapshots = {}               # relative path -> its newest snapshot
        self.taken = {}                   # relative path -> signature of the file when last snapshotted
        self.failed = {}                  # relative path -> why its last version is not in S3
        self.uploading = None
        self.uploaded = 0
        self.stopping = self.watched = False
        self.deadline = None              # time.monotonic() value the uploads must end by, once one is set

    def run(self, source):
        import signal

        self.source = source
        every = signal.valid_signals() if hasattr(signal, "valid_signals") else range(1, signal.NSIG)  # novm
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, set(every) - {signal.SIGKILL, signal.SIGSTOP})
        try:
            self.watcher = threading.Thread(target=self._watch, name="intermediate-watch", daemon=True)
            self.uploader = threading.Thread(target=self._upload, name="intermediate-upload", daemon=True)
            self.watcher.start()
            self.uploader.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def finish(self, deadline=None, stopped=None):
        """After the program ended: the files closed until now uploaded by ``deadline`` (time.monotonic(), or
        None for no limit); ``stopped()``, polled while there is none, may give one (a SIGTERM came). None when
        every one arrived, else one line naming those that did not. Safe twice: a later call returns None at once,
        the first caller having reported the end (a supervised MPI role's end, then the start's)."""
        with self.lock:
            if self.stopping:
                return None
            self.deadline, self.stopping = deadline, True
            self.lock.notify_all()
        self.source.wake()
        for thread in (self.watcher, self.uploader):
            while thread.is_alive():
                if deadline is None and stopped is not None:
                    deadline = stopped()
                    if deadline is not None:
                        with self.lock:
                            self.deadline = deadline
                            self.lock.notify_all()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                thread.join(0.2 if left is None else min(left, 0.2))
        # The deadline cut the upload running then: a moment more to abort it if it was a multipart one.
        from ..aws.upload import ABORT_TIMEOUT

        self.uploader.join(ABORT_TIMEOUT + 1.0)
        with self.lock:
            missing = dict(self.failed)
            for rel in self.queue:
                missing[rel] = "not uploaded before the deadline"
            if self.uploading is not None:
                missing[self.uploading] = "its upload was still running at the deadline"
        log.info("Intermediate output: %d uploads to %s" % (self.uploaded, self.target.url()))
        if not missing:
            return None
        names = sorted(missing)
        return ("intermediate output: %d file(s) not uploaded to %s: %s (%s: %s)"
                % (len(names), self.target.url(), ", ".join(names), names[0], missing[names[0]]))

    # The watcher thread.
    def _watch(self):
        try:
            while True:
                with self.lock:
                    stopping = self.stopping
                events = self.source.wait(0 if stopping else self._until_due())
                written = {rel: i for i, (kind, rel) in enumerate(events) if kind == "modified"}
                for i, (kind, rel) in enumerate(events):
                    if kind == "file" and written.get(rel, -1) < i:  # else written again since: its close comes
                        self._snapshot(rel)
                    elif kind == "modified":
                        self._drop(rel)  # its settling copy may hold parts of two versions; its next close comes
                    elif kind == "dir":
                        self._walk(rel)
                    elif kind == "rescan":
                        self._rescan()
                if stopping:  # every close before the end is in the events just read; the rescan catches the rest
                    for rel in list(self.settling):
                        self._drop(rel)  # nothing writes any more: the final pass copies each file as it is
                    self._rescan(final=True)
                    break
                self._settled()
        except Exception as e:  # never silently: the end names what did not arrive
            log.error("Intermediate output: the watcher stopped: %s: %s" % (type(e).__name__, e))
            with self.lock:
                self.failed[""] = "the watcher stopped: %s" % e
        finally:
            with self.lock:
                self.watched = True
                self.lock.notify_all()

    def _walk(self, rel):
        """A directory created or moved in: watch it and everything under it, snapshot its files."""
        top = os.path.join(self.root, rel)
        for folder, _, files in os.walk(top):
            sub = os.path.relpath(folder, self.root)
            if not self.source.watch(sub):  # gone, or no inotify watches left: the final rescan covers it
                log.warning("Intermediate output: cannot watch %s; its files are uploaded at the end" % folder)
            for name in sorted(files):
                self._snapshot(os.path.join(sub, name))

    def _rescan(self, final=False):
        for rel, signature in sorted(watcher.scan(self.root, TMP).items()):
            if self.taken.get(rel) != signature:
                self._snapshot(rel, final)

    def _snapshot(self, rel, final=False):
        """Copy the file as it is now into TMP for the upload, unless this version is taken already or it changed
        while copied. While the program runs (not ``final``), also unless it was written to after its close:
        the copy may then hold parts of two versions, and its next close brings the file back; and the copy
        settles before it goes to the uploads."""
        source = os.path.join(self.root, rel)
        try:
            before = os.lstat(source)
            if (before.st_mode & 0o170000) != 0o100000 or watcher.signature(before) in (
                    self.taken.get(rel), self.settling.get(rel, (None, None))[1]):
                return  # not a regular file (links are not followed), or this version is taken or settling already
            copy = os.path.join(self.tmp, os.path.dirname(rel), "%s.%s" % (_stamp(), os.path.basename(rel)))
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            shutil.copyfile(source, copy, follow_symlinks=False)
            after = os.lstat(source)
        except FileNotFoundError:  # deleted or renamed away before we got to it, as the toolkit ignores
            return
        except OSError as e:
            log.warning("Intermediate output: cannot copy %s: %s" % (rel, e.strerror or e))
            with self.lock:
                self.failed[rel] = "cannot copy it: %s" % (e.strerror or e)
            return
        if watcher.signature(after) != watcher.signature(before) or not final and self.source.written(rel):
            _unlink(copy)  # written to while we copied, or since its close: its next close brings it back
            return
        if final or not self.settle:
            self._queue(rel, copy, watcher.signature(before))
        else:
            self._drop(rel)  # an older copy still settling: this one is newer, and goes to the end of the line
            self.settling[rel] = (copy, watcher.signature(before), time.monotonic() + self.settle)

    def _until_due(self):
        """Seconds to wait for events: until the oldest settling copy is due, at most 1."""
        for _, _, due in self.settling.values():
            return min(1.0, max(0.0, due - time.monotonic()))
        return 1.0

    def _settled(self):
        """The copies whose file had no write for the settle interval go to the uploads, oldest first; a write
        not yet among the events read drops its copy as one read would."""
        now = time.monotonic()
        while self.settling:  # in the order they are due: each copy waits the same interval
            rel, (copy, signature, due) = next(iter(self.settling.items()))
            if due > now:
                break
            del self.settling[rel]
            if self.source.written(rel):
                _unlink(copy)
            else:
                self._queue(rel, copy, signature)

    def _drop(self, rel):
        waiting = self.settling.pop(rel, None)
        if waiting is not None:
            _unlink(waiting[0])

    def _queue(self, rel, copy, signature):
        """Hand ``copy`` of ``rel`` to the uploads, in place of an older one still waiting there."""
        with self.lock:
            older = self.snapshots.get(rel)
            self.snapshots[rel] = copy
            self.taken[rel] = signature
            if older is None:
                self.queue.append(rel)
            self.lock.notify_all()
        if older is not None:
            _unlink(older)

    # The upload thread.
    def _upload(self):
        while True:
            with self.lock:
                while not self.queue and not self.watched:
                    self.lock.wait()
                if not self.queue:
                    return
                rel = self.queue.popleft()
                copy = self.snapshots.pop(rel)
                self.uploading = rel
            key = posixpath.join(self.target.prefix, rel.replace(os.sep, "/"))
            error = None
            try:
                size = self.client.upload(copy, key)
                log.debug("Intermediate output: %s uploaded to s3://%s/%s (%d bytes)" % (rel, self.target.bucket,
                                                                                        key, size))
            except Exception as e:  # JobError from S3, OSError from the snapshot, anything else: named at the end
                error = str(e) if isinstance(e, JobError) else "%s: %s" % (type(e).__name__, e)
                log.warning("Intermediate output: %s" % error)
            finally:
                _unlink(copy)
            with self.lock:
                self.uploading = None
                if error is None:
                    self.uploaded += 1
                    self.failed.pop(rel, None)
                elif rel not in self.snapshots:  # a newer version still to come would replace the error
                    self.failed[rel] = error


def _stamp():
    """The toolkit's temporary-copy prefix: UTC time to the microsecond."""
    moment = time.time()
    return time.strftime("%Y-%m-%d-%H-%M-%S-", time.gmtime(moment)) + ("%.6f" % moment).split(".")[1]


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass

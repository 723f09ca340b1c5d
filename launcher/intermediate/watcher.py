"""What changed under a directory tree: Linux inotify through ctypes (no package), else polling.

Both sources answer ``wait(timeout)`` with a list of ("file" | "modified" | "dir" | "rescan", relative path)
and keep their own watch list current, so a directory created or moved into the tree is watched from then on:
- inotify: a file closed after writing (IN_CLOSE_WRITE, as the toolkit) or moved in (IN_MOVED_TO, which the
  toolkit does not watch), a file written to (IN_MODIFY: after its close, the program is writing it again), a
  directory created or moved in; a queue overflow asks for a rescan.
- polling: every file whose size, mtime or inode stayed the same over one interval after it changed (taken
  as closed); the caller's final rescan covers the files still changing when the program ended.
``written(rel)`` tells whether a file was written to after the events wait() gave last (never, for polling)."""

import ctypes
import os
import struct

MODIFY, CLOSE_WRITE, MOVED_TO, CREATE, Q_OVERFLOW, IGNORED, ISDIR = 0x2, 0x8, 0x80, 0x100, 0x4000, 0x8000, 0x40000000
NONBLOCK, CLOEXEC = 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")


def open_source(root, skip, poll_interval=None):
    """The best source for ``root`` (``skip``: a top-level name never watched); polling when inotify cannot
    be had (not Linux, no inotify instances left) or when ``poll_interval`` asks for it."""
    if poll_interval is None:
        try:
            return Inotify(root, skip)
        except OSError:
            poll_interval = 1.0
    return Poll(root, skip, poll_interval)


class Inotify(object):
    mode = "inotify"

    def __init__(self, root, skip):
        libc = ctypes.CDLL(None, use_errno=True)
        self._init = getattr(libc, "inotify_init1", None)
        if self._init is None:
            raise OSError("no inotify")
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self.fd = self._init(NONBLOCK | CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1: " + os.strerror(ctypes.get_errno()))
        self.root, self.skip, self.dirs, self._buffer = root, skip, {}, b""
        self._pending, self._modified = [], set()  # the events written() read, for the next wait(); files written
        if not self.watch(""):
            number = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(number, "inotify_add_watch: " + os.strerror(number))
        self._wake_r, self._wake_w = os.pipe()

    def watch(self, rel):
        """Watch the directory ``rel``; False when it is gone or cannot be watched."""
        wd = self._add(self.fd, os.fsencode(os.path.join(self.root, rel)), MODIFY | CLOSE_WRITE | MOVED_TO | CREATE)
        if wd < 0:
            return False
        self.dirs[wd] = rel
        return True

    def wait(self, timeout):
        import select

        if timeout and not self._pending and not select.select([self.fd, self._wake_r], [], [], timeout)[0]:
            return []
        changes, self._pending, self._modified = self._pending + self._read(), [], set()
        return changes

    def written(self, rel):
        """Whether ``rel`` was written to after the events wait() gave last: a copy of it taken since may hold
        parts of two versions. The events read here come with the next wait()."""
        read = self._read()
        self._pending += read
        self._modified.update(name for kind, name in read if kind == "modified")
        return rel in self._modified

    def _read(self):
        changes = []
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return changes
            buffer, at = self._buffer + data, 0  # an offset, not a slice per event: a read holds thousands
            while len(buffer) - at >= _EVENT.size:
                wd, mask, _, length = _EVENT.unpack_from(buffer, at)
                end = at + _EVENT.size + length
                if len(buffer) < end:
                    break
                name = os.fsdecode(buffer[at + _EVENT.size:end].rstrip(b"\0"))
                at = end
                changes.extend(self._change(wd, mask, name))
            self._buffer = buffer[at:]

    def _change(self, wd, mask, name):
        if mask & Q_OVERFLOW:
            return [("rescan", "")]
        if mask & IGNORED:  # the directory went away
            self.dirs.pop(wd, None)
            return []
        if wd not in self.dirs:
            return []
        rel = os.path.join(self.dirs[wd], name) if self.dirs[wd] else name
        if rel.split(os.sep, 1)[0] == self.skip:
            return []
        if mask & ISDIR:
            return [("dir", rel)] if mask & (CREATE | MOVED_TO) else []
        if mask & MODIFY:
            return [("modified", rel)]
        return [("file", rel)] if mask & (CLOSE_WRITE | MOVED_TO) else []

    def wake(self):
        """End a wait() now (the program has ended)."""
        os.write(self._wake_w, b"x")


class Poll(object):
    mode = "polling"

    def __init__(self, root, skip, interval):
        self.root, self.skip, self.interval = root, skip, interval
        self.seen = scan(root, skip)
        self.pending = set(self.seen)  # changed during the last interval
        import threading

        self._woken = threading.Event()

    def watch(self, rel):
        return True

    def written(self, rel):
        return False  # a file is taken once it stayed the same for an interval: no sooner sign of a writer

    def wait(self, timeout):
        self._woken.wait(min(timeout, self.interval))
        now = scan(self.root, self.skip)
        ready = [("file", rel) for rel in sorted(self.pending) if rel in now and now[rel] == self.seen.get(rel)]
        self.pending = set(rel for rel, sig in now.items() if sig != self.seen.get(rel))
        self.seen = now
        return ready

    def wake(self):
        self._woken.set()


def scan(root, skip):
    """{relative path: (size, mtime_ns, inode)} of every regular file under ``root``, ``skip`` left out."""
    found = {}
    for folder, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(folder, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        if not rel_dir:
            dirs[:] = [d for d in dirs if d != skip]
        for name in files:
            rel = os.path.join(rel_dir, name) if rel_dir else name
            try:
                st = os.lstat(os.path.join(root, rel))
            except OSError:
                continue
            if (st.st_mode & 0o170000) == 0o100000:
                found[rel] = signature(st)
    return found


def signature(st):
    return st.st_size, st.st_mtime_ns, st.st_ino

"""The supervised program's stderr: passed on to ours as it comes, without ever blocking the supervisor, with
its last bytes kept for the failure reason."""

import os
import time

TAIL = 64 * 1024       # bytes of the program's stderr kept for the failure reason
READ = 64 * 1024
DRAIN = 5.0            # seconds to pass on what is left of stderr after the program exited


class Tee(object):
    """The program's stderr: every byte to our stderr as it comes, the last TAIL bytes kept."""

    def __init__(self, fd):
        self.fd = fd
        self.open = True
        self.tail = bytearray()
        self.cut = False
        self.pending = b""
        self.sink = True  # our stderr still takes bytes
        # A write of PIPE_BUF bytes to a pipe that select calls writable cannot block; a stalled log reader
        # must not stop the forwarding of signals.
        self.chunk = READ
        try:
            import stat

            if stat.S_ISFIFO(os.fstat(2).st_mode) or stat.S_ISSOCK(os.fstat(2).st_mode):
                self.chunk = 4096
        except OSError:
            self.sink = False

    def reading(self):
        return self.open and not self.pending

    def read(self):
        """Take one chunk; False at EOF or, in the final drain, when the pipe is empty."""
        try:
            data = os.read(self.fd, READ)
        except BlockingIOError:
            return False
        if not data:
            self.open = False
            return False
        self.tail += data
        if len(self.tail) > 2 * TAIL:
            del self.tail[:-TAIL]
            self.cut = True
        if self.sink:
            self.pending = memoryview(data)
        return True

    def write_some(self):
        try:
            written = os.write(2, self.pending[:self.chunk])
        except BlockingIOError:
            return
        except OSError:  # nobody reads our stderr any more: keep only the tail
            self.sink = False
            written = len(self.pending)
        self.pending = self.pending[written:]

    def drain(self):
        """After the program exited: what it wrote is all in the pipe; stop at EOF, when the pipe is empty, or
        after DRAIN seconds (a process the program left behind may hold the pipe open and keep writing, and
        our own stderr may stall), dropping what is left; the tail keeps what was read."""
        import select

        os.set_blocking(self.fd, False)
        deadline = time.monotonic() + DRAIN
        while time.monotonic() < deadline:
            if self.pending:
                if not select.select([], [2], [], max(0.0, deadline - time.monotonic()))[1]:
                    return
                self.write_some()
            elif not (self.open and self.read()):
                return

    def last_lines(self):
        """The tail, without its first line when that was cut (and so maybe a character too)."""
        tail = bytes(self.tail[-TAIL:])
        if self.cut or len(self.tail) > TAIL:
            newline = tail.find(b"\n")
            if 0 <= newline < len(tail) - 1:
                tail = tail[newline + 1:]
        return tail

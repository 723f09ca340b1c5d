"""How an MPI worker learns the master's outcome, with the standard library only.

The master's launcher stays alive around mpirun (it cannot exec) and answers on a small TCP status port
(SM_TRAIN_STATUS_PORT, default 7791). A worker connects, sends its host name and reads one line: "running"
while the job has not ended, "exit N" once it has. Workers poll every second and exit with N; the master keeps
answering until every worker has read the outcome, or a bounded linger has passed.
"""

import socket
import time

from .. import log
from ..errors import JobError


class StatusServer(object):
    """Answers each connection with "running" or "exit N", from a thread, until ``finish`` has been heard."""

    def __init__(self, port, workers):
        import threading

        self.state = b"running\n"
        self.workers = set(workers)
        self.asked = set()       # workers that have asked at least once: they are up and polling
        self.told = set()        # workers that have read the outcome
        self.changed = threading.Condition()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("", port))
        except OSError as e:
            self.sock.close()
            raise JobError("the MPI master cannot serve its status on port %d: %s (SM_TRAIN_STATUS_PORT sets the "
                           "port)" % (port, e.strerror or e))
        self.sock.listen(64)
        thread = threading.Thread(target=self._serve, name="sm-train-status")
        thread.daemon = True
        thread.start()
        log.info("Serving the MPI job's status to the workers on port %d" % port)

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed by finish()
            try:
                conn.settimeout(5)
                host = _read_line(conn)
                with self.changed:
                    state = self.state
                conn.sendall(state)
                with self.changed:
                    self.asked.add(host)
                    if state != b"running\n":
                        self.told.add(host)
                    self.changed.notify_all()
            except OSError:
                pass
            finally:
                conn.close()

    def finish(self, status, linger, everyone=True, stopped=None):
        """Publish the outcome; return once the workers have read it (every worker, or with ``everyone`` false
        only those already polling: a failed start must not wait for a worker that never came), after
        ``linger`` seconds, or once ``stopped()`` is true (it is asked every second)."""
        deadline = time.monotonic() + linger
        with self.changed:
            self.state = b"exit %d\n" % status
            log.info("MPI job ended with status %d; telling the workers" % status)
            while True:
                waiting = (self.workers if everyone else self.asked & self.workers) - self.told
                left = deadline - time.monotonic()
                if not waiting or left <= 0 or (stopped and stopped()):
                    break
                self.changed.wait(min(left, 1.0))
        if waiting:
            log.warning("workers %s did not ask for the outcome within %.0f s"
                        % (", ".join(sorted(waiting)), linger - max(left, 0)))
        self.sock.close()


def _read_line(conn):
    data = b""
    while b"\n" not in data and len(data) < 512:
        chunk = conn.recv(512)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n")[0].decode("utf-8", "replace").strip()


def ask_master(master, port, host, timeout=5.0):
    """The master's answer ("running" or "exit N"), or None when it does not answer."""
    try:
        with socket.create_connection((master, port), timeout) as conn:
            conn.sendall(("%s\n" % host).encode("utf-8"))
            return _read_line(conn)
    except (OSError, ValueError):  # ValueError: UnicodeError from IDNA, or a NUL in the name
        return None

"""The recipe image's train.py, run by `docker run IMAGE train`: --mode says what to do, and what it sees from
inside the container goes into files under /opt/ml/model for the test to read."""

import argparse
import json
import os
import sys
import time

MODEL = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")


def write(name, data):
    with open(os.path.join(MODEL, name), "w") as f:
        json.dump(data, f)


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return [part.decode() for part in f.read().split(b"\0")[:-1]]


def state(pid):
    """The /proc state letter of ``pid`` ("Z" for a zombie), or None once it is gone (reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def orphans(count):
    """Leave ``count`` exited grandchildren behind, their PIDs: each child forks one and exits at once, so the
    grandchild is handed to PID 1, which alone can reap it. The pipe closes once every grandchild has ended."""
    read_end, write_end = os.pipe()
    for _ in range(count):
        child = os.fork()
        if child == 0:
            os.close(read_end)
            if os.fork() == 0:
                os.write(write_end, b"%d\n" % os.getpid())
            os._exit(0)
        os.waitpid(child, 0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        pids = [int(line) for line in pipe]
    while any(state(pid) not in ("Z", None) for pid in pids):  # exiting: the last step before zombie
        time.sleep(0.01)
    return pids


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="report")
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--wait", type=float, default=60)
    args = parser.parse_args()
    if args.mode == "report":
        write("report.json", {"pid": os.getpid(), "pid1": cmdline(1), "argv": sys.argv,
                              "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")}})
        sys.exit(args.status)
    if args.mode == "sleep":  # no SIGTERM handler: as PID 1 it cannot be stopped by SIGTERM
        open(os.path.join(MODEL, "ready"), "w").close()
        time.sleep(600)
        sys.exit(5)
    if args.mode == "zombies":
        pids = orphans(args.count)
        deadline = time.time() + args.wait
        while any(state(pid) for pid in pids) and time.time() < deadline:
            time.sleep(0.05)
        write("zombies.json", {"left": sum(state(pid) == "Z" for pid in pids), "pid": os.getpid()})
        sys.exit(0)
    sys.exit("unknown --mode %s" % args.mode)


main()

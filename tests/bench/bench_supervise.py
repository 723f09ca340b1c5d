"""--supervise figures for `make bench`: throughput of 100 MB written by the program, supervised against exec
(stdout is inherited, stderr passes through the launcher), and the launcher's memory while it supervises.

--quick (what `make test` runs, so that a broken driver fails the tests): one round on 4 MB.

Usage: python3 tests/bench/bench_supervise.py dist/sm-train.pyz [--runs N] [--quick]
"""

import argparse
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1024 * 1024
MIB_WRITTEN = 100  # per stream and run: long enough that the start-up is a small part of it
QUICK_MIB = 4
FLOOD = """
import os, sys, time
fd, total, ready = int(sys.argv[1]), int(sys.argv[2]) * 1024 * 1024, sys.argv[3]
block = (b"step 123 loss 0.4567\\r" * 3120 + b"\\n")[:65536]
view = memoryview(block)
while total > 0:
    total -= os.write(fd, view[:min(total, len(view))])
if ready != "-":
    open(ready, "w").close()
    deadline = time.time() + 60
    while not os.path.exists(ready + ".done") and time.time() < deadline:
        time.sleep(0.01)
"""


def tree(work):
    root = os.path.join(work, "ml")
    os.makedirs(os.path.join(root, "input", "config"))
    os.makedirs(os.path.join(root, "code"))
    os.makedirs(os.path.join(root, "output"))
    for name, value in (("hyperparameters.json", {"sagemaker_container_log_level": "40"}),
                        ("inputdataconfig.json", {}),
                        ("resourceconfig.json", {"current_host": "algo-1", "hosts": ["algo-1"]})):
        with open(os.path.join(root, "input", "config", name), "w") as f:
            json.dump(value, f)
    with open(os.path.join(root, "code", "flood.py"), "w") as f:
        f.write(FLOOD)
    return root


def drained(argv, env):
    """Seconds to run argv with both streams read (and dropped) through pipes, as a log collector does."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        while sel.get_map():
            for key, _ in sel.select():
                if not os.read(key.fd, 1 << 20):
                    sel.unregister(key.fileobj)
    status = proc.wait()
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit("benchmark command failed (%d): %s" % (status, " ".join(argv)))
    return elapsed


def status_mib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def measure(pyz, python=sys.executable, runs=5, mib=MIB_WRITTEN):
    """The figures, as a dict: seconds and supervise/exec ratios per stream, the launcher's RSS in MiB."""
    with tempfile.TemporaryDirectory(prefix="sm-train-bench-supervise-") as work:
        return _measure(pyz, python, runs, mib, work)


def _measure(pyz, python, runs, mib, work):
    root = tree(work)
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": work, "LANG": "C.UTF-8"}

    def command(mode, fd, ready="-"):
        return [python, pyz, "--root", root] + (["--supervise"] if mode == "supervise" else []) + [
            "--", python, "flood.py", str(fd), str(mib), ready]

    figures = {}
    for stream, fd in (("stdout", 1), ("stderr", 2)):
        times = {"exec": [], "supervise": []}
        drained(command("supervise", fd), env)  # warm the page cache
        for _ in range(runs):
            for mode in ("exec", "supervise"):
                times[mode].append(drained(command(mode, fd), env))
        for mode in times:
            figures["%s_%s_s" % (stream, mode)] = statistics.median(times[mode])
        figures["%s_ratio" % stream] = figures["%s_supervise_s" % stream] / figures["%s_exec_s" % stream]
        figures["%s_supervise_mib_per_s" % stream] = mib / figures["%s_supervise_s" % stream]

    # The launcher's memory after it passed all of stderr through, read while the program still runs.
    ready = os.path.join(work, "ready")
    proc = subprocess.Popen(command("supervise", 2, ready), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not os.path.exists(ready) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        figures["launcher_rss_mib"] = status_mib(proc.pid, "VmRSS")
        figures["launcher_peak_rss_mib"] = status_mib(proc.pid, "VmHWM")
    finally:
        open(ready + ".done", "w").close()
        proc.wait()
    return figures


def report(figures, mib=MIB_WRITTEN):
    print("--supervise: %d MB written by the program, read through pipes, medians" % mib)
    for stream, how in (("stdout", "inherited"), ("stderr", "through the launcher")):
        print("  %s (%s): exec %.0f ms, supervised %.0f ms, %.2fx (%.0f MiB/s)"
              % (stream, how, figures["%s_exec_s" % stream] * 1000, figures["%s_supervise_s" % stream] * 1000,
                 figures["%s_ratio" % stream], figures["%s_supervise_mib_per_s" % stream]))
    print("  launcher while supervising: RSS %.1f MiB, peak %.1f MiB"
          % (figures["launcher_rss_mib"], figures["launcher_peak_rss_mib"]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pyz")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one round on %d MB" % QUICK_MIB)
    args = parser.parse_args()
    runs, mib = (1, QUICK_MIB) if args.quick else (args.runs, MIB_WRITTEN)
    report(measure(os.path.abspath(args.pyz), runs=runs, mib=mib), mib=mib)


if __name__ == "__main__":
    main()

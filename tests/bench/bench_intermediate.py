"""Bench: what the launcher itself costs while it watches output/intermediate and uploads (sagemaker_s3_output),
against moto's S3 on loopback (tests/support/moto_server.py). The launcher's own CPU time (utime + stime of its
process, not the program's) and its peak RSS (VmHWM) are read from /proc while it runs, at the end of each
phase of one job: idle watching, 1,000 small files, one 40 MiB file. For scale: the peak RSS of the same
program under --supervise with no intermediate output, and the idle phase with polling instead of inotify.

It has no budget; it exits 1 when the job fails or not every file reached the bucket.
--quick (what `make test` runs, so that a broken driver fails the tests): 0.5 s idle, 20 small files, 1 MiB.

Usage: .venv/bin/python tests/bench/bench_intermediate.py dist/sm-train.pyz [--quick]
(moto and boto3 come from the venv)
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))

# Seconds idle, small files, MiB of the large file, seconds for the uploads to settle after each phase.
FULL = {"idle": 10.0, "files": 1000, "mib": 40, "settle": 6.0}
QUICK = {"idle": 0.5, "files": 20, "mib": 1, "settle": 1.0}
PROGRAM = r"""
import os, sys, time
d, marks = sys.argv[1:3]
def mark(name):
    open(os.path.join(marks, name), "w").close()
mark("start"); time.sleep(%(idle)r); mark("idle")
for i in range(%(files)d):
    sub = os.path.join(d, "d%%d" %% (i %% 10)); os.makedirs(sub, exist_ok=True)
    open(os.path.join(sub, "f%%04d" %% i), "w").write("x" * 100)
time.sleep(%(settle)r); mark("small")
open(os.path.join(d, "large.bin"), "wb").write(os.urandom(%(mib)d << 20))
time.sleep(%(settle)r); mark("large")
"""


def sample(pid):
    """(own CPU seconds, peak RSS MiB) of ``pid`` now, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/%d/status" % pid) as f:
            hwm = [line for line in f if line.startswith("VmHWM:")][0].split()[1]
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, int(hwm) / 1024.0


def run(pyz, sizes, root, marks, env, args=()):
    """Run one job; {phase: (cpu, rss)} sampled when the program marks the end of a phase, and at the end."""
    program = PROGRAM % sizes
    process = subprocess.Popen([sys.executable, pyz, "--root", root] + list(args) +
                               ["--", sys.executable, "-c", program, os.path.join(root, "output", "intermediate"),
                                marks], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors = []
    threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True).start()
    phases, last = {}, None
    while True:
        running = process.poll() is None
        now = sample(process.pid) if running else None
        last = now or last
        # The launcher can end between a mark and its sample (the last mark is the program's last line): such a
        # phase takes the last sample, which is then the whole job's.
        for name in ("start", "idle", "small", "large"):
            if name not in phases and os.path.exists(os.path.join(marks, name)):
                phases[name] = now or last
        if not running:
            break
        time.sleep(0.02)
    phases["end"] = last
    if process.returncode != 0:
        raise SystemExit("the job failed (%d): %s" % (process.returncode, errors and errors[0].decode()[-2000:]))
    return phases


def job(base, hps):
    root = tempfile.mkdtemp(dir=base)
    os.makedirs(os.path.join(root, "input", "config"))
    os.makedirs(os.path.join(root, "code"))
    with open(os.path.join(root, "input", "config", "hyperparameters.json"), "w") as f:
        json.dump(hps, f)
    marks = tempfile.mkdtemp(dir=base)
    os.makedirs(os.path.join(root, "output"))
    return root, marks


def main():
    import moto_server

    parser = argparse.ArgumentParser()
    parser.add_argument("pyz", nargs="?", default="dist/sm-train.pyz")
    parser.add_argument("--quick", action="store_true", help="0.5 s idle, 20 small files, a 1 MiB file")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    pyz = os.path.abspath(args.pyz)
    moto = moto_server.start()
    env = dict({k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
               **moto.environ(TRAINING_JOB_NAME="bench"))
    base = tempfile.mkdtemp(prefix="bench-intermediate-")
    try:
        watched = run(pyz, sizes, *job(base, {"sagemaker_s3_output": json.dumps("s3://sm-bucket/bench/inotify")}),
                      env=env)
        polled = run(pyz, sizes, *job(base, {"sagemaker_s3_output": json.dumps("s3://sm-bucket/bench/poll")}),
                     env=dict(env, SM_TRAIN_INTERMEDIATE_POLL="1"))
        plain = run(pyz, sizes, *job(base, {}), env=env, args=["--supervise"])
    finally:
        shutil.rmtree(base)  # make bench leaves nothing behind
    listing = moto.client().get_paginator("list_objects_v2").paginate(Bucket=moto.bucket, Prefix="bench/")
    count = len(listing.build_full_result().get("Contents", []))
    w, p = watched, polled
    idle = sizes["idle"]
    print("sm-train launcher while watching output/intermediate (moto on loopback, CPU s of the launcher "
          "process itself, peak RSS MiB)%s" % (" (quick: tiny sizes)" if args.quick else ""))
    plain_text = " (--supervise without intermediate output: CPU %.3f s, RSS %.1f MiB)"
    rows = [("start-up to the program:", w["start"], plain_text % plain["start"]),
            ("idle %g s, inotify:" % idle, (w["idle"][0] - w["start"][0], w["idle"][1]), ""),
            ("idle %g s, polling 1 s:" % idle, (p["idle"][0] - p["start"][0], p["idle"][1]), ""),
            ("+ {:,} files of 100 B:".format(sizes["files"]), (w["small"][0] - w["idle"][0], w["small"][1]), ""),
            ("+ one %d MiB file:" % sizes["mib"], (w["large"][0] - w["small"][0], w["large"][1]), ""),
            ("whole job:", w["end"], plain_text % plain["end"])]
    for label, (cpu, rss), extra in rows:
        print("  %-26s CPU %.3f s   RSS %.1f MiB%s" % (label, cpu, rss, extra))
    expected = 2 * (sizes["files"] + 1)  # both watched jobs, each its small files and the large one
    print("  objects uploaded: %d of %d" % (count, expected))
    if count != expected:
        print("intermediate output: %d objects missing from the bucket" % (expected - count))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: start-up cost and scaling of the launcher, as ratios against baselines measured in the
same run (SPEC section 5). Every figure is a median of interleaved runs on a clean interpreter: a fresh
venv without pip, so no site-packages .pth file preloads modules and hides import costs.

Usage: python3 tests/bench.py dist/sm-train.pyz [--runs N]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipapp

TYPICAL_HPS = {"sagemaker_program": '"train.py"', "epochs": "10", "lr": "0.001", "batch-size": "64",
               "model": '"resnet50"', "sagemaker_region": '"us-east-1"', "sagemaker_job_name": '"bench"'}
CHANNEL = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}


def write_tree(root, hps, channels, hosts):
    config = os.path.join(root, "input", "config")
    os.makedirs(config)
    os.makedirs(os.path.join(root, "code"))
    with open(os.path.join(root, "code", "train.py"), "w") as f:
        f.write("pass\n")
    files = {"hyperparameters.json": hps,
             "inputdataconfig.json": {name: CHANNEL for name in channels},
             "resourceconfig.json": {"current_host": hosts[0], "hosts": hosts, "current_instance_type": "ml.m5.xlarge",
                                     "current_group_name": "homogeneousCluster", "network_interface_name": "eth0",
                                     "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                                          "instance_type": "ml.m5.xlarge", "hosts": hosts}]}}
    for name, value in files.items():
        with open(os.path.join(config, name), "w") as f:
            json.dump(value, f)
    return root


def wall(argv, env):
    """Seconds to run argv to completion."""
    start = time.perf_counter()
    status = subprocess.call(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if status != 0 and "--print-env" not in argv:
        raise SystemExit("benchmark command failed (%d): %s" % (status, " ".join(argv)))
    return elapsed


# A process's peak RSS starts at its parent's size when it is forked (and is kept across exec), so the
# peak is read by a small clean interpreter that spawns the command, not by this larger process.
PEAK_RSS = ("import os, sys; pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ); "
            "print(os.wait4(pid, 0)[2].ru_maxrss)")


def peak_rss_mib(python, argv, env):
    out = subprocess.run([python, "-c", PEAK_RSS] + argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return int(out.stdout.decode().split()[-1]) / 1024.0


def measure(commands, env, runs):
    """Interleave the commands ``runs`` times; the median seconds of each."""
    times = {name: [] for name in commands}
    for argv in commands.values():  # warm the page cache once
        wall(argv, env)
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(wall(argv, env))
    return {name: statistics.median(v) for name, v in times.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pyz")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    pyz = os.path.abspath(args.pyz)
    work = tempfile.mkdtemp(prefix="sm-train-bench-")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", os.path.join(work, "venv")], check=True)
    python = os.path.join(work, "venv", "bin", "python")
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": work, "LANG": "C.UTF-8"}

    typical = write_tree(os.path.join(work, "typical"), TYPICAL_HPS, ["training", "validation"], ["algo-1"])
    hps = dict(TYPICAL_HPS, **{"h%05d" % i: json.dumps(i) for i in range(10000)})
    many_hps = write_tree(os.path.join(work, "hps"), hps, ["training"], ["algo-1"])
    many_hosts = write_tree(os.path.join(work, "hosts"), TYPICAL_HPS, ["training"],
                            ["algo-%d" % i for i in range(1, 1001)])
    many_channels = write_tree(os.path.join(work, "channels"), TYPICAL_HPS, ["ch%03d" % i for i in range(100)],
                               ["algo-1"])

    null_src = os.path.join(work, "null")
    os.makedirs(null_src)
    train = os.path.join(typical, "code", "train.py")
    with open(os.path.join(null_src, "__main__.py"), "w") as f:
        f.write("import os, sys\nos.execv(sys.executable, [sys.executable, %r])\n" % train)
    null_pyz = os.path.join(work, "null.pyz")
    zipapp.create_archive(null_src, null_pyz)

    launch = measure({
        "direct": [python, train],
        "null zipapp": [python, null_pyz],
        "sm-train": [python, pyz, "train", "--root", typical],
    }, env, args.runs)
    dry = measure({
        "python -c pass": [python, "-c", "pass"],
        "typical": [python, pyz, "--root", typical, "--print-env"],
        "10,000 hyperparameters": [python, pyz, "--root", many_hps, "--print-env"],
        "1,000 hosts": [python, pyz, "--root", many_hosts, "--print-env"],
        "100 channels": [python, pyz, "--root", many_channels, "--print-env"],
    }, env, args.runs)

    ms = 1000.0
    print("sm-train bench: %s, %d interleaved runs each, medians (Python %s, clean venv)"
          % (os.path.basename(pyz), args.runs, sys.version.split()[0]))
    print()
    print("whole launch of a trivial train.py")
    for name in ("direct", "null zipapp", "sm-train"):
        print("  %-24s %7.1f ms" % (name, launch[name] * ms))
    print("  sm-train / null zipapp   %7.2fx   (budget 1.3x)" % (launch["sm-train"] / launch["null zipapp"]))
    print("  sm-train / direct        %7.2fx" % (launch["sm-train"] / launch["direct"]))
    print("  null zipapp / direct     %7.2fx" % (launch["null zipapp"] / launch["direct"]))
    print()
    print("--print-env")
    base = dry["python -c pass"]
    print("  %-24s %7.1f ms" % ("python -c pass", base * ms))
    print("  %-24s %7.1f ms   %5.2fx python -c pass   (budget 2.5x)" % ("typical", dry["typical"] * ms,
                                                                        dry["typical"] / base))
    # 10,000 hyperparameters make SM_HPS and SM_USER_ARGS longer than the 128 KiB Linux passes per variable:
    # the dry run renders everything, then reports that the exec would fail (status 1).
    for name in ("10,000 hyperparameters", "1,000 hosts", "100 channels"):
        extra = (dry[name] - dry["typical"]) * ms
        print("  %-24s %7.1f ms   %5.2fx python -c pass   %+6.1f ms beyond typical (budget 50 ms)"
              % (name, dry[name] * ms, dry[name] / base, extra))
    print()
    print("size of the pyz            %7.1f KB   (budget 200 KB)" % (os.path.getsize(pyz) / 1000.0))
    rss = {name: peak_rss_mib(python, argv, env) for name, argv in (
        ("python -c pass", [python, "-c", "pass"]),
        ("--print-env", [python, pyz, "--root", typical, "--print-env"]),
        ("launch", [python, pyz, "train", "--root", typical]))}
    print("peak RSS, --print-env      %7.1f MiB  (budget 15 MB; python -c pass: %.1f MiB)"
          % (rss["--print-env"], rss["python -c pass"]))
    print("peak RSS, whole launch     %7.1f MiB  (the launcher, then the program it became)" % rss["launch"])
    print()
    import bench_supervise  # tests/ is sys.path[0] when this file runs as a script

    bench_supervise.report(bench_supervise.measure(pyz, python))


if __name__ == "__main__":
    main()

"""`make bench`: start-up cost and scaling of the launcher, as ratios against baselines measured in the
same run (README, "Performance"), each line against its budget. Every figure is a median of interleaved runs
on a clean interpreter: a fresh venv without pip, so no site-packages .pth file preloads modules and hides
import costs. The launch and --print-env figures are taken on every Python 3.7+ found on this machine (the
same search as build_pyz.py). Exits 1 naming every figure over its budget. Leaves nothing behind.

--quick (what `make test` runs, so that a broken driver fails the tests): one round, one Python (the one running
this file unless --python names others), the scaling trees a hundredth of their size, --supervise on 4 MB; every
line is printed with its budget, but none is checked (one round on a shared machine is noise): exits 0.

Usage: python3 tests/bench/bench.py dist/sm-train.pyz [--runs N] [--python PATH ...] [--quick]
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
import build_pyz  # noqa: E402

HOSTS = ["algo-%d" % i for i in range(1, 9)]
CHANNELS = ["training", "validation", "test", "embeddings", "vocabulary"]
CHANNEL = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}
# A job as the SDK describes it. Framework estimators (PyTorch, TensorFlow, ...) write every value with
# json.dumps; the generic Estimator, the usual bring-your-own-image path, with str().
VALUES = {"sagemaker_program": "train.py", "sagemaker_container_log_level": 20, "sagemaker_region": "us-east-1",
          "sagemaker_job_name": "bench-2026-12-01-10-00-00-000", "epochs": 10, "lr": 0.001, "batch-size": 64,
          "model": "resnet50", "optimizer": "adamw", "amp": True, "layers": [512, 256, 128], "seed": None,
          "schedule": {"warmup": 500, "decay": "cosine"}, "classes": ["cat", "dog"], "label-smoothing": 0.1}
SDK_JSON = {k: json.dumps(v) for k, v in VALUES.items()}
ESTIMATOR_STR = {k: str(v) for k, v in VALUES.items()}

LAUNCH_BUDGET = 1.15    # x the null zipapp, on every tree and every Python
# --print-env, x python -c pass: a zipapp's own floor on that Python (measured in the same rounds) plus half a
# python -c pass. A fixed ratio failed on 3.9, where runpy alone costs nearly 2x before any zipapp's first line.
DRY_BUDGET_OVER_FLOOR = 0.5
SCALE_BUDGET_MS = 50.0  # 10,000 hyperparameters, 1,000 hosts, 100 channels, beyond the typical tree
SIZE_BUDGET_KB = 1000.0
RSS_BUDGET_MIB = 15.0


def write_tree(root, hps, channels=CHANNELS, hosts=HOSTS):
    config = os.path.join(root, "input", "config")
    os.makedirs(config)
    os.makedirs(os.path.join(root, "code"))
    # The folders SageMaker provides: a real start creates the missing ones, so without them the first start
    # measured would also count their creation, which no start on SageMaker pays.
    for folder in [("model",), ("output", "data")] + [("input", "data", name) for name in channels]:
        os.makedirs(os.path.join(root, *folder))
    with open(os.path.join(root, "code", "train.py"), "w") as f:
        f.write("pass\n")
    rc = {"current_host": hosts[0], "hosts": hosts, "current_instance_type": "ml.m5.xlarge",
          "current_group_name": "homogeneousCluster", "network_interface_name": "eth0",
          "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": "ml.m5.xlarge",
                               "hosts": hosts}]}
    files = {"hyperparameters.json": hps, "inputdataconfig.json": {name: CHANNEL for name in channels},
             "resourceconfig.json": rc}
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


class Timing(dict):
    """The median seconds of each command, and the runs behind them. A ratio or a difference is the median
    of the per-round ones: the commands of one round ran back to back, so a load that comes and goes on a
    shared machine weighs on both sides of each round alike."""

    def __init__(self, times):
        dict.__init__(self, ((name, statistics.median(v)) for name, v in times.items()))
        self.times = times

    def ratio(self, name, base):
        return statistics.median(a / b for a, b in zip(self.times[name], self.times[base]))

    def excess(self, name, base):
        return statistics.median(a - b for a, b in zip(self.times[name], self.times[base]))


def measure(commands, env, runs):
    """Interleave the commands ``runs`` times, after one warm-up round for the page cache."""
    times = {name: [] for name in commands}
    for argv in commands.values():
        wall(argv, env)
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(wall(argv, env))
    return Timing(times)


# A process's peak RSS starts at its parent's size when it is forked (and is kept across exec), so the
# peak is read by a small clean interpreter that spawns the command, not by this larger process.
PEAK_RSS = ("import os, sys; pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ); "
            "print(os.wait4(pid, 0)[2].ru_maxrss)")


def peak_rss_mib(python, argv, env):
    out = subprocess.run([python, "-c", PEAK_RSS] + argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return int(out.stdout.decode().split()[-1]) / 1024.0


class Budgets(object):
    """Prints each figure with its budget and remembers the ones over it."""

    def __init__(self, checked=True):
        self.over = []
        self.where = ""  # the Python of the lines that follow, named in the summary
        self.checked = checked  # False in a quick run: the lines show their budgets, the status ignores them
        self.lines = 0

    def line(self, label, shown, value, budget, unit):
        ok = value <= budget
        self.lines += 1
        if not ok:
            self.over.append("%s%s (%s, budget %s)" % (self.where, label.strip(), " ".join(shown.split()),
                                                      budget_text(budget, unit)))
        print("  %-44s %-22s budget %-8s %s" % (label, shown, budget_text(budget, unit), "ok" if ok else "OVER"))

    def status(self, what="bench"):
        """Prints the summary; the exit status: 1 when a checked figure is over its budget."""
        print()
        if self.over:
            print("%s: %d figures over budget%s:" % (what, len(self.over), "" if self.checked else
                                                       " (quick run: not checked, one round is noise)"))
            for item in self.over:
                print("  " + item)
            return 1 if self.checked else 0
        print("%s: %s" % (what, "every figure within its budget" if self.lines else "no figure with a budget here"))
        return 0


def budget_text(budget, unit):
    return ("%.2fx" % budget) if unit == "x" else ("%g %s" % (budget, unit))


def pythons(given):
    """(version, path) for one interpreter of each version: those given, else build_pyz's search."""
    seen = {}
    for path in given or build_pyz.find_pythons():
        out = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        version = out.stdout.decode().strip()
        if out.returncode == 0 and version not in seen and tuple(map(int, version.split("."))) >= (3, 7):
            seen[version] = path
    return sorted(seen.items(), key=lambda item: tuple(map(int, item[0].split("."))))


def clean_python(work, version, python):
    venv = os.path.join(work, "venv-" + version)
    subprocess.run([python, "-m", "venv", "--without-pip", venv], check=True)
    return os.path.join(venv, "bin", "python")


def null_launcher(work, train):
    """The floor for any zipapp launcher: a zipapp that only execs the program."""
    src = os.path.join(work, "null")
    os.makedirs(src)
    with open(os.path.join(src, "__main__.py"), "w") as f:
        f.write("import os, sys\nos.execv(sys.executable, [sys.executable, %r])\n" % train)
    path = os.path.join(work, "null.pyz")
    zipapp.create_archive(src, path)
    return path


def per_python(budgets, pyz, python, trees, null_pyz, env, runs):
    """The whole launch against the null zipapp and --print-env against python -c pass, on each tree."""
    commands = {"null zipapp": [python, null_pyz], "python -c pass": [python, "-c", "pass"]}
    for name, root in trees.items():
        commands["launch " + name] = [python, pyz, "train", "--root", root]
        commands["dry " + name] = [python, pyz, "--root", root, "--print-env"]
    t = measure(commands, env, runs)
    # The null zipapp starts Python twice (itself, then train.py): less one start, it is what any zipapp pays
    # before its first line runs, the floor under the --print-env ratio.
    floor = t.ratio("null zipapp", "python -c pass") - 1
    for kind, label, base, budget in (("launch ", "launch", "null zipapp", LAUNCH_BUDGET),
                                      ("dry ", "--print-env", "python -c pass", floor + DRY_BUDGET_OVER_FLOOR)):
        for name in trees:
            ratio = t.ratio(kind + name, base)
            budgets.line("  %s, %s" % (label, name), "%5.1f ms %6.3fx" % (t[kind + name] * 1e3, ratio), ratio,
                         budget, "x")
    print("    null zipapp %.1f ms, python -c pass %.1f ms; a zipapp's own floor for --print-env: %.2fx "
          "(its budget: the floor + %.2fx)" % (t["null zipapp"] * 1e3, t["python -c pass"] * 1e3, floor,
                                              DRY_BUDGET_OVER_FLOOR))
    return t


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pyz")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--python", action="append", help="an interpreter to measure (repeatable; default: all found)")
    parser.add_argument("--quick", action="store_true", help="one round, tiny sizes, budgets shown but not checked")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
        args.python = args.python or [sys.executable]
    pyz = os.path.abspath(args.pyz)
    with tempfile.TemporaryDirectory(prefix="sm-train-bench-") as work:
        return run(pyz, work, args)


def run(pyz, work, args):
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": work, "LANG": "C.UTF-8"}
    trees = {"SDK json.dumps values": write_tree(os.path.join(work, "sdk-json"), SDK_JSON),
             "Estimator str() values": write_tree(os.path.join(work, "estimator-str"), ESTIMATOR_STR)}
    typical = trees["SDK json.dumps values"]
    train = os.path.join(typical, "code", "train.py")
    null_pyz = null_launcher(work, train)
    budgets = Budgets(checked=not args.quick)
    found = pythons(args.python)
    print("sm-train bench%s: %s, %d interleaved rounds, medians (of each round's ratio, for a ratio), a clean venv "
          "per Python" % (" (quick: budgets not checked)" if args.quick else "", pyz, args.runs))
    print("trees: the SDK's two encodings of %d hyperparameters, %d hosts, %d channels"
          % (len(VALUES), len(HOSTS), len(CHANNELS)))
    print()
    builder = None
    for version, python in found:
        clean = clean_python(work, version, python)
        print("Python %s (null zipapp and python -c pass measured alongside)" % version)
        budgets.where = "Python %s: " % version
        per_python(budgets, pyz, clean, trees, null_pyz, env, args.runs)
        if python == sys.executable or builder is None or version == "%d.%d" % sys.version_info[:2]:
            builder = (version, clean)
    version, python = builder
    budgets.where = ""
    print()
    print("scaling, --print-env on Python %s: work beyond the SDK json.dumps tree" % version)
    n_hps, n_hosts, n_channels = (100, 10, 10) if args.quick else (10000, 1000, 100)
    hps = dict(SDK_JSON, **{"h%05d" % i: json.dumps(i) for i in range(n_hps)})
    scaled = {"{:,} hyperparameters".format(n_hps): write_tree(os.path.join(work, "hps"), hps),
              "{:,} hosts".format(n_hosts): write_tree(os.path.join(work, "hosts"), SDK_JSON,
                                                      hosts=["algo-%d" % i for i in range(1, n_hosts + 1)]),
              "{:,} channels".format(n_channels): write_tree(os.path.join(work, "channels"), SDK_JSON,
                                                            channels=["ch%03d" % i for i in range(n_channels)])}
    commands = {"typical": [python, pyz, "--root", typical, "--print-env"]}
    commands.update((name, [python, pyz, "--root", root, "--print-env"]) for name, root in scaled.items())
    t = measure(commands, env, args.runs)
    # 10,000 hyperparameters make SM_HPS and SM_USER_ARGS longer than the 128 KiB Linux passes per variable:
    # the dry run renders everything, then reports that the exec would fail (status 1).
    for name in scaled:
        extra = t.excess(name, "typical") * 1e3
        budgets.line("  " + name, "%+6.1f ms" % extra, extra, SCALE_BUDGET_MS, "ms")
    direct = measure({"direct": [python, train], "null zipapp": [python, null_pyz]}, env, args.runs)
    print("  (for scale: python3 train.py %.1f ms, the null zipapp %.2fx that)"
          % (direct["direct"] * 1e3, direct.ratio("null zipapp", "direct")))
    print()
    print("size and memory")
    size_kb = os.path.getsize(pyz) / 1000.0
    budgets.line("  size of the pyz (%d bytecode folders)" % len(build_pyz.bytecode_folders(pyz)),
                 "%7.1f KB" % size_kb, size_kb, SIZE_BUDGET_KB, "KB")
    rss = peak_rss_mib(python, [python, pyz, "--root", typical, "--print-env"], env)
    budgets.line("  peak RSS, --print-env", "%7.1f MiB" % rss, rss, RSS_BUDGET_MIB, "MiB")
    print("  (python -c pass: %.1f MiB; a whole launch, the launcher then the program it became: %.1f MiB)"
          % (peak_rss_mib(python, [python, "-c", "pass"], env),
             peak_rss_mib(python, [python, pyz, "train", "--root", typical], env)))
    print()
    import bench_supervise  # tests/bench/ is sys.path[0] when this file runs as a script

    mib = bench_supervise.QUICK_MIB if args.quick else bench_supervise.MIB_WRITTEN
    bench_supervise.report(bench_supervise.measure(pyz, python, runs=1 if args.quick else 5, mib=mib), mib=mib)
    return budgets.status()


if __name__ == "__main__":
    sys.exit(main())

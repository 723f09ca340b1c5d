"""`make bench-instructions` (part of `make bench`): the instructions sm-train's own process runs before it execs
the program, against those of the null zipapp (a zipapp that only execs the same program), counted by valgrind's
callgrind on the typical trees of bench.py (the SDK's json.dumps values and the Estimator's str() values). Times on
a shared machine move by several percent from run to run; instruction counts repeat to a few hundred instructions
(PYTHONHASHSEED=0 fixes the str hashes, and with them the order of every set and the work of every dict), so a
regression of a few percent fails at once. The budget is set on Python 3.12; on another Python the figures are
shown without one.

The count covers the launcher's process from its start to its execve (`--dump-before=execve`). The program's
own start after it is shown for scale, not budgeted: it is Python's start under sm-train's variables (PYTHONPATH,
as the toolkit sets it, is searched before the standard library).

--quick (what `make test` runs, so that a broken driver fails the tests): the json.dumps tree alone, on the Python
running this file unless --python names one, no budget checked. Exits 1 naming a figure over its budget, and
when valgrind or Python 3.12 is missing (with one line saying how to get it). Leaves nothing behind.

Usage: python3 tests/bench/bench_instructions.py dist/sm-train.pyz [--python PATH] [--quick]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import bench  # tests/bench/ is sys.path[0] when this file runs as a script

BUDGET_M = 14.0  # millions of instructions sm-train's process adds before exec, on BUDGET_PYTHON
BUDGET_PYTHON = "3.12"


def callgrind(argv, env, out):
    """(instructions of argv's process up to its execve, instructions of the program it execs), in millions."""
    os.makedirs(out)
    # --trace-children=yes follows the exec in the same process, so one run gives both halves: the dumps taken
    # before each execve are out.1, out.2, ... (more than one only when an execve fails), the program's is out.
    # --vgdb=no: no gdbserver FIFOs in TMPDIR, which a process replaced by exec would never remove.
    result = subprocess.run(["valgrind", "--tool=callgrind", "--vgdb=no", "--trace-children=yes",
                             "--dump-before=execve", "--callgrind-out-file=" + os.path.join(out, "out")] + argv,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        raise SystemExit("callgrind run failed (%d): %s\n%s" % (result.returncode, " ".join(argv),
                                                               result.stderr.decode()[-2000:]))
    before = after = 0
    dumps = os.listdir(out)
    for name in dumps:
        with open(os.path.join(out, name)) as f:
            total = sum(int(line.split()[1]) for line in f if line.startswith("summary:"))
        if name == "out":
            after += total
        else:
            before += total
    if "out" not in dumps or len(dumps) < 2:
        raise SystemExit("callgrind wrote %s for %s: no dump before the exec, or none of the program"
                         % (sorted(dumps), " ".join(argv)))
    return before / 1e6, after / 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pyz")
    parser.add_argument("--python", help="the interpreter to count on (default: Python %s, found as the build "
                                         "finds Pythons)" % BUDGET_PYTHON)
    parser.add_argument("--quick", action="store_true", help="the json.dumps tree alone, no budget checked")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("bench-instructions: valgrind is not on PATH: apt-get install valgrind (Debian, Ubuntu; "
              "`make bench` does it when run as root)")
        return 1
    given = args.python or (sys.executable if args.quick else None)
    if given:
        found = bench.pythons([given])
        if not found:
            print("bench-instructions: %s is not a Python 3.7+" % given)
            return 1
        version, python = found[0]
    else:
        python = dict(bench.pythons(None)).get(BUDGET_PYTHON)
        if python is None:
            print("bench-instructions: no Python %s found, the one the budget is set on (python%s on PATH, "
                  "pyenv install %s, or --python PATH)" % (BUDGET_PYTHON, BUDGET_PYTHON, BUDGET_PYTHON))
            return 1
        version = BUDGET_PYTHON
    with tempfile.TemporaryDirectory(prefix="sm-train-bench-instructions-") as work:
        return count(os.path.abspath(args.pyz), version, python, work, args.quick)


def count(pyz, version, python, work, quick):
    python = bench.clean_python(work, version, python)
    trees = {"SDK json.dumps values": bench.write_tree(os.path.join(work, "sdk-json"), bench.SDK_JSON)}
    if not quick:
        trees["Estimator str() values"] = bench.write_tree(os.path.join(work, "estimator-str"), bench.ESTIMATOR_STR)
    null_pyz = bench.null_launcher(work, os.path.join(trees["SDK json.dumps values"], "code", "train.py"))
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": work, "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
    commands = {"null zipapp": [python, null_pyz]}
    commands.update(("launch, " + name, [python, pyz, "train", "--root", root]) for name, root in trees.items())
    # One start of each outside valgrind first, so that nothing a first start does once (a bytecode file written,
    # a folder made) is counted.
    for argv in commands.values():
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    counted = {name: callgrind(argv, env, os.path.join(work, "callgrind-%d" % i))
               for i, (name, argv) in enumerate(commands.items())}
    budgets = bench.Budgets(checked=not quick)
    null_before, null_after = counted.pop("null zipapp")
    print("sm-train instructions%s: callgrind, PYTHONHASHSEED=0, Python %s in a clean venv; what the launcher's "
          "process adds before its exec, over the null zipapp's %.3f M" % (
              " (quick: no budget checked)" if quick else "", version, null_before))
    for name, (before, _) in counted.items():
        added = before - null_before
        if version == BUDGET_PYTHON:
            budgets.line("  " + name, "%+8.3f M" % added, added, BUDGET_M, "M")
        else:
            print("  %-44s %+8.3f M   no budget on %s (%g M is set on Python %s)"
                  % (name, added, version, BUDGET_M, BUDGET_PYTHON))
    for name, (_, after) in counted.items():
        print("  (%s: then the program's own start, %.3f M, %+.3f M over its start from the null zipapp)"
              % (name, after, after - null_after))
    return budgets.status("bench-instructions")


if __name__ == "__main__":
    sys.exit(main())

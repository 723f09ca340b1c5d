"""`make mutate`: apply each one-line mutation of tests/mutations.txt to a copy of the repository, one at a
time, run that mutation's tests there, and fail if any mutation survives (its tests all pass).

Usage: python tests/mutate.py [NAME_FRAGMENT]   (run with the Python that has pytest; a fragment of a
promise selects the mutations whose promise contains it)

The working tree is only ever read: the mutations go to a copy in a temporary folder, removed at the end,
Ctrl-C included. Each run of the tests builds its own pyz from the mutated copy (tests/conftest.py).
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "tests", "mutations.txt")
SKIP = shutil.ignore_patterns(".git", ".venv", "dist", "__pycache__", ".pytest_cache", ".ruff_cache")
FIELDS = ("promise", "file", "from", "to", "tests")
LIMIT = 900  # seconds for one mutation's tests; a hang counts as caught only if the tests say so


def read_list(path):
    """The mutations, each a dict of FIELDS; a malformed block stops everything with its line number."""
    mutations, block, start = [], {}, None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n") + [""]
    for number, line in enumerate(lines, 1):
        if line.startswith("#"):
            continue
        if not line.strip():
            if block:
                missing = [k for k in FIELDS if k not in block]
                if missing:
                    sys.exit("%s:%d: the block lacks %s" % (path, start, ", ".join(missing)))
                mutations.append(block)
            block = {}
            continue
        key, sep, value = line.partition(": ")
        if not sep or key not in FIELDS or key in block:
            sys.exit("%s:%d: expected one of %s, each once: %r" % (path, number, ", ".join(FIELDS), line))
        block[key] = value
        start = start if len(block) > 1 else number
    return mutations


def mutated(text, original, replacement):
    """``text`` with the one line whose stripped text is ``original`` replaced, its indentation kept."""
    lines = text.split("\n")
    hits = [i for i, line in enumerate(lines) if line.strip() == original]
    if len(hits) != 1:
        raise ValueError("%d lines are %r" % (len(hits), original))
    line = lines[hits[0]]
    lines[hits[0]] = line[:len(line) - len(line.lstrip())] + replacement
    return "\n".join(lines)


def run_tests(copy, args):
    """pytest's status for ``args`` in ``copy``, and the tail of what it printed."""
    # its own --basetemp: pytest's clean-up of a shared temporary folder can fail a run whose tests passed
    basetemp = os.path.join(os.path.dirname(copy), "pytest")
    argv = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--basetemp", basetemp]
    argv += shlex.split(args)
    try:
        result = subprocess.run(argv, cwd=copy, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=LIMIT)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % LIMIT
    return result.returncode, result.stdout.decode("utf-8", "replace")[-2000:]


def check(copy, mutation):
    """'caught', 'SURVIVED' or 'ERROR: ...' for one mutation; the copy's file is restored afterwards."""
    path = os.path.join(copy, mutation["file"])
    with open(path, encoding="utf-8") as f:
        original = f.read()
    try:
        changed = mutated(original, mutation["from"], mutation["to"])
    except ValueError as e:
        return "ERROR: %s: %s" % (mutation["file"], e), ""
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(changed)
        status, output = run_tests(copy, mutation["tests"])
    finally:
        with open(path, "w", encoding="utf-8") as f:
            f.write(original)
    if status == 0:
        return "SURVIVED", output
    if status == 1:  # pytest: some tests failed
        return "caught", output
    return "ERROR: pytest status %s (5: no test selected)" % status, output


def main():
    wanted = sys.argv[1] if len(sys.argv) > 1 else ""
    mutations = [m for m in read_list(LIST) if wanted in m["promise"]]
    if not mutations:
        sys.exit("no mutation's promise contains %r" % wanted)
    scratch = tempfile.mkdtemp(prefix="sm-train-mutate-")
    try:
        copy = os.path.join(scratch, "repo")
        shutil.copytree(ROOT, copy, ignore=SKIP, symlinks=True)
        every = " ".join(sorted({f for m in mutations for f in shlex.split(m["tests"].split(" -k ")[0])}))
        status, output = run_tests(copy, every)
        if status != 0:
            sys.exit("the unmutated copy fails its tests (%s); fix that first:\n%s" % (every, output))
        bad = 0
        for number, mutation in enumerate(mutations, 1):
            verdict, output = check(copy, mutation)
            print("%2d/%d %-8s %s" % (number, len(mutations), verdict.split(":")[0], mutation["promise"]))
            sys.stdout.flush()
            if verdict == "caught":  # which test caught it, so that a failure for an unrelated reason shows
                print("   " + next((line for line in output.splitlines() if line.startswith("FAILED ")), "?"))
            else:
                bad += 1
                print("   %s\n   %s: %s -> %s\n%s" % (verdict, mutation["file"], mutation["from"], mutation["to"],
                                                   output))
        print("%d of %d mutations caught" % (len(mutations) - bad, len(mutations)))
        return 1 if bad else 0
    except KeyboardInterrupt:
        print("interrupted; only the copy was mutated, and it is removed")
        return 130
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

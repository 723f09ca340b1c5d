"""`make bench`'s drivers (tests/bench/), each run in its quick mode (one round, tiny sizes), so that a driver that
breaks fails the tests rather than the next `make bench`: each must exit 0, print its figures (with their budgets,
where it has budgets) and leave nothing in the temporary folder. Nothing is timed here: a quick mode checks no
budget, the figures themselves being the benchmark's business."""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import clean_env

import build_pyz

BENCH = os.path.join(build_pyz.ROOT, "tests", "bench")


def run_quick(script, pyz, tmp_path):
    """Runs tests/bench/SCRIPT PYZ --quick with a temporary folder of its own; its output, once the status and
    the folder are checked."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = subprocess.run([sys.executable, os.path.join(BENCH, script), pyz, "--quick"],
                            env=clean_env(TMPDIR=str(scratch)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=600)
    out = result.stdout.decode()
    assert result.returncode == 0, out
    assert os.listdir(str(scratch)) == [], out
    return out


def budget_lines(out):
    return [line for line in out.splitlines() if line.rstrip().endswith((" ok", " OVER"))]


def test_the_start_up_bench_shows_every_budget_and_leaves_nothing_behind(pyz, tmp_path):
    out = run_quick("bench.py", pyz, tmp_path)
    figures = budget_lines(out)
    assert len(figures) == 4 + 3 + 2, out  # one Python: 2 trees x (launch, --print-env); scaling; size, RSS
    assert all(" budget " in line for line in figures), out
    assert "a zipapp's own floor for --print-env" in out
    assert "--supervise: 4 MB written by the program" in out  # bench_supervise's figures, run by bench.py
    # the summary: every figure within its budget, or those over it, which a quick run does not count against it
    assert any(line.startswith("bench: ") for line in out.splitlines()), out


def test_the_supervise_bench_shows_its_figures(pyz, tmp_path):
    out = run_quick("bench_supervise.py", pyz, tmp_path)
    for line in ("stdout (inherited): exec", "stderr (through the launcher): exec", "launcher while supervising: RSS"):
        assert line in out, out


def test_the_code_from_s3_bench_shows_every_budget(pyz, tmp_path):
    # Without .venv-toolkit (made by a full run, with pip) the toolkit's side is skipped, and says so.
    out = run_quick("bench_fetch.py", pyz, tmp_path)
    assert "time to the program's first line: sm-train" in out, out
    assert "8 MB object: sm-train" in out and "(budget at least" in out, out
    assert "peak RSS while downloading" in out and "(budget 30 MB)" in out, out


def test_the_s3_channels_bench_shows_every_budget(pyz, tmp_path):
    out = run_quick("bench_channels.py", pyz, tmp_path)
    for line in ("50 objects of 10 KB: sm-train", "one object of 8 MB: sm-train", "(budget at least 1.0x)",
                 "50 objects of 10 KB again, with the cache: 0 GetObject requests", "peak RSS while downloading",
                 "(budget 40 MB)",
                 "local --job, its cache warm (50 objects of 10 KB), time to the program's first line:",
                 "(budget at most +0.3 s)", "local --job, its cache warm: 0 GetObject requests   (budget 0)"):
        assert line in out, out


def test_the_intermediate_output_bench_uploads_every_file(pyz, tmp_path):
    out = run_quick("bench_intermediate.py", pyz, tmp_path)
    for line in ("start-up to the program:", "idle 0.5 s, inotify:", "idle 0.5 s, polling 1 s:",
                 "+ 20 files of 100 B:", "+ one 1 MiB file:", "whole job:", "objects uploaded: 42 of 42"):
        assert line in out, out


@pytest.mark.skipif(shutil.which("valgrind") is None,
                    reason="needs valgrind on PATH (apt-get install valgrind; .ci/run installs it)")
def test_the_instruction_counter_counts_under_callgrind(pyz, tmp_path):
    out = run_quick("bench_instructions.py", pyz, tmp_path)
    assert "launch, SDK json.dumps values" in out, out
    assert "then the program's own start" in out, out
    assert any(line.startswith("bench-instructions: ") for line in out.splitlines()), out

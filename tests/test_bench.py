"""`make bench`'s start-up figures (tests/bench/bench.py), run once with one round: every figure is shown with
its budget, the status says whether one is over, and nothing is left in the temporary folder. Nothing is timed
here: the figures themselves are the benchmark's business."""

import os
import subprocess
import sys

from conftest import clean_env

import build_pyz


def test_bench_shows_every_budget_and_leaves_nothing_behind(pyz, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    bench = os.path.join(build_pyz.ROOT, "tests", "bench", "bench.py")
    result = subprocess.run([sys.executable, bench, pyz, "--runs", "1", "--python", sys.executable],
                            env=clean_env(TMPDIR=str(scratch)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    out = result.stdout.decode()
    figures = [line for line in out.splitlines() if line.rstrip().endswith((" ok", " OVER"))]
    assert len(figures) == 4 + 3 + 2, out  # per Python: 2 trees x (launch, --print-env); scaling; size, RSS
    assert all(" budget " in line for line in figures)
    over = [line for line in figures if line.rstrip().endswith("OVER")]
    assert result.returncode == (1 if over else 0), out
    if over:
        assert "figures over budget:" in out
    assert os.listdir(str(scratch)) == []

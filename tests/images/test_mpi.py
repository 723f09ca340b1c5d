"""The README's MPI image and its SDK snippet: Open MPI across two containers, each with its own sshd, started
by the SDK's local mode with distribution={"mpi": ...}; both containers carry the master's outcome."""

import os
import shutil

from conftest import PROGRAMS, exit_codes, model_files, run_sdk, sdk_snippet

MARKER = "from sagemaker.pytorch import PyTorch"


def workdir(tmp_path, fail_rank=None):
    os.makedirs(str(tmp_path / "src"))
    shutil.copy(os.path.join(PROGRAMS, "mpi_train.py"), str(tmp_path / "src" / "train.py"))
    if fail_rank is not None:
        (tmp_path / "src" / "fail_rank").write_text(str(fail_rank))
    return str(tmp_path)


def test_four_ranks_across_two_hosts(mpi_image, tmp_path):
    work = workdir(tmp_path)
    status, out = run_sdk(sdk_snippet(MARKER, mpi_image, "my-mpi-image"), work)
    assert status == 0, out[-8000:]
    result = model_files(work)["mpi.json"]
    assert result["size"] == 4
    assert result["sum"] == 1 + 2 + 3 + 4
    ranks = result["ranks"]
    assert sorted(r["rank"] for r in ranks) == [0, 1, 2, 3]
    per_container = {}
    for r in ranks:
        per_container.setdefault(r["hostname"], []).append(r["local_rank"])
    assert sorted(sorted(v) for v in per_container.values()) == [["0", "1"], ["0", "1"]], ranks
    codes = exit_codes()
    assert sorted(codes.values()) == [0, 0], codes


def test_a_failing_rank_fails_both_containers(mpi_image, tmp_path):
    work = workdir(tmp_path, fail_rank=3)
    status, out = run_sdk(sdk_snippet(MARKER, mpi_image, "my-mpi-image"), work)
    assert status != 0, out[-8000:]
    codes = exit_codes()
    assert len(codes) == 2 and 0 not in codes.values(), codes

"""The README's MPI image and its SDK snippet: Open MPI across two containers, each with its own sshd, started
by the SDK's local mode with distribution={"mpi": ...}; both containers carry the master's outcome."""

import os
import shutil

from .harness import PROGRAMS, exit_codes, model_files, run_sdk, sdk_snippet

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
    for r in ranks:  # containers by their own host name (the container id): two ranks in each
        per_container.setdefault(r["hostname"], []).append((r["current_host"], r["local_rank"]))
    assert sorted(sorted(v) for v in per_container.values()) == [[(h, "0"), (h, "1")] for h in result["hosts"]], \
        ranks  # and each rank's CURRENT_HOST is its own container's SageMaker name
    codes = exit_codes()
    assert sorted(codes.values()) == [0, 0], codes


def test_a_failing_rank_fails_both_containers(mpi_image, tmp_path):
    work = workdir(tmp_path, fail_rank=3)
    status, out = run_sdk(sdk_snippet(MARKER, mpi_image, "my-mpi-image"), work)
    assert status != 0, out[-8000:]
    codes = exit_codes()  # the worker ends with the master's outcome: the same status
    assert len(codes) == 2 and len(set(codes.values())) == 1 and 0 not in codes.values(), codes

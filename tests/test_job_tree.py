"""The job tree a start is given, through the built pyz: no base dir at all says where to look, a tree kept by
`local` for several hosts points at algo-1's, a code dir alone is a job. A real start creates the folders
SageMaker always provides (model/, output/, output/data/, input/data/CHANNEL/) when the tree lacks them; a dry
run and a start without a base dir create nothing."""

import os
import shutil

from conftest import clean_env, make_tree, one_error, run_pyz

import build_pyz

PROGRAM = {"sagemaker_program": '"train.py"'}
RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
TRAIN = {"train.py": "print('ran')\n"}
# Writes where SageMaker's folders are, as a program does that trusts them to exist.
WRITES = """import os
for name in ("SM_MODEL_DIR", "SM_OUTPUT_DATA_DIR", "SM_CHANNEL_TRAINING", "SM_CHANNEL_EVAL"):
    with open(os.path.join(os.environ[name], "mark"), "w") as f:
        f.write(name)
print("ran")
"""


def snapshot(root):
    """Every folder and file under ``root``, relative to it."""
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


def test_no_base_dir_says_where_to_look(pyz, tmp_path):
    missing = str(tmp_path / "opt" / "ml")
    for args in ([], ["--print-env"]):
        line, stderr = one_error(run_pyz(pyz, "--root", missing, *args), 1)
        assert "%s does not exist" % missing in line
        assert "--root DIR" in line and "DIR/algo-1" in line and "sm-train.pyz local" in line
        assert "not found; using" not in stderr and "entry point" not in stderr
    assert not os.path.exists(missing)


def test_kept_multi_host_tree_points_at_algo_1(pyz, tmp_path):
    kept = tmp_path / "tree"
    for host in ("algo-1", "algo-2"):
        make_tree(kept / host, PROGRAM, {}, dict(RC, current_host=host, hosts=["algo-1", "algo-2"]), TRAIN)
    line, _ = one_error(run_pyz(pyz, "--root", str(kept)), 1)
    assert "holds neither input/config/*.json nor code/" in line
    assert line.endswith("give --root %s" % (kept / "algo-1"))
    assert sorted(os.listdir(str(kept))) == ["algo-1", "algo-2"]  # no output/failure written into the user's dir


def test_a_tree_with_only_a_code_dir_is_a_job(pyz, tmp_path):
    root = str(tmp_path / "ml")
    make_tree(root, code=TRAIN)
    result = run_pyz(pyz, "--root", root, "--print-env", env=clean_env(SAGEMAKER_PROGRAM="train.py"))
    assert result.returncode == 0, result.stderr.decode()


def test_the_example_job_runs_from_a_clean_checkout(pyz, tmp_path):
    root = str(tmp_path / "job")
    shutil.copytree(os.path.join(build_pyz.ROOT, "examples", "job"), root)
    assert not os.path.exists(os.path.join(root, "model"))  # as a checkout has it
    result = run_pyz(pyz, "--root", root)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert "Traceback" not in result.stderr.decode()
    assert os.path.isfile(os.path.join(root, "model", "model.json"))
    assert os.path.isdir(os.path.join(root, "output", "data"))


def test_each_missing_folder_is_created_with_a_debug_line(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", {"sagemaker_program": '"train.py"', "sagemaker_container_log_level": "10"},
                     {"training": {}, "eval": {}}, RC, {"train.py": WRITES})
    os.makedirs(os.path.join(root, "input", "data", "eval"))  # present: left alone, not logged
    result = run_pyz(pyz, "--root", root)
    stderr = result.stderr.decode()
    assert result.returncode == 0 and result.stdout == b"ran\n", stderr
    created = [line.split(" DEBUG    created ", 1)[1] for line in stderr.splitlines() if " DEBUG    created " in line]
    expected = ["model", "output", os.path.join("output", "data"), os.path.join("input", "data", "training")]
    assert created == ["%s, which SageMaker provides" % os.path.join(root, p) for p in expected], stderr
    for path in expected:
        assert os.path.isdir(os.path.join(root, path))
    # a second start finds them all: nothing to create, nothing logged
    again = run_pyz(pyz, "--root", root)
    assert again.returncode == 0 and " DEBUG    created " not in again.stderr.decode()


def test_supervised_start_creates_them_too(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", {"sagemaker_program": '"train.py"'}, {"training": {}, "eval": {}}, RC,
                     {"train.py": WRITES})
    result = run_pyz(pyz, "--root", root, "--supervise")
    assert result.returncode == 0, result.stderr.decode()
    assert os.path.isfile(os.path.join(root, "model", "mark"))
    assert os.path.isfile(os.path.join(root, "output", "success"))


def test_a_dry_run_creates_nothing(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", {"sagemaker_program": '"train.py"'}, {"training": {}}, RC,
                     {"train.py": WRITES})
    before = snapshot(root)
    result = run_pyz(pyz, "--root", root, "--print-env")
    assert result.returncode == 0, result.stderr.decode()
    assert snapshot(root) == before


def test_no_base_dir_no_folders(pyz, tmp_path):
    missing = tmp_path / "nothing" / "ml"
    result = run_pyz(pyz, "--root", str(missing), "--", "true")
    assert result.returncode == 0, result.stderr.decode()
    assert not os.path.exists(str(tmp_path / "nothing"))


def test_a_channel_name_that_leaves_input_data_gets_no_folder(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", {}, {"../../../escaped": {}, "..": {}}, RC)
    result = run_pyz(pyz, "--root", root, "--", "true")
    assert result.returncode == 0, result.stderr.decode()
    assert os.listdir(str(tmp_path)) == ["ml"]
    assert not os.path.exists(os.path.join(root, "input", "data"))


def test_a_folder_that_cannot_be_made_is_a_warning(pyz, tmp_path):
    root = make_tree(tmp_path / "ml", {"sagemaker_program": '"train.py"'}, {}, RC, {"train.py": "print('ran')\n"})
    with open(os.path.join(root, "model"), "w") as f:
        f.write("a file where model/ belongs")
    result = run_pyz(pyz, "--root", root)
    stderr = result.stderr.decode()
    assert result.returncode == 0 and result.stdout == b"ran\n", stderr
    warnings = [line for line in stderr.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and "could not create %s: " % os.path.join(root, "model") in warnings[0], stderr
    assert "Traceback" not in stderr

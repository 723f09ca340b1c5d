"""What a start imports, measured with -X importtime on the built pyz: a real start imports no slow module and
runs build_pyz.START's modules from the bytecode file without the import system, a dry run inflates nothing,
and START is exactly what a plain start imports, dependencies first."""

import subprocess
import sys

import pytest
from conftest import clean_env, make_tree

import build_pyz

RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
TRAIN = {"train.py": "print('ran')\n"}

# The generic Estimator writes str(value), framework estimators json.dumps(value).
STR_VALUES = {"sagemaker_program": "train.py", "optimizer": "adam", "use_amp": "True", "schedule": "None",
              "layers": "[64, 32]", "classes": "['cat', 'dog']", "extra": "{'warmup': 5}", "lr": "0.001"}
JSON_VALUES = {"sagemaker_program": '"train.py"', "optimizer": '"adam"', "use_amp": "true", "layers": "[64, 32]",
               "classes": '["cat", "dog"]', "extra": '{"warmup": 5}', "lr": "0.001"}
SLOW_MODULES = {"json", "re", "enum", "argparse", "subprocess", "socket", "ssl", "urllib", "tarfile", "signal",
                "errno"}  # errno: 80 us to build its table of names, imported only where an error needs it


@pytest.mark.parametrize("hps", [STR_VALUES, JSON_VALUES], ids=["str", "json.dumps"])
def test_a_real_start_imports_no_slow_module(pyz, tmp_path, hps):
    root = make_tree(tmp_path / "ml", hps, {"training": {}}, RC, TRAIN)
    result = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", pyz, "--root", root],
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0 and result.stdout == b"ran\n", result.stderr.decode()
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.decode().splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "_json" in imported  # the lines were read
    assert not SLOW_MODULES & imported, SLOW_MODULES & imported
    # __main__.py ran START's modules itself (none went through the import system), and nothing was inflated
    assert not {name for name in imported if name.split(".")[0] == "launcher"}, sorted(imported)
    assert "zlib" not in imported


def test_a_dry_run_inflates_nothing_either(pyz, tmp_path):
    """--print-env imports build_pyz.DRY besides START, from code objects stored as they are: no zlib."""
    root = make_tree(tmp_path / "ml", JSON_VALUES, {"training": {}}, RC, TRAIN)
    result = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", pyz, "--root", root, "--print-env"],
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0 and b"export SM_HPS=" in result.stdout, result.stderr.decode()
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.decode().splitlines()
                if line.startswith("import time:") and "|" in line}
    assert {name for name in imported if name.split(".")[0] == "launcher"} == set(build_pyz.DRY), sorted(imported)
    assert "zlib" not in imported and not SLOW_MODULES & imported, sorted(imported)


# A plain start from the sources, its exec replaced by a report of the launcher's modules it imported.
IMPORTED = """
import os, sys
sys.path.insert(0, sys.argv[1])
from launcher import cli
def report(*args):
    print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] == "launcher")), flush=True)
    os._exit(0)
os.execvpe = report
cli.main(["train", "--root", sys.argv[2]])
"""


@pytest.mark.parametrize("hps", [STR_VALUES, JSON_VALUES], ids=["str", "json.dumps"])
def test_the_modules_run_at_start_are_those_a_plain_start_imports(tmp_path, hps):
    root = make_tree(tmp_path / "ml", hps, {"training": {}}, RC, TRAIN)
    result = subprocess.run([sys.executable, "-I", "-c", IMPORTED, build_pyz.ROOT, root], env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode()
    imported = result.stdout.decode().split()
    assert imported == sorted(build_pyz.START), "build_pyz.START must list, dependencies first: %s" % imported

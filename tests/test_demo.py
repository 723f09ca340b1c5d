"""`make demo` (examples/demo.py) through the built pyz: both runs succeed, nothing is left in the temporary
folder, and the model paths it prints are in demo/ of the checkout, which git ignores."""

import os
import shutil
import subprocess
import sys

from conftest import clean_env

import build_pyz


def test_demo_leaves_nothing_behind(pyz, tmp_path):
    """Nothing in the temporary folder; its result in demo/ of the checkout (here a copy), which git ignores,
    where the printed model paths are still there to look at."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    checkout = tmp_path / "checkout"
    shutil.copytree(os.path.join(build_pyz.ROOT, "examples"), str(checkout / "examples"))
    for _ in range(2):  # the second run replaces the first one's demo/
        result = subprocess.run([sys.executable, str(checkout / "examples" / "demo.py"), pyz],
                                env=clean_env(TMPDIR=str(scratch)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert result.returncode == 0, result.stdout.decode()[-3000:]
        assert b"demo: local exit status 0" in result.stdout
        assert os.listdir(str(scratch)) == []
        models = [line.split("the model is in ", 1)[1] for line in result.stdout.decode().splitlines()
                  if line.startswith("demo: ") and "the model is in " in line]
        assert len(models) == 2, result.stdout.decode()
        for model in models:
            assert model.startswith(str(checkout / "demo") + os.sep) and os.path.isfile(model), model
    assert sorted(os.listdir(str(checkout))) == ["demo", "examples"]
    with open(os.path.join(build_pyz.ROOT, ".gitignore")) as f:
        assert "/demo/" in f.read().splitlines()

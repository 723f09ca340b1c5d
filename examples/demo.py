"""`make demo`: run the example job through the built pyz on a fresh copy of examples/job.

Usage: python3 examples/demo.py dist/sm-train.pyz
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    pyz = os.path.abspath(sys.argv[1])
    root = os.path.join(tempfile.mkdtemp(prefix="sm-train-demo-"), "opt", "ml")
    shutil.copytree(os.path.join(HERE, "job"), root)
    for folder in ("model", "output"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    print("demo: running examples/job from %s through %s" % (root, pyz), flush=True)
    status = subprocess.call([sys.executable, pyz, "train", "--root", root])
    model = os.path.join(root, "model", "model.json")
    if status != 0 or not os.path.exists(model):
        print("demo: FAILED with exit status %d" % status)
        return status or 1
    print("demo: exit status 0; the model is in %s" % model)
    return 0


if __name__ == "__main__":
    sys.exit(main())

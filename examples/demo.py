"""`make demo`: run the example job through the built pyz on a fresh copy of examples/job, then through
`sm-train.pyz local`; both in one temporary directory, removed at the end.

Usage: python3 examples/demo.py dist/sm-train.pyz
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    pyz = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="sm-train-demo-") as work:
        return demo(pyz, work)


def show_model(path):
    with open(path) as f:
        print("demo: model.json: %s" % json.dumps(json.load(f))[:200])


def demo(pyz, work):
    root = os.path.join(work, "opt", "ml")
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
    show_model(model)
    return local_demo(pyz, work)


def local_demo(pyz, work):
    """The same job through `sm-train.pyz local`: from the code and data dirs, no /opt/ml tree written by hand."""
    job = os.path.join(HERE, "job")
    keep = os.path.join(work, "local")
    print("demo: the same job through `sm-train.pyz local`, laid out in %s" % keep, flush=True)
    status = subprocess.call([sys.executable, pyz, "local", "--code", os.path.join(job, "code"),
                              "--program", "train.py", "--channel",
                              "training=" + os.path.join(job, "input", "data", "training"),
                              "--hp", "epochs=500", "--hp", "learning-rate=0.05", "--keep", keep])
    model = os.path.join(keep, "model", "model.json")
    if status != 0 or not os.path.exists(model):
        print("demo: local FAILED with exit status %d" % status)
        return status or 1
    print("demo: local exit status 0; the model is in %s" % model)
    show_model(model)
    print("demo: removing %s" % work)
    return 0


if __name__ == "__main__":
    sys.exit(main())

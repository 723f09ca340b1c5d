"""`make demo`: run the example job through the built pyz on a copy of examples/job, then through
`sm-train.pyz local`. Both results stay in demo/ of the checkout (git ignores it), replaced at each run, so
that the paths printed are there to look at; nothing is written anywhere else.

Usage: python3 examples/demo.py dist/sm-train.pyz
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(os.path.dirname(HERE), "demo")


def main():
    pyz = os.path.abspath(sys.argv[1])
    if os.path.lexists(DEMO):
        print("demo: replacing the previous run's %s" % DEMO)
        if os.path.isdir(DEMO) and not os.path.islink(DEMO):
            shutil.rmtree(DEMO)
        else:
            os.remove(DEMO)
    os.makedirs(DEMO)
    return demo(pyz, DEMO)


def show_model(path):
    with open(path) as f:
        print("demo: model.json: %s" % json.dumps(json.load(f))[:200])


def demo(pyz, work):
    # As the checkout has it: no model/ or output/, which the launcher creates as SageMaker provides them.
    root = os.path.join(work, "job")
    shutil.copytree(os.path.join(HERE, "job"), root)
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
    print("demo: both runs are kept in %s (git ignores it; `make clean` or the next `make demo` removes it)" % work)
    return 0


if __name__ == "__main__":
    sys.exit(main())

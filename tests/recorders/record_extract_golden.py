"""Record what sagemaker-training 5.1.4 does with each source bundle of tests/support/bundles.py, and with each
local form of sagemaker_submit_directory: its log records, the tree it leaves in the code dir, anything written
outside it, and the error it raises. Written to tests/golden_extract/<case>.json; the tests never import the toolkit.

Usage: /path/to/venv-with-sagemaker-training-5.1.4/bin/python tests/recorders/record_extract_golden.py
(run as root, as a training container runs, with umask 022; the recording notes the Python version, since
the toolkit adds the standard library's tarfile data filter where the interpreter has one).
"""

import json
import logging
import os
import shutil
import sys
import tempfile

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "support"))

import bundles  # noqa: E402

GOLDEN = os.path.join(TESTS, "golden_extract")

# The local forms: (case, what the submit directory names, relative to the scratch dir, and how to set it up).
FORMS = ["dir_copy", "dir_is_code_dir", "single_file", "plain_tar", "missing_path", "code_dir_not_empty"]


class Records(logging.Handler):
    def __init__(self):
        logging.Handler.__init__(self, logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append([record.levelname, record.getMessage()])


def scratch():
    top = tempfile.mkdtemp(prefix="extract-golden-")
    os.makedirs(os.path.join(top, "src"))
    return top, os.path.join(top, "opt", "ml", "code")


def prepare_form(name, top, code):
    """The submit directory for form ``name``, relative to ``top`` where it is a path the case creates."""
    src = os.path.join(top, "src")
    if name == "dir_copy":
        os.makedirs(os.path.join(src, "dir", "pkg"))
        for rel, text in (("train.py", bundles.PY), ("pkg/m.py", "x = 1\n")):
            with open(os.path.join(src, "dir", rel), "w") as f:
                f.write(text)
        return os.path.join(src, "dir")
    if name == "dir_is_code_dir":
        return code
    if name == "single_file":
        with open(os.path.join(src, "train.py"), "w") as f:
            f.write(bundles.PY)
        return os.path.join(src, "train.py")
    if name == "plain_tar":
        import io
        import tarfile

        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            info = tarfile.TarInfo("train.py")
            data = bundles.PY.encode()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        with open(os.path.join(src, "plain.tar"), "wb") as f:
            f.write(raw.getvalue())
        return os.path.join(src, "plain.tar")
    if name == "missing_path":
        return os.path.join(src, "nowhere", "sourcedir.tar.gz")
    if name == "code_dir_not_empty":
        os.makedirs(code)
        with open(os.path.join(code, "baked.py"), "w") as f:
            f.write(bundles.PY)
        with open(os.path.join(src, "b.tar.gz"), "wb") as f:
            f.write(bundles.build(bundles.CASES["sdk_layout"]))
        return os.path.join(src, "b.tar.gz")
    raise ValueError(name)


def record(name, members=None):
    from sagemaker_training import files

    top, code = scratch()
    try:
        if members is not None:
            uri = os.path.join(top, "src", "sourcedir.tar.gz")
            with open(uri, "wb") as f:
                f.write(bundles.build(members))
        else:
            uri = prepare_form(name, top, code)
        handler = Records()
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        error = None
        try:
            files.download_and_extract(uri, code)
        except Exception as e:  # what the toolkit raises is part of the recording
            error = "%s: %s" % (type(e).__name__, e)
        finally:
            logging.getLogger().removeHandler(handler)

        def shown(text):
            return text.replace(top, "<top>")

        outside = {rel: v for rel, v in bundles.snapshot(top).items()
                   if not (rel == "src" or rel.startswith("src/") or rel in ("opt", "opt/ml", "opt/ml/code")
                           or rel.startswith("opt/ml/code/"))}
        result = {
            "python": "%d.%d.%d" % sys.version_info[:3],
            "members": members,
            "uri": shown(uri),
            "log": [[level, shown(message)] for level, message in handler.lines],
            "error": None if error is None else shown(error),
            "tree": bundles.snapshot(code) if os.path.isdir(code) else None,
            "outside": outside,
        }
    finally:
        shutil.rmtree(top)
    with open(os.path.join(GOLDEN, name + ".json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    print("%-20s %d log lines, error %s" % (name, len(result["log"]), result["error"]))


def main():
    os.umask(0o022)
    os.makedirs(GOLDEN, exist_ok=True)
    for name, members in sorted(bundles.CASES.items()):
        record(name, members)
    for name in FORMS:
        record(name)


if __name__ == "__main__":
    main()

"""sagemaker_submit_directory's local forms and hostile bundles, through the built pyz as a real start, against
what sagemaker-training 5.1.4 did with the same bytes (tests/golden_extract/, tests/recorders/record_extract_golden.py):
the same log records, the same tree in the code dir, nothing written outside it."""

import json
import os
import re
import subprocess
import sys

import bundles
import pytest
import pythons
import record_extract_golden as recorder

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_extract")
CASES = sorted(name[:-5] for name in os.listdir(GOLDEN))
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} sm-train (\w+) +(.*)$")
RC = {"current_host": "algo-1", "hosts": ["algo-1"]}
# What sm-train does where the toolkit fails, for the README's differences: the case, then the one error line.
ERRORS = {
    "plain_tar": "cannot be extracted: not a gzip-compressed tar",
    "missing_path": "no such file or directory",
}


def golden(name):
    with open(os.path.join(GOLDEN, name + ".json")) as f:
        return json.load(f)


def write_job(top, uri, program="train.py"):
    """The job tree under ``top``/opt/ml whose sagemaker_submit_directory is ``uri``; its base dir."""
    base = os.path.join(top, "opt", "ml")
    os.makedirs(os.path.join(base, "input", "config"), exist_ok=True)
    config = {"hyperparameters.json": {"sagemaker_program": json.dumps(program),
                                       "sagemaker_submit_directory": json.dumps(uri)},
              "inputdataconfig.json": {}, "resourceconfig.json": RC}
    for name, value in config.items():
        with open(os.path.join(base, "input", "config", name), "w") as f:
            json.dump(value, f)
    return base


def start(pyz, top, uri, python=sys.executable, program="train.py"):
    """A real start of a job whose sagemaker_submit_directory is ``uri``; (status, log records, stderr)."""
    base = write_job(top, uri, program)
    env = {"PATH": os.environ["PATH"], "HOME": os.path.dirname(top), "PIP_NO_INDEX": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"}
    proc = subprocess.run([python, pyz, "--root", base], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    err = proc.stderr.decode("utf-8", "replace") + proc.stdout.decode("utf-8", "replace")
    records = []
    for line in err.splitlines():
        match = RECORD.match(line)
        if match and (match.group(1) == "WARNING" or match.group(2).startswith("Provided path")):
            records.append([match.group(1), match.group(2).replace(top, "<top>")])
    return proc.returncode, records, err


def outside(top):
    return {rel: v for rel, v in bundles.snapshot(top).items()
            if not (rel == "src" or rel.startswith("src/") or rel.startswith("opt"))}


@pytest.mark.parametrize("name", CASES)
def test_sm_train_does_what_the_toolkit_did(pyz, tmp_path, name):
    expected = golden(name)
    top = str(tmp_path)
    os.umask(0o022)
    os.makedirs(os.path.join(top, "src"))
    code = os.path.join(top, "opt", "ml", "code")
    if expected["members"] is not None:
        uri = os.path.join(top, "src", "sourcedir.tar.gz")
        with open(uri, "wb") as f:
            f.write(bundles.build(expected["members"]))
    else:
        uri = recorder.prepare_form(name, top, code)
    status, records, err = start(pyz, top, uri)
    assert records == expected["log"], err
    tree = bundles.snapshot(code)
    if expected["error"] is None:
        assert tree == expected["tree"]
        assert "Traceback" not in err
    else:
        assert status == 1, err
        assert tree == {}, "a failed fetch leaves the code dir empty"
        errors = [line for line in err.splitlines() if " sm-train ERROR " in line]
        assert len(errors) == 1 and ERRORS[name] in errors[0], err
        with open(os.path.join(top, "opt", "ml", "output", "failure")) as f:
            assert ERRORS[name] in f.read()
    assert outside(top) == {} == expected["outside"]
    if expected["error"] is None and "train.py" in (expected["tree"] or {}):
        assert status == 0 and "hello from the bundle" in err, err


@pytest.mark.parametrize("python", ["3.7", "3.13"])
def test_every_python_extracts_the_same(pyz, tmp_path, python):
    """The toolkit's rules, including the data filter's, hold where the interpreter's tarfile has no filter."""
    exe = pythons.interpreter(python)
    if exe is None:
        pytest.skip(pythons.missing_reason(python))
    for name in ("links", "modes", "traversal"):
        top = os.path.join(str(tmp_path), python, name)
        os.makedirs(os.path.join(top, "src"))
        uri = os.path.join(top, "src", "sourcedir.tar.gz")
        with open(uri, "wb") as f:
            f.write(bundles.build(golden(name)["members"]))
        status, records, err = start(pyz, top, uri, python=exe)
        assert records == golden(name)["log"], err
        assert bundles.snapshot(os.path.join(top, "opt", "ml", "code")) == golden(name)["tree"]
        assert status == 0, err


def test_absolute_link_inside_the_code_dir_is_skipped_not_fatal(pyz, tmp_path):
    """The toolkit's data filter fails the whole job on an absolute link even when it points inside; sm-train
    skips that member with a warning in the toolkit's words and runs the job."""
    top = str(tmp_path)
    code = os.path.join(top, "opt", "ml", "code")
    uri = os.path.join(top, "bundle.tar.gz")
    members = [bundles.m("train.py", data=bundles.PY), bundles.m("abs", "symlink", link=code + "/train.py")]
    with open(uri, "wb") as f:
        f.write(bundles.build(members))
    status, records, err = start(pyz, top, uri)
    assert status == 0, err
    assert ["WARNING", "Skipping archive member 'abs': link target '<top>/opt/ml/code/train.py' is an absolute "
            "path."] in records
    assert sorted(os.listdir(code)) == ["train.py"]


def test_a_program_missing_from_the_bundle_is_named_with_the_bundle(pyz, tmp_path):
    top = str(tmp_path)
    uri = os.path.join(top, "bundle.tar.gz")
    with open(uri, "wb") as f:
        f.write(bundles.build([bundles.m("other.py", data="\n")]))
    status, records, err = start(pyz, top, uri)
    assert status == 127
    assert "training entry point 'train.py' not found" in err and "in the code fetched from %s" % uri in err


def test_print_env_shows_the_fetch_and_changes_nothing(pyz, tmp_path):
    top = str(tmp_path)
    uri = os.path.join(top, "bundle.tar.gz")
    with open(uri, "wb") as f:
        f.write(bundles.build(bundles.CASES["sdk_layout"]))
    base = write_job(top, uri, program="arrives-with-the-bundle.py")
    before = bundles.snapshot(top)
    env = {"PATH": os.environ["PATH"], "HOME": top}
    for fmt in ("shell", "json"):
        proc = subprocess.run([sys.executable, pyz, "--root", base, "--print-env", "--format", fmt], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.decode()
        if fmt == "json":
            assert json.loads(out)["fetch"] == {"from": uri, "into": os.path.join(base, "code")}
        else:
            assert "# before: fetch %s into %s" % (json.dumps(uri), json.dumps(os.path.join(base, "code"))) in out
    assert bundles.snapshot(top) == before


def test_a_directory_that_cannot_be_copied_leaves_the_code_dir_empty(pyz, tmp_path):
    top = str(tmp_path)
    source = os.path.join(top, "src")
    os.makedirs(source)
    with open(os.path.join(source, "train.py"), "w") as f:
        f.write(bundles.PY)
    os.symlink(os.path.join(top, "nowhere"), os.path.join(source, "dangling"))  # copytree follows links: fails
    status, records, err = start(pyz, top, source)
    assert status == 1, err
    errors = [line for line in err.splitlines() if " sm-train ERROR " in line]
    assert len(errors) == 1 and "sagemaker_submit_directory %s: cannot be copied" % source in errors[0], err
    assert os.listdir(os.path.join(top, "opt", "ml", "code")) == []


def test_a_code_dir_that_is_a_mount_point_gets_the_bundle(pyz, tmp_path):
    """docker run -v ...:/opt/ml/code: the bundle is staged on the code dir's own filesystem, so it moves in."""
    import shutil

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to mount a filesystem of its own on the code dir")
    top = str(tmp_path)
    uri = os.path.join(top, "bundle.tar.gz")
    with open(uri, "wb") as f:
        f.write(bundles.build(bundles.CASES["sdk_layout"]))
    base = write_job(top, uri)
    code = os.path.join(base, "code")
    os.makedirs(code)
    listing = os.path.join(top, "listing")
    script = 'mount -t tmpfs tmpfs "$1" && "$2" "$3" --root "$4" && ls -A "$1" > "$5"'
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", code,
                           sys.executable, pyz, base, listing], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60,
                          env={"PATH": os.environ["PATH"], "PIP_NO_INDEX": "1", "PIP_NO_CACHE_DIR": "1",
                               "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if b"mount:" in proc.stderr and b"permission denied" in proc.stderr.lower():
        pytest.skip("this machine does not allow mounting: %s" % proc.stderr.decode().strip())
    assert proc.returncode == 0, proc.stderr.decode()
    with open(listing) as f:
        assert f.read().split() == sorted(golden("sdk_layout")["tree"].keys() - {"pkg/__init__.py", "pkg/model.py"})

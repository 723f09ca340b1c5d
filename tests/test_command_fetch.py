"""`-- PROGRAM` with sagemaker_submit_directory set: the code is fetched into the empty code dir first, as for the
job's own program, so that the command runs in a code dir that holds it; the fetched requirements.txt is
installed; --print-env shows the fetch and changes nothing; a code dir that is not empty is used as it is.
Through the built pyz, with a local directory and a local gzip tar as sagemaker_submit_directory."""

import io
import json
import os
import sys
import tarfile

import pytest
from conftest import clean_env, run_pyz

# The command's own file, which exists only in the fetched code: it reports where it ran and what it saw.
REPORT = "import json, os\nprint(json.dumps({'cwd': os.getcwd(), 'files': sorted(os.listdir('.'))}))\n"
SCRIPT = "#!/bin/sh\necho \"ran in $(pwd)\"\n"
FILES = {"report.py": REPORT, "bin/run.sh": SCRIPT, "requirements.txt": "# nothing to install\n"}


def source(tmp_path, form):
    """sagemaker_submit_directory holding FILES: a local directory, or a local gzip tar."""
    if form == "dir":
        top = tmp_path / "src"
        for name, text in FILES.items():
            (top / name).parent.mkdir(parents=True, exist_ok=True)
            (top / name).write_text(text)
            (top / name).chmod(0o755 if text.startswith("#!") else 0o644)
        return str(top)
    path = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(str(path), "w:gz") as tar:
        for name, text in sorted(FILES.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755 if text.startswith("#!") else 0o644
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def tree(tmp_path, uri):
    base = tmp_path / "ml"
    (base / "input" / "config").mkdir(parents=True)
    (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(
        {"sagemaker_submit_directory": json.dumps(uri), "sagemaker_program": json.dumps("train.py")}))
    return str(base)


ENV = dict(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")


@pytest.mark.parametrize("form", ["dir", "tar"])
def test_a_command_runs_in_the_code_fetched_for_it(pyz, tmp_path, form):
    base = tree(tmp_path, source(tmp_path, form))
    code = os.path.join(base, "code")
    result = run_pyz(pyz, "--root", base, "--", sys.executable, "report.py", env=clean_env(**ENV), timeout=120)
    err = result.stderr.decode()
    assert result.returncode == 0, err
    seen = json.loads(result.stdout.decode().splitlines()[-1])
    assert seen == {"cwd": code, "files": ["bin", "report.py", "requirements.txt"]}
    assert "Provided path: %s  is empty, unzipping" % code in err
    assert "Installing dependencies: %s -m pip install -r requirements.txt" % sys.executable in err


def test_a_command_inside_the_bundle_is_looked_for_once_it_arrived(pyz, tmp_path):
    base = tree(tmp_path, source(tmp_path, "tar"))
    result = run_pyz(pyz, "--root", base, "--", "bin/run.sh", env=clean_env(**ENV), timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines()[-1] == "ran in %s" % os.path.join(base, "code")  # after pip's lines


def test_the_dry_run_shows_the_fetch_and_changes_nothing(pyz, tmp_path):
    uri = source(tmp_path, "tar")
    base = tree(tmp_path, uri)
    result = run_pyz(pyz, "--root", base, "--print-env", "--format", "json", "--", "bin/run.sh")
    assert result.returncode == 0, result.stderr.decode()
    shown = json.loads(result.stdout.decode())
    code = os.path.join(base, "code")
    assert shown["error"] is None and shown["argv"] == ["bin/run.sh"] and shown["cwd"] == code
    assert shown["fetch"] == {"from": uri, "into": code}
    assert not os.path.exists(code)


def test_a_code_dir_that_is_not_empty_is_used_as_it_is(pyz, tmp_path):
    base = tree(tmp_path, source(tmp_path, "dir"))
    code = os.path.join(base, "code")
    os.makedirs(code)
    with open(os.path.join(code, "report.py"), "w") as f:
        f.write(REPORT)
    result = run_pyz(pyz, "--root", base, "--", sys.executable, "report.py", env=clean_env(**ENV), timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout.decode().splitlines()[-1])["files"] == ["report.py"]
    assert "Provided path: %s is not empty, abandoning unzipping sourcedir.tar.gz" % code in result.stderr.decode()

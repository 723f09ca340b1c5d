"""The package `sm-train` as users get it: one version everywhere, a wheel that installs `sm_train` (never a top-level
`launcher`) with the release's pyz inside, and its console script `sm-train`, installed from the wheel alone
(--no-index) into a clean venv of every Python found, and run by pipx."""

import ast
import json
import marshal
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
import pythons
import release_files
from release_files import ROOT, sdist_name, sha256, version, wheel_name

import build_pyz

JOB = os.path.join(ROOT, "examples", "job")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    return release_files.release(tmp_path_factory)


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


def run(argv, **kwargs):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, **kwargs)


def test_the_version_lives_in_one_place_and_everything_agrees(dist):
    release = version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", release), release
    project = read("pyproject.toml")
    assert 'dynamic = ["version"]' in project and not re.search(r"^version\s*=", project, re.M)
    assert '[tool.hatch.version]\npath = "launcher/__init__.py"' in project
    shown = run([sys.executable, os.path.join(dist, "sm-train.pyz"), "--version"]).stdout.decode()
    assert shown.startswith("sm-train %s (Python " % release), shown
    with zipfile.ZipFile(os.path.join(dist, wheel_name())) as z:
        metadata = z.read("sm_train-%s.dist-info/METADATA" % release).decode()
    assert "\nVersion: %s\n" % release in metadata
    with tarfile.open(os.path.join(dist, sdist_name())) as tar:
        pkg_info = tar.extractfile("sm_train-%s/PKG-INFO" % release).read().decode()
    assert "\nVersion: %s\n" % release in pkg_info
    changelog = re.findall(r"^## (\d+\.\d+\.\d+) - \d{4}-\d\d-\d\d$", read("CHANGELOG.md"), re.M)
    assert changelog[0] == release, "CHANGELOG.md's newest entry is %s, the version %s" % (changelog[0], release)
    readme = read("README.md")
    assert re.findall(r"sm-train==(\d+\.\d+\.\d+)", readme) == [release]  # the multi-stage recipe's pin
    assert re.findall(r"`sm-train (\d+\.\d+\.\d+) \(Python", readme) == [release]  # the --version example


def test_the_changelog_lists_each_version_once_newest_first_down_to_0_1_0():
    text = read("CHANGELOG.md")
    listed = [tuple(map(int, v.split("."))) for v in re.findall(r"^## (\d+\.\d+\.\d+) ", text, re.M)]
    assert listed == sorted(set(listed), reverse=True) and listed[-1] == (0, 1, 0), listed
    assert "Breaking" in text and "SM_*" in text and "argv" in text  # what counts as a breaking change


def test_the_wheel_installs_sm_train_with_the_release_pyz_and_nothing_else(dist):
    with zipfile.ZipFile(os.path.join(dist, wheel_name())) as z:
        names = z.namelist()
        info = "sm_train-%s.dist-info/" % version()
        assert {n.split("/")[0] for n in names} == {"sm_train", info[:-1]}
        assert z.read("sm_train/sm-train.pyz") == open(os.path.join(dist, "sm-train.pyz"), "rb").read()
        entry_points = z.read(info + "entry_points.txt").decode()
        metadata = z.read(info + "METADATA").decode()
    assert "[console_scripts]\nsm-train = sm_train.package:main\n" in entry_points
    assert "Requires-Dist" not in metadata and "\nRequires-Python: >=3.7\n" in metadata
    assert "\nName: sm-train\n" in metadata and "\nLicense-Expression: Apache-2.0\n" in metadata
    assert info + "licenses/LICENSE" in names
    # every module of launcher/ as sm_train, but the zipapp's own start code (launcher/pyz/), which imports
    # `launcher` by that name and would be dead code here
    modules = sorted("sm_train/" + os.path.relpath(p, os.path.join(ROOT, "launcher")).replace(os.sep, "/")
                     for p in python_files() if "/pyz/" not in p.replace(os.sep, "/"))
    assert sorted(n for n in names if n.endswith(".py")) == modules


def python_files():
    found = []
    for folder, dirs, names in os.walk(os.path.join(ROOT, "launcher")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found += [os.path.join(folder, n) for n in names if n.endswith(".py")]
    return sorted(found)


def test_no_module_imports_the_package_by_the_name_launcher():
    """Installed, the package is sm_train: only relative imports work in both. launcher/pyz/ is the pyz's start,
    which the wheel leaves out."""
    wrong = []
    for path in python_files():
        if "%spyz%s" % (os.sep, os.sep) in path:
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                wrong += [(path, node.lineno) for a in node.names if a.name.split(".")[0] == "launcher"]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                wrong += [(path, node.lineno)] if (node.module or "").split(".")[0] == "launcher" else []
        # and no bootstrap in a string that names it (local/main.py names the package as it was imported)
        wrong += [(path, m) for m in re.findall(r"(?:from|import) launcher\b", text)]
    assert not wrong, wrong


def test_the_console_script_is_no_part_of_the_pyz(dist):
    """launcher/package.py is the package's: a start never imports it, and the pyz does not even hold it."""
    assert "launcher.package" not in build_pyz.START + build_pyz.DRY
    with zipfile.ZipFile(os.path.join(dist, "sm-train.pyz")) as z:
        assert not any("package" in name for name in z.namelist())
        modules = marshal.loads(z.read("sources.marshal"))[1]
    assert "launcher.cli" in modules and "launcher.package" not in modules


def venv_with_the_wheel(python, folder, wheel):
    """A clean venv of ``python`` with its own pip, and the wheel installed with no index: its bin folder. Both
    steps get a temporary folder beside it: pip run from ensurepip's wheel leaves a copy of its CA bundle there."""
    scratch = folder + "-tmp"
    os.makedirs(scratch)
    made = run([python, "-m", "venv", folder], env=dict(os.environ, TMPDIR=scratch))
    assert made.returncode == 0, made.stderr.decode()
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", TMPDIR=scratch)
    env.pop("PIP_FIND_LINKS", None)
    bin_dir = os.path.join(folder, "bin")
    installed = run([os.path.join(bin_dir, "python"), "-m", "pip", "install", "--no-index", wheel], env=env)
    assert installed.returncode == 0, installed.stdout.decode() + installed.stderr.decode()
    return bin_dir


@pytest.mark.parametrize("wanted", ["3.%d" % minor for minor in range(7, 14)])
def test_a_clean_venv_installs_the_wheel_with_no_index_and_runs_it(dist, tmp_path, wanted):
    python = pythons.interpreter(wanted)
    if python is None:
        pytest.skip(pythons.missing_reason(wanted))
    bin_dir = venv_with_the_wheel(python, str(tmp_path / "venv"), os.path.join(dist, wheel_name()))
    script = os.path.join(bin_dir, "sm-train")
    shown = run([script, "--version"])
    assert shown.returncode == 0, shown.stderr.decode()
    assert shown.stdout.decode().startswith("sm-train %s (Python %s." % (version(), wanted))
    assert "site-packages%ssm_train" % os.sep in shown.stdout.decode()  # the installed package, not a checkout

    out = str(tmp_path / "out" / "sm-train.pyz")
    os.makedirs(os.path.dirname(out))
    written = run([script, "pyz", "-o", out])
    assert written.returncode == 0, written.stderr.decode()
    digest = sha256(os.path.join(dist, "sm-train.pyz"))
    assert sha256(out) == digest and os.access(out, os.X_OK)
    assert written.stdout.decode() == "wrote %s: %d bytes\n%s  %s\n" % (out, os.path.getsize(out), digest, out)
    assert "%s  sm-train.pyz\n" % digest in open(os.path.join(dist, "SHA256SUMS")).read()

    keep = str(tmp_path / "local")
    ran = run([script, "local", "--code", os.path.join(JOB, "code"), "--program", "train.py", "--channel",
               "training=" + os.path.join(JOB, "input", "data", "training"), "--hp", "epochs=20", "--keep", keep],
              cwd=str(tmp_path))
    assert ran.returncode == 0, ran.stderr.decode()[-3000:]
    with open(os.path.join(keep, "model", "model.json")) as f:
        assert json.load(f)["hyperparameters"] == {"epochs": 20}  # the example's model, fit by the job
    assert "a real run of it: sm-train --root %s" % keep in ran.stderr.decode()

    dry = run([script, "--print-env", "--format", "json", "--root", keep])
    assert dry.returncode == 0, dry.stderr.decode()
    assert json.loads(dry.stdout.decode())["env"]["SM_CHANNEL_TRAINING"] == os.path.join(keep, "input", "data",
                                                                                          "training")


def test_pipx_runs_the_wheel(dist, tmp_path):
    pipx = os.path.join(os.path.dirname(sys.executable), "pipx")
    if not os.path.exists(pipx):
        pytest.skip("no pipx beside %s: `make test` installs requirements-release.txt" % sys.executable)
    home = str(tmp_path / "pipx")
    # No index: the wheel has no dependencies. pipx would upgrade its shared pip from the index first; offline it
    # uses the pip of the Python that runs it.
    env = dict(os.environ, PIPX_HOME=home, PIPX_BIN_DIR=os.path.join(home, "bin"),
               PIPX_MAN_DIR=os.path.join(home, "man"), PIPX_DISABLE_SHARED_LIBS_AUTO_UPGRADE="1", PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PIP_FIND_LINKS", None)
    spec = ["run", "--spec", os.path.join(dist, wheel_name()), "sm-train"]
    shown = run([pipx] + spec + ["--version"], env=env)
    assert shown.returncode == 0, shown.stderr.decode()
    assert shown.stdout.decode().startswith("sm-train %s (Python " % version()), shown.stdout.decode()
    out = str(tmp_path / "sm-train.pyz")
    written = run([pipx] + spec + ["pyz", "-o", out], env=env)
    assert written.returncode == 0, written.stderr.decode()
    assert sha256(out) == sha256(os.path.join(dist, "sm-train.pyz"))


@pytest.fixture(scope="module")
def unpacked(dist, tmp_path_factory):
    """The wheel's files, importable as sm_train from this folder."""
    folder = str(tmp_path_factory.mktemp("wheel"))
    with zipfile.ZipFile(os.path.join(dist, wheel_name())) as z:
        z.extractall(folder)
    return folder


def console_script(folder, *args):
    code = "import sys; sys.path.insert(0, %r); from sm_train.package import main; sys.exit(main())" % folder
    return run([sys.executable, "-c", code] + list(args), cwd=folder)


BAD = [
    (["pyz"], 2, "pyz needs -o FILE"),
    (["pyz", "-o"], 2, "option -o needs a value"),
    (["pyz", "--out", "x"], 2, "unknown option '--out'; did you mean --output?"),
    (["pyz", "-o", "x", "extra"], 2, "pyz takes no arguments besides -o FILE, not 'extra'"),
    (["pyz", "-o", "/nonexistent-dir/sm-train.pyz"], 1, "cannot write /nonexistent-dir/sm-train.pyz: No such file"),
    (["pyz", "-o", "."], 1, "cannot write .: "),
]


@pytest.mark.parametrize("args, status, message", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_pyz_command_lines_get_one_line(unpacked, args, status, message):
    result = console_script(unpacked, *args)
    err = result.stderr.decode()
    assert result.returncode == status and message in err and err.count("\n") == 1, err
    assert result.stdout == b"" and "Traceback" not in err


def test_pyz_help_and_the_launchers_help(unpacked):
    shown = console_script(unpacked, "pyz", "--help")
    assert shown.returncode == 0 and shown.stdout.decode().startswith("usage: sm-train pyz -o FILE\n")
    shown = console_script(unpacked, "--help")
    assert shown.returncode == 0 and "local [OPTIONS]" in shown.stdout.decode()
    assert shown.stdout.decode().rstrip().endswith("(see pyz --help).")


def test_an_installation_without_the_pyz_says_so(unpacked, tmp_path):
    bare = str(tmp_path / "bare")
    shutil.copytree(os.path.join(unpacked, "sm_train"), os.path.join(bare, "sm_train"))
    os.remove(os.path.join(bare, "sm_train", "sm-train.pyz"))
    result = console_script(bare, "pyz", "-o", str(tmp_path / "x.pyz"))
    err = result.stderr.decode()
    assert result.returncode == 1 and "this installation has no sm-train.pyz" in err and err.count("\n") == 1, err
    assert not os.path.exists(str(tmp_path / "x.pyz"))

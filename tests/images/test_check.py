"""`docker run --rm IMAGE check` on real images: the README's recipe and MPI images, and a torchrun image, have no
error; each broken variant gets exactly its error and no other. The time each check took is listed at the end of
the run (conftest.py)."""

import glob
import json
import os
import shutil
import subprocess
import time

import pytest

from .harness import CHECK_TIMES, ROOT, build, docker, readme_block, recipe, with_from

EXEC_FORM = 'ENTRYPOINT ["python3", "/sm-train.pyz"]'
# The Python the torchrun image takes its CPU torch from (`make engines` puts one in .venv), and what it leaves out.
TORCH_PYTHON = os.environ.get("SM_TRAIN_IMAGES_TORCH_PYTHON") or os.path.join(ROOT, ".venv", "bin", "python")
CLOSURE = r"""
import importlib.metadata as md, json, re, sys
seen, todo, files = set(), ["torch"], {}
while todo:
    name = todo.pop()
    if name.lower() in seen:
        continue
    seen.add(name.lower())
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        continue
    for f in dist.files or []:
        if "__pycache__" not in f.parts and ".." not in f.parts and f.parts[:2] != ("torch", "include"):
            files[str(f)] = str(f.locate())
    todo += [re.split(r"[ ;<>=!~\[(]", r, 1)[0] for r in dist.requires or [] if "extra ==" not in r]
print(json.dumps({"python": "%d.%d" % sys.version_info[:2], "files": files}))
"""


def run_check(image, *args):
    """(status, the JSON document) of `docker run --rm IMAGE check --format json ARGS`; its times are recorded."""
    started = time.time()
    result = subprocess.run(["docker", "run", "--rm", "--network", "none", image, "check", "--format", "json"]
                            + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    wall = time.time() - started
    assert result.returncode in (0, 1), result.stderr.decode()
    doc = json.loads(result.stdout.decode())
    CHECK_TIMES[image] = (doc["seconds"], wall)
    return result.returncode, doc


def errors(doc):
    return sorted(f["topic"] for f in doc["findings"] if f["level"] == "error")


def one_error(image, topic, *args):
    """The image's one error, which must be ``topic``; status 1."""
    status, doc = run_check(image, *args)
    assert status == 1 and errors(doc) == [topic], json.dumps(doc["findings"], indent=1)
    return [f for f in doc["findings"] if f["topic"] == topic][0]


# --- good images ---------------------------------------------------------------------------------------------

def test_the_readme_recipe_has_no_error(recipe_image):
    status, doc = run_check(recipe_image)
    assert status == 0 and errors(doc) == [], json.dumps(doc["findings"], indent=1)
    levels = {f["topic"]: f["level"] for f in doc["findings"]}
    assert levels["entrypoint"] == "ok" and levels["signals"] == "warning"  # job.py has no SIGTERM handler
    # the README shows this run as text: the same findings, at the same levels
    text = subprocess.run(["docker", "run", "--rm", "--network", "none", recipe_image, "check"],
                          stdout=subprocess.PIPE, timeout=300).stdout.decode()
    print(text)
    shown = readme_block("", "sm-train check of /opt/ml")
    assert finding_lines(shown) == finding_lines(text), text


def finding_lines(text):
    return [line.split()[:2] for line in text.splitlines() if line.split()[:1] in (["ok"], ["warning"], ["error"])]


def test_the_readme_mpi_image_has_no_error(mpi_image):
    status, doc = run_check(mpi_image, "--distribution", "mpi", "--hosts", "2")
    assert status == 0 and errors(doc) == [], json.dumps(doc["findings"], indent=1)
    assert {"mpi", "sshd", "ssh-key", "ssh-config", "mpi4py"} <= {f["topic"] for f in doc["findings"]}


def test_a_torchrun_image_has_no_error(torch_image):
    status, doc = run_check(torch_image, "--distribution", "torchrun", "--hosts", "2")
    assert status == 0 and errors(doc) == [], json.dumps(doc["findings"], indent=1)
    torch = [f["message"] for f in doc["findings"] if f["topic"] == "torch"]
    assert torch and "is a CPU build: gloo is its backend" in torch[0]


# --- broken images: each gets exactly its error ----------------------------------------------------------------

def test_a_shell_form_entrypoint(bases, tmp_path_factory):
    dockerfile = with_from(recipe(), bases["plain"])
    assert dockerfile.count(EXEC_FORM) == 1
    image = build("sm-check-shell-form", dockerfile.replace(EXEC_FORM, "ENTRYPOINT python3 /sm-train.pyz"), "job.py",
                  tmp_path_factory)
    error = one_error(image, "entrypoint")
    assert error["message"].startswith('a shell-form ENTRYPOINT: sm-train runs under `/bin/sh -c "python3 '
                                       '/sm-train.pyz" check --format json`'), error
    assert error["fix"].startswith(EXEC_FORM)


def test_a_program_that_is_not_there(recipe_image, tmp_path_factory):
    image = build("sm-check-missing", "FROM %s\nENV SAGEMAKER_PROGRAM=trian.py\n" % recipe_image, "job.py",
                  tmp_path_factory)
    error = one_error(image, "program")
    assert error["message"] == ("training entry point 'trian.py' not found: /opt/ml/code/trian.py does not exist")
    assert error["fix"].startswith("ENV SAGEMAKER_PROGRAM=train.py (the closest name in /opt/ml/code)")


def test_a_program_with_a_syntax_error(recipe_image, tmp_path_factory):
    image = build("sm-check-syntax", "FROM %s\nCOPY broken.py /opt/ml/code/train.py\n" % recipe_image, "job.py",
                  tmp_path_factory, files={"broken.py": "import os\n\nprint('unclosed'\n"})
    error = one_error(image, "compile")
    assert error["message"].startswith("train.py does not compile under Python 3."), error


def test_requirements_without_pip(recipe_image, tmp_path_factory):
    image = build("sm-check-no-pip", "FROM %s\nCOPY requirements.txt /opt/ml/code/requirements.txt\n" % recipe_image,
                  "job.py", tmp_path_factory, files={"requirements.txt": "numpy\n"})
    error = one_error(image, "install")
    assert error["message"].startswith("requirements.txt needs pip: the start runs `python3 -m pip install -r "
                                       "requirements.txt`, and Python 3."), error
    assert error["fix"].startswith("RUN apt-get update && apt-get install -y --no-install-recommends python3-pip")


def test_a_read_only_model_folder_for_the_images_user(recipe_image, tmp_path_factory):
    image = build("sm-check-read-only", "FROM %s\nRUN mkdir -p /opt/ml/model /opt/ml/output && chown 1000 "
                  "/opt/ml/output\nUSER 1000\n" % recipe_image, "job.py", tmp_path_factory)
    error = one_error(image, "folders")
    assert error["message"] == "uid 1000 cannot write /opt/ml/model, where the program puts its model", error


def test_a_python_older_than_3_7(recipe_image, tmp_path_factory):
    """A real CPython 3.6 (pyenv's, at the same path, since it was built to be found there) as the image's python3:
    one line naming 3.7, status 1."""
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.6.*/bin/python3.6")))
    if not found:
        pytest.skip("no CPython 3.6 in ~/.pyenv/versions to put in an image (Debian has none)")
    prefix = os.path.dirname(os.path.dirname(found[-1]))
    leave_out = shutil.ignore_patterns("test", "tests", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip",
                                       "site-packages", "config-3.6*", "__pycache__", "*.a")

    def fill(context):
        for part in ("bin/python3.6", "lib/libpython3.6m.so.1.0"):
            os.makedirs(os.path.dirname(os.path.join(context, "py36", part)), exist_ok=True)
            shutil.copy(os.path.join(prefix, part), os.path.join(context, "py36", part))
        shutil.copytree(os.path.join(prefix, "lib", "python3.6"), os.path.join(context, "py36", "lib", "python3.6"),
                        ignore=leave_out)

    image = build("sm-check-python36", "FROM %s\nCOPY py36/ %s/\nRUN ln -s %s/bin/python3.6 /usr/local/bin/python3\n"
                  % (recipe_image, prefix, prefix), "job.py", tmp_path_factory, fill=fill)
    started = time.time()
    result = subprocess.run(["docker", "run", "--rm", "--network", "none", image, "check"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=300)
    CHECK_TIMES[image] = (None, time.time() - started)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and result.stdout == b"" and stderr.count("\n") == 1, stderr
    assert stderr == "sm-train ERROR    sm-train needs Python 3.7 or newer; /usr/local/bin/python3 is Python %s\n" % (
        os.path.basename(prefix)), stderr


def test_an_mpi_image_without_sshd(mpi_image, tmp_path_factory):
    image = build("sm-check-no-sshd", "FROM %s\nRUN dpkg --purge openssh-server\n" % mpi_image, "job.py",
                  tmp_path_factory)
    error = one_error(image, "sshd", "--distribution", "mpi", "--hosts", "2")
    assert error["message"] == "MPI needs an SSH server on every host: /usr/sbin/sshd is not in the image", error
    assert "openssh-server (Debian, Ubuntu; Amazon Linux: RUN yum install -y openssh-server)" in error["fix"]


def test_an_mpi_image_without_the_shared_key(mpi_image, tmp_path_factory):
    image = build("sm-check-no-key", "FROM %s\nRUN rm /root/.ssh/id_ed25519 /root/.ssh/id_ed25519.pub "
                  "/root/.ssh/authorized_keys\n" % mpi_image, "job.py", tmp_path_factory)
    error = one_error(image, "ssh-key", "--distribution", "mpi", "--hosts", "2")
    assert error["message"].startswith("no key pair in /root/.ssh"), error
    assert error["fix"].startswith('RUN mkdir -p /root/.ssh && ssh-keygen -q -t ed25519 -N ""')


def test_an_mpi_image_that_would_ask_about_host_keys(mpi_image, tmp_path_factory):
    image = build("sm-check-prompt", "FROM %s\nRUN rm /root/.ssh/config\n" % mpi_image, "job.py", tmp_path_factory)
    one_error(image, "ssh-config", "--distribution", "mpi", "--hosts", "2")


def test_an_mpi_image_without_mpi4py(mpi_image, tmp_path_factory):
    image = build("sm-check-no-mpi4py", "FROM %s\nRUN dpkg --purge python3-mpi4py\n" % mpi_image, "job.py",
                  tmp_path_factory)
    error = one_error(image, "mpi4py", "--distribution", "mpi", "--hosts", "2")
    assert error["fix"].startswith("RUN apt-get update && apt-get install -y --no-install-recommends python3-mpi4py")


def test_a_torch_image_without_torchrun(torch_image, tmp_path_factory):
    image = build("sm-check-no-torchrun", "FROM %s\nRUN rm /usr/local/bin/torchrun\n" % torch_image, "job.py",
                  tmp_path_factory)
    error = one_error(image, "torchrun", "--distribution", "torchrun")
    assert error["message"].startswith("torchrun is not on PATH, though torch 2."), error


# --- the torchrun image ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def torch_image(recipe_image, tmp_path_factory):
    """The recipe with a CPU torch for the base's Python (3.11), taken with what it requires from the Python that
    `make engines` gave one (or SM_TRAIN_IMAGES_TORCH_PYTHON), and a torchrun as pip writes it."""
    if not os.access(TORCH_PYTHON, os.X_OK):
        pytest.skip("no %s to take torch from: run `make engines` (or set SM_TRAIN_IMAGES_TORCH_PYTHON)" % TORCH_PYTHON)
    listed = subprocess.run([TORCH_PYTHON, "-c", CLOSURE], stdout=subprocess.PIPE, timeout=120)
    found = json.loads(listed.stdout.decode())
    base = docker("run", "--rm", "--network", "none", "--entrypoint", "python3", recipe_image, "-c",
                  "import sys; print('%d.%d' % sys.version_info[:2])")
    if not any(name.startswith("torch/") for name in found["files"]) or found["python"] != base:
        pytest.skip("%s has no torch for Python %s, the image's (`make engines` installs CPU torch into .venv)"
                    % (TORCH_PYTHON, base))

    def fill(context):
        for name, path in found["files"].items():
            target = os.path.join(context, "site", name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.link(path, target) if os.stat(path).st_dev == os.stat(context).st_dev else shutil.copy(path, target)

    runner = "#!/usr/bin/python3\\nimport sys\\nfrom torch.distributed.run import main\\nsys.exit(main())\\n"
    return build("sm-torchrun", "FROM %s\nCOPY site/ /usr/local/lib/python%s/dist-packages/\nRUN printf '%s' > "
                 "/usr/local/bin/torchrun && chmod +x /usr/local/bin/torchrun\n" % (recipe_image, base, runner),
                 "job.py", tmp_path_factory, fill=fill)

"""The README's multi-stage recipe: a first stage installs the pinned package `sm-train` with pip and writes the pyz
with `sm-train pyz`, the second copies it (COPY --from). Built with the release's wheel served by `python3 -m
http.server` from a folder laid out as a simple package index, on loopback inside the daemon's own network
namespace, and run as SageMaker runs it."""

import hashlib
import html
import os
import re
import subprocess
import sys

import pytest

from . import test_docker_run as docker_run
from .harness import PROGRAMS, WAIT, apt_sources, debian_release, docker, readme_block

WORK = os.environ.get("SM_TRAIN_IMAGES_WORK", "")  # set by run.sh, with SM_TRAIN_DIST (make test-images)
DIST = os.environ.get("SM_TRAIN_DIST", "")
MARKER = "COPY --from=sm-train"


def recipe():
    return readme_block("dockerfile", MARKER)


def wheel():
    """The release's wheel of the version the recipe pins."""
    pinned = re.search(r"\bsm-train==(\S+)", recipe())
    assert pinned, "the README's multi-stage recipe should pin sm-train==X.Y.Z"
    path = os.path.join(DIST, "sm_train-%s-py3-none-any.whl" % pinned.group(1))
    assert os.path.isfile(path), "the recipe pins %s; make test-images builds %s" % (pinned.group(0), DIST)
    return path


def with_froms(dockerfile, first, last):
    """The recipe with its two FROM lines on ``first`` (the stage keeps its name) and ``last``."""
    lines = dockerfile.splitlines()
    froms = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    assert len(froms) == 2, "the multi-stage recipe should have two FROM lines:\n" + dockerfile
    words = lines[froms[0]].split()
    assert len(words) == 4 and words[2].upper() == "AS" and words[3] == "sm-train", lines[froms[0]]
    assert len(lines[froms[1]].split()) == 2, "Docker rejects " + lines[froms[1]]
    lines[froms[0]] = "FROM %s AS sm-train" % first
    lines[froms[1]] = "FROM " + last
    return "\n".join(lines) + "\n"


def in_daemon_netns(argv, **kwargs):
    """``argv`` in the network namespace of run.sh's dockerd, where `docker build --network host` runs."""
    with open(os.path.join(WORK, "docker.pid")) as f:
        pid = f.read().strip()
    return subprocess.Popen(["nsenter", "--target", pid, "--net", "--"] + argv, **kwargs)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """http://127.0.0.1:PORT/simple/: the wheel in a simple index (PEP 503) served by python3 -m http.server."""
    if not WORK or not DIST:
        pytest.skip("the image tests run through `make test-images`, which builds the release and starts the daemon")
    path = wheel()
    root = tmp_path_factory.mktemp("index")
    name = os.path.basename(path)
    (root / "files").mkdir()
    (root / "files" / name).write_bytes(open(path, "rb").read())
    digest = hashlib.sha256((root / "files" / name).read_bytes()).hexdigest()
    (root / "simple" / "sm-train").mkdir(parents=True)
    (root / "simple" / "index.html").write_text('<a href="sm-train/">sm-train</a>\n')
    (root / "simple" / "sm-train" / "index.html").write_text(
        '<a href="../../files/%s#sha256=%s">%s</a>\n' % (html.escape(name), digest, html.escape(name)))
    in_daemon_netns(["ip", "link", "set", "lo", "up"]).wait()  # a new network namespace starts with lo down
    server = in_daemon_netns([sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                              str(root), "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = server.stdout.readline().decode()  # "Serving HTTP on 127.0.0.1 port N (...)"
        port = re.search(r" port (\d+) ", line)
        assert port, "http.server did not start: %r" % line
        yield "http://127.0.0.1:%s/simple/" % port.group(1)
    finally:
        server.terminate()
        server.wait()


@pytest.fixture(scope="module")
def pip_base(index):
    """A stand-in for python:3.12-slim: Debian's python3 and pip, from this machine's release and apt sources,
    pip told to use the loopback index (and, as root in an image, that Debian's system Python is the one to use)."""
    cache = os.environ.get("SM_TRAIN_IMAGES_CACHE") or WORK
    tar = os.path.join(cache, "%s-python3-pip.tar" % debian_release())
    if not os.path.exists(tar):
        argv = ["mmdebstrap", "--quiet", "--variant=apt", "--aptopt=APT::Install-Recommends \"false\"",
                "--include=python3,python3-pip", debian_release(), tar[:-4] + ".part.tar", apt_sources()]
        made = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
        assert made.returncode == 0, "mmdebstrap failed:\n" + made.stdout.decode("utf-8", "replace")[-3000:]
        os.rename(tar[:-4] + ".part.tar", tar)
    changes = ["ENV PIP_INDEX_URL=" + index, "ENV PIP_BREAK_SYSTEM_PACKAGES=1", "ENV PIP_DISABLE_PIP_VERSION_CHECK=1"]
    argv = ["import"]
    for change in changes:
        argv += ["--change", change]
    docker(*(argv + [tar, "sm-base-pip"]))
    return "sm-base-pip"


@pytest.fixture(scope="module")
def package_image(pip_base, bases, tmp_path_factory):
    context = str(tmp_path_factory.mktemp("sm-package-recipe"))
    with open(os.path.join(PROGRAMS, "job.py"), "rb") as src, open(os.path.join(context, "train.py"), "wb") as dst:
        dst.write(src.read())
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write(with_froms(recipe(), pip_base, bases["plain"]))
    # host network: the daemon's namespace, where only loopback and the index are
    docker("build", "--network", "host", "-q", "-t", "sm-package-recipe", context, timeout=WAIT)
    return "sm-package-recipe"


def test_the_recipe_copies_the_release_pyz_from_the_package(package_image):
    shown = docker("run", "--rm", "--network", "none", "--entrypoint", "sha256sum", package_image, "/sm-train.pyz")
    with open(os.path.join(DIST, "sm-train.pyz"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert shown == "%s  /sm-train.pyz" % digest
    with open(os.path.join(DIST, "SHA256SUMS")) as f:
        assert "%s  sm-train.pyz\n" % digest in f.read()


def test_the_recipe_image_runs_the_job_as_sagemaker_starts_it(package_image, tmp_path):
    """The image from the package runs a job as the plain recipe's does: the program is PID 1, with the job's
    variables."""
    docker_run.test_train_runs_the_program_as_pid_1(package_image, tmp_path)

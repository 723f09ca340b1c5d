"""The image tests' fixtures: the Docker daemon run.sh started, Debian base images made with mmdebstrap, the
README's Dockerfiles built on them, and the SageMaker SDK run as a user runs it. The launcher is only ever the
built pyz inside an image; nothing here imports it."""

import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROGRAMS = os.path.join(HERE, "programs")
WORK = os.environ.get("SM_TRAIN_IMAGES_WORK", "")  # set by run.sh, with DOCKER_HOST and SM_TRAIN_PYZ
SDK_PYTHON = os.path.join(ROOT, ".venv-images", "bin", "python")
WAIT = 300  # seconds; only reached when something hangs


@pytest.fixture(autouse=True)
def daemon():
    """Every test needs run.sh's daemon; afterwards its containers and networks go, so tests stay apart."""
    if not WORK:
        pytest.skip("the image tests run through `make test-images`, which starts their Docker daemon")
    yield
    names = docker("ps", "-aq").split()
    if names:
        docker("rm", "-f", *names)
    docker("network", "prune", "-f")


def docker(*args, check=True, timeout=WAIT):
    """docker's stdout, stripped; a failing command fails the test with its stderr."""
    result = subprocess.run(["docker"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check and result.returncode:
        pytest.fail("docker %s: status %d\n%s" % (" ".join(args[:3]), result.returncode,
                                                  result.stderr.decode("utf-8", "replace")[-3000:]))
    return result.stdout.decode("utf-8", "replace").strip()


# --- the README's blocks -------------------------------------------------------------------------------------

def readme_block(lang, marker):
    """The one ```lang block of README.md that contains ``marker``."""
    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = re.findall(r"^```%s\n(.*?)^```$" % lang, f.read(), re.S | re.M)
    found = [block for block in blocks if marker in block]
    assert len(found) == 1, "README.md should have one %s block with %r, has %d" % (lang, marker, len(found))
    return found[0]


def with_from(dockerfile, image):
    """``dockerfile`` with its one FROM line replaced by ``FROM image``."""
    lines = dockerfile.splitlines()
    froms = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    assert len(froms) == 1, "the Dockerfile should have one FROM line:\n" + dockerfile
    lines[froms[0]] = "FROM " + image
    return "\n".join(lines) + "\n"


def recipe():
    return readme_block("dockerfile", "# ENV SM_TRAIN_SUPERVISE=true")


def mpi_dockerfile():
    """The README's MPI Dockerfile without its apt-get line, and the packages that line installs: the base image
    is made from exactly those, since builds here have no network."""
    lines = readme_block("dockerfile", "openmpi-bin").splitlines()
    apt = [line for line in lines if line.startswith("RUN apt-get ")]
    assert len(apt) == 1, "the MPI Dockerfile should install its packages in one RUN apt-get line"
    packages = apt[0].split("--no-install-recommends", 1)[1].split("&&", 1)[0].split()
    return "\n".join(line for line in lines if line is not apt[0]) + "\n", packages


# --- images ----------------------------------------------------------------------------------------------------

def debian_release():
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    pytest.fail("/etc/os-release names no VERSION_CODENAME: the base images need a Debian release")


def apt_sources():
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        if os.path.isfile(path) and os.path.getsize(path):
            return path
    pytest.fail("no apt sources file for mmdebstrap")


@pytest.fixture(scope="session")
def bases():
    """{"plain": tag, "mpi": tag}: Debian images made by mmdebstrap from this machine's release and apt sources
    (both at once), imported into the daemon. SM_TRAIN_IMAGES_CACHE, a folder, keeps the tarballs between runs."""
    if not WORK:
        pytest.skip("no daemon")
    cache = os.environ.get("SM_TRAIN_IMAGES_CACHE") or WORK
    wanted = {"plain": ["python3"], "mpi": mpi_dockerfile()[1]}
    tars = {name: os.path.join(cache, "%s-%s.tar" % (debian_release(), "-".join(sorted(packages))))
            for name, packages in wanted.items()}
    started = {}
    try:
        for name, packages in wanted.items():
            tar = tars[name]
            if not os.path.exists(tar):  # mmdebstrap picks the format by the name: .tar
                argv = ["mmdebstrap", "--quiet", "--variant=apt", "--include=" + ",".join(packages),
                        debian_release(), tar[:-4] + ".part.tar", apt_sources()]
                started[name] = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for name, proc in started.items():
            out = proc.communicate(timeout=900)[0]
            assert proc.returncode == 0, "mmdebstrap failed:\n" + out.decode("utf-8", "replace")[-3000:]
    finally:
        for proc in started.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    tags = {}
    for name, tar in tars.items():
        if name in started:
            os.rename(tar[:-4] + ".part.tar", tar)
        tags[name] = "sm-base-" + name
        docker("import", tar, tags[name])
    return tags


def build(tag, dockerfile, program, tmp_path_factory):
    """``docker build`` of ``dockerfile`` with the pyz and ``program`` (as train.py) in its context, offline."""
    context = str(tmp_path_factory.mktemp(tag))
    shutil.copy(os.environ["SM_TRAIN_PYZ"], os.path.join(context, "sm-train.pyz"))
    shutil.copy(os.path.join(PROGRAMS, program), os.path.join(context, "train.py"))
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write(dockerfile)
    docker("build", "--network", "none", "-q", "-t", tag, context)
    return tag


@pytest.fixture(scope="session")
def recipe_image(bases, tmp_path_factory):
    """The README's recipe, FROM our plain base: exec mode, job.py as train.py."""
    return build("sm-recipe", with_from(recipe(), bases["plain"]), "job.py", tmp_path_factory)


@pytest.fixture(scope="session")
def supervised_image(recipe_image, tmp_path_factory):
    """The recipe with its commented-out SM_TRAIN_SUPERVISE line switched on, as a layer on top of it."""
    line = [ln for ln in recipe().splitlines() if ln.startswith("# ENV SM_TRAIN_SUPERVISE=")][0]
    return build("sm-recipe-supervised", "FROM %s\n%s\n" % (recipe_image, line[2:]), "job.py", tmp_path_factory)


@pytest.fixture(scope="session")
def mpi_image(bases, tmp_path_factory):
    return build("sm-mpi", with_from(mpi_dockerfile()[0], bases["mpi"]), "mpi_train.py", tmp_path_factory)


# --- the SDK -------------------------------------------------------------------------------------------------

def run_sdk(snippet, workdir, timeout=WAIT):
    """Run ``snippet`` as a user would (``python fit.py`` in ``workdir``) with the real SDK, offline: in a network
    namespace with nothing but loopback, with fake credentials and telemetry off. (status, output text)."""
    home, tmp = os.path.join(workdir, "home"), os.path.join(workdir, "tmp")
    os.makedirs(home)
    os.makedirs(tmp)  # the SDK's container_root, a mkdtemp, lands here
    config = os.path.join(workdir, "sdk-config.yaml")
    with open(config, "w") as f:
        f.write("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    with open(os.path.join(workdir, "fit.py"), "w") as f:
        f.write(snippet)
    env = {"PATH": os.environ["PATH"], "HOME": home, "TMPDIR": tmp, "LANG": "C.UTF-8",
           "DOCKER_HOST": os.environ["DOCKER_HOST"], "SAGEMAKER_USER_CONFIG_OVERRIDE": config,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
           "AWS_EC2_METADATA_DISABLED": "true"}
    result = subprocess.run(["unshare", "--net", "--", SDK_PYTHON, "fit.py"], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return result.returncode, result.stdout.decode("utf-8", "replace")


def sdk_snippet(marker, image, placeholder, replace=()):
    """The README's python block with ``marker``, its ``placeholder`` image replaced by ``image``, and each
    (old, new) text of ``replace`` replaced; every replaced text must be there exactly once."""
    snippet = readme_block("python", marker)
    for old, new in [('image_uri="%s"' % placeholder, 'image_uri="%s"' % image)] + list(replace):
        assert snippet.count(old) == 1, "the README's SDK snippet should contain %r once" % old
        snippet = snippet.replace(old, new)
    return snippet


def model_files(workdir):
    """{name: parsed JSON} of the model.tar.gz the SDK wrote under out/."""
    with tarfile.open(os.path.join(workdir, "out", "model.tar.gz")) as tar:
        return {m.name.lstrip("./"): json.load(tar.extractfile(m)) for m in tar.getmembers() if m.isfile()}


def exit_codes():
    """{container name: exit code} of every container the daemon has (each test starts with none)."""
    names = docker("ps", "-aq").split()
    if not names:
        return {}
    lines = docker("inspect", "-f", "{{.Name}} {{.State.ExitCode}}", *names).splitlines()
    return {name.lstrip("/"): int(code) for name, code in (line.split() for line in lines)}

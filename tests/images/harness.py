"""Helpers of the image tests: docker, the README's blocks, builds, and the SageMaker SDK run as a user runs it.
The launcher is only ever the built pyz inside an image; nothing here imports it."""

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
SDK_PYTHON = os.path.join(ROOT, ".venv-images", "bin", "python")
WAIT = 300  # seconds; only reached when something hangs
CHECK_TIMES = {}  # image -> (seconds `check` took inside it, seconds of the whole `docker run`), for the summary


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
    # Docker's own rule for the line replaced here: one argument, or three (FROM image AS name); no comment
    words = lines[froms[0]].split()
    assert len(words) == 2 or (len(words) == 4 and words[2].upper() == "AS"), "Docker rejects " + lines[froms[0]]
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


def base_images(work, names=("plain", "mpi")):
    """{name: tag} of the Debian base images ``names`` ("plain": python3; "mpi": the MPI Dockerfile's packages),
    made by mmdebstrap from this machine's release and apt sources (all at once) and imported into the daemon.
    The tarballs go to SM_TRAIN_IMAGES_CACHE, a folder kept between runs, else to ``work``."""
    cache = os.environ.get("SM_TRAIN_IMAGES_CACHE") or work
    packages_of = {"plain": ["python3"], "mpi": mpi_dockerfile()[1]}
    wanted = {name: packages_of[name] for name in names}
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
        for proc in started.values():
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


def build(tag, dockerfile, program, tmp_path_factory, files=None, fill=None):
    """``docker build`` of ``dockerfile`` with the pyz and ``program`` (as train.py) in its context, offline; also
    ``files`` ({name: text}), and whatever ``fill`` (a function of the context's folder) puts there."""
    context = str(tmp_path_factory.mktemp(tag))
    shutil.copy(os.environ["SM_TRAIN_PYZ"], os.path.join(context, "sm-train.pyz"))
    shutil.copy(os.path.join(PROGRAMS, program), os.path.join(context, "train.py"))
    for name, text in (files or {}).items():
        with open(os.path.join(context, name), "w") as f:
            f.write(text)
    if fill is not None:
        fill(context)
    with open(os.path.join(context, "Dockerfile"), "w") as f:
        f.write(dockerfile)
    docker("build", "--network", "none", "-q", "-t", tag, context)
    return tag


# --- the SDK -------------------------------------------------------------------------------------------------

# What the SDK's process runs first when it shares this machine's network (to reach a server of the test's on
# 127.0.0.1): every name lookup and connection to anything else fails at once, so a stray call to AWS (telemetry,
# a default endpoint) fails the test rather than leaving the machine.
LOOPBACK_ONLY = """\
import socket as _socket

def _loopback_only(connect):
    def guarded(sock, address, *args):
        if sock.family in (_socket.AF_INET, _socket.AF_INET6) and address[0] not in ("127.0.0.1", "localhost"):
            raise OSError("the test allows 127.0.0.1 only, not %r" % (address,))
        return connect(sock, address, *args)
    return guarded

_socket.socket.connect = _loopback_only(_socket.socket.connect)
_socket.socket.connect_ex = _loopback_only(_socket.socket.connect_ex)
_getaddrinfo = _socket.getaddrinfo

def _loopback_getaddrinfo(host, *args, **kwargs):
    if host not in ("127.0.0.1", "localhost", None):
        raise _socket.gaierror("the test allows 127.0.0.1 only, not %r" % (host,))
    return _getaddrinfo(host, *args, **kwargs)

_socket.getaddrinfo = _loopback_getaddrinfo
"""


def run_sdk(snippet, workdir, timeout=WAIT, env=None, netns=True):
    """Run ``snippet`` as a user would (``python fit.py`` in ``workdir``) with the real SDK, offline: in a network
    namespace with nothing but loopback, with fake credentials and telemetry off; ``env`` adds to (or replaces)
    those variables. netns=False runs it in this machine's network, to reach a loopback server of the test's,
    with LOOPBACK_ONLY first in fit.py. (status, output text)."""
    home, tmp = os.path.join(workdir, "home"), os.path.join(workdir, "tmp")
    os.makedirs(home)
    os.makedirs(tmp)  # the SDK's container_root, a mkdtemp, lands here
    config = os.path.join(workdir, "sdk-config.yaml")
    with open(config, "w") as f:
        f.write("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    with open(os.path.join(workdir, "fit.py"), "w") as f:
        f.write(snippet if netns else LOOPBACK_ONLY + "\n" + snippet)
    full = {"PATH": os.environ["PATH"], "HOME": home, "TMPDIR": tmp, "LANG": "C.UTF-8",
            "DOCKER_HOST": os.environ["DOCKER_HOST"], "SAGEMAKER_USER_CONFIG_OVERRIDE": config,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_EC2_METADATA_DISABLED": "true"}
    full.update(env or {})
    argv = (["unshare", "--net", "--"] if netns else []) + [SDK_PYTHON, "fit.py"]
    result = subprocess.run(argv, cwd=workdir, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=timeout)
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
        return {os.path.normpath(m.name): json.load(tar.extractfile(m)) for m in tar.getmembers() if m.isfile()}


def exit_codes():
    """{container name: exit code} of every container the daemon has (each test starts with none)."""
    names = docker("ps", "-aq").split()
    if not names:
        return {}
    lines = docker("inspect", "-f", "{{.Name}} {{.State.ExitCode}}", *names).splitlines()
    return {name.lstrip("/"): int(code) for name, code in (line.split() for line in lines)}

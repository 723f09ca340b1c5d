"""The image tests' fixtures: the Docker daemon run.sh started (each test leaves it without containers or
networks), Debian base images made with mmdebstrap, and the README's Dockerfiles built on them.

tests/images is a package so that this conftest is ``images.conftest`` and never shadows tests/conftest.py,
which the other test modules import as ``conftest``."""

import os

import pytest

from .harness import CHECK_TIMES, base_images, build, docker, mpi_dockerfile, recipe, with_from

WORK = os.environ.get("SM_TRAIN_IMAGES_WORK", "")  # set by run.sh, with DOCKER_HOST and SM_TRAIN_PYZ


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


@pytest.fixture(scope="session")
def bases():
    """{"plain": tag, "mpi": tag}: Debian images made by mmdebstrap (harness.base_images)."""
    if not WORK:
        pytest.skip("no daemon")
    return base_images(WORK)


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


def pytest_terminal_summary(terminalreporter):
    """The time `check` took on each test image (test_check.py records them), for the record."""
    if not CHECK_TIMES:
        return
    terminalreporter.write_line("sm-train check on each image: its own time, and the whole `docker run --rm IMAGE "
                                "check` (the container's start included)")
    for image, (inside, wall) in sorted(CHECK_TIMES.items()):
        own = "%.3f s" % inside if inside is not None else "refused"
        terminalreporter.write_line("  %-24s %-8s %.2f s" % (image, own, wall))

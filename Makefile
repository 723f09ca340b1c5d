# sm-train: build, demo, test, bench, lint, release. Needs only python3 and make; tools go into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DIST := dist
PYZ := $(DIST)/sm-train.pyz
PIP := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on

.PHONY: build demo test test-engines test-images engines bench bench-instructions lint venv clean mutate release

# Says where the pyz is and its sha256 even when there was nothing to build.
build: $(PYZ).sha256
	@$(PYTHON) -c '$(SHOW_SHA256)' $(PYZ)

$(PYZ): build_pyz.py $(wildcard launcher/*.py launcher/*/*.py)
	$(PYTHON) build_pyz.py --output $(PYZ)

# Beside the pyz and naming it by its base name, as sha256sum writes it: `sha256sum -c sm-train.pyz.sha256`
# checks a copy wherever the two files are copied together. Python, not sha256sum, which macOS lacks; written
# whole or not at all, since make would take a torn file for an up-to-date one.
$(PYZ).sha256: $(PYZ)
	@$(PYTHON) -c '$(WRITE_SHA256)' $(PYZ)

WRITE_SHA256 = import hashlib, os, sys; p = sys.argv[1]; d = hashlib.sha256(open(p, "rb").read()).hexdigest(); \
	open(p + ".sha256.tmp", "w").write("%s  %s\n" % (d, os.path.basename(p))); \
	os.replace(p + ".sha256.tmp", p + ".sha256")
SHOW_SHA256 = import os, sys; p = sys.argv[1]; name = os.path.basename(p); \
	print("%s: %d bytes; its sha256, in %s.sha256 (`sha256sum -c %s.sha256` checks a copy beside it):" \
	% (p, os.path.getsize(p), p, name)); print(open(p + ".sha256").read().strip())

venv: $(BIN)/.installed

# pip prints each download with its size and a progress bar: nothing here runs silently for minutes.
$(BIN)/.installed: requirements-dev.txt
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || { echo "make: $(PYTHON) -m venv needs ensurepip: on Debian or Ubuntu, apt-get install python3-venv" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	@echo "make: installing requirements-dev.txt into $(VENV) (the test tools: 66 MB to download, 375 MB on disk)"
	$(PIP) -r requirements-dev.txt
	touch $@

# Opt-in: CPU PyTorch (torchrun) and mpi4py for the real-engine tests, about 195 MB.
engines: $(BIN)/.engines

# On Linux PyPI's torch is the CUDA build (about 2.7 GB): PyTorch's CPU index gives 2.13.0+cpu instead.
# `make engines TORCH_INDEX=` installs from the configured indexes alone (CI's machines keep that wheel).
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),--extra-index-url https://download.pytorch.org/whl/cpu)

# The release's build tools (hatchling, build) and pipx, pinned: `make release` and the tests of its files need them.
$(BIN)/.release: requirements-release.txt $(BIN)/.installed
	@echo "make: installing requirements-release.txt into $(VENV) (the release's build tools and pipx, a few MB)"
	$(PIP) -r requirements-release.txt
	touch $@

$(BIN)/.engines: requirements-engines.txt $(BIN)/.installed
	@echo "make: installing requirements-engines.txt into $(VENV) (CPU PyTorch and mpi4py, about 195 MB)"
	$(PIP) $(TORCH_INDEX) -r requirements-engines.txt
	touch $@

# launcher/too_old.py and launcher/pyz/main.py (the pyz's __main__.py) must parse on Python 2.7, to refuse it;
# main.py does so before it reaches sys.implementation.
lint: venv
	$(BIN)/ruff check launcher tests build_pyz.py .ci/release.py .ci/hatch_build.py examples
	$(BIN)/vermin --no-tips --violations -t=3.7- launcher
	$(BIN)/vermin --no-tips --violations -t=2.7- -t=3.0- launcher/__init__.py launcher/too_old.py
	$(BIN)/vermin --no-tips --violations -t=2.7- -t=3.0- --exclude sys.implementation launcher/pyz/main.py

# pytest keeps the temporary folders of failed tests only: a passing run leaves none behind.
PYTEST := $(BIN)/python -m pytest -q -rs -o tmp_path_retention_policy=failed

# The whole suite; the real-engine tests skip, saying why, until `make test-engines` installed the engines.
test: lint build $(BIN)/.release
	@echo "make: the whole suite, 3 to 6 minutes on 2 cores; a passing run leaves no test files in the temporary folder"
	$(PYTEST) tests --ignore=tests/images

test-engines: engines lint build
	$(PYTEST) tests/test_distributed_engines.py

# Real images against a Docker daemon of its own (root only; otherwise one line and a skip): tests/images/run.sh.
# The release's wheel too, for the README's multi-stage recipe, served from a loopback package index.
test-images: release
	SM_TRAIN_PYZ=$(CURDIR)/$(PYZ) SM_TRAIN_DIST=$(CURDIR)/$(DIST) bash tests/images/run.sh

# The release files in $(DIST): the pyz, the wheel and the sdist (both shipping that pyz), and SHA256SUMS. The same
# bytes on every run on the same commit with the same Pythons: SOURCE_DATE_EPOCH (default: the last commit's time).
# TAG=vX.Y.Z (CI, on a version tag) refuses a tag that does not name the version.
release: $(PYZ).sha256 $(BIN)/.release
	$(BIN)/python .ci/release.py --dist $(DIST) $(if $(TAG),--tag $(TAG))

# Not part of `test`: each one-line mutation of tests/mutations.txt must make its tests fail (minutes).
mutate: venv
	$(BIN)/python tests/mutate.py

demo: build
	$(PYTHON) examples/demo.py $(PYZ)

# Every figure prints its budget; each driver runs even when one before it failed, and the target then fails
# naming the drivers whose figures are over budget (each listed its own above) or that failed. bench_fetch.py
# makes .venv-toolkit once.
bench: build venv
	@failed=""; \
	$(MAKE) --no-print-directory bench-instructions || failed="$$failed bench-instructions"; echo; \
	$(PYTHON) tests/bench/bench.py $(PYZ) || failed="$$failed bench.py"; echo; \
	$(BIN)/python tests/bench/bench_fetch.py $(PYZ) || failed="$$failed bench_fetch.py"; echo; \
	$(BIN)/python tests/bench/bench_channels.py $(PYZ) || failed="$$failed bench_channels.py"; echo; \
	$(BIN)/python tests/bench/bench_intermediate.py $(PYZ) || failed="$$failed bench_intermediate.py"; echo; \
	if [ -n "$$failed" ]; then echo "make bench: over budget or failed in:$$failed" >&2; exit 1; fi; \
	echo "make bench: every figure within its budget"

# Instructions, which repeat exactly where times do not: callgrind, from Debian's valgrind, installed here when
# missing and make runs as root (else tests/bench/bench_instructions.py says how, in one line, and fails).
bench-instructions: build
	@command -v valgrind >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 || { \
		echo "make: installing valgrind for bench-instructions (apt-get)"; apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind; }
	$(PYTHON) tests/bench/bench_instructions.py $(PYZ)

clean:
	rm -rf dist demo launcher/sm-train.pyz $(VENV) .venv-images .venv-toolkit .pytest_cache

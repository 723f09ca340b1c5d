# sm-train: build, demo, test, bench, lint. Needs only python3 and make; tools go into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYZ := dist/sm-train.pyz

.PHONY: build demo test test-images bench lint venv clean

build: $(PYZ)

$(PYZ): build_pyz.py $(wildcard launcher/*.py launcher/*/*.py)
	$(PYTHON) build_pyz.py --output $(PYZ)

venv: $(BIN)/.installed

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

lint: venv
	$(BIN)/ruff check launcher tests build_pyz.py examples
	$(BIN)/vermin --no-tips --violations -t=3.7- launcher

test: lint build
	$(BIN)/python -m pytest -q tests --ignore=tests/images

# Real images against a Docker daemon of its own (root only; otherwise one line and a skip): tests/images/run.sh.
test-images: build
	SM_TRAIN_PYZ=$(CURDIR)/$(PYZ) bash tests/images/run.sh

demo: build
	$(PYTHON) examples/demo.py $(PYZ)

bench: build
	$(PYTHON) tests/bench.py $(PYZ)

clean:
	rm -rf dist $(VENV) .venv-images .pytest_cache

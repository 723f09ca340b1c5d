# sm-train: build, demo, test, bench, lint. Needs only python3 and make; tools go into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYZ := dist/sm-train.pyz

.PHONY: build demo test bench lint venv clean

build: $(PYZ)

$(PYZ): build_pyz.py sm_train_too_old.py $(wildcard launcher/*.py launcher/*/*.py)
	$(PYTHON) build_pyz.py --output $(PYZ)

venv: $(BIN)/.installed

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

lint: venv
	$(BIN)/ruff check launcher tests build_pyz.py sm_train_too_old.py examples
	$(BIN)/vermin --no-tips --violations -t=3.7- launcher
	$(BIN)/vermin --no-tips --violations -t=2.7- -t=3.0- sm_train_too_old.py

test: lint build
	$(BIN)/python -m pytest -q tests

demo: build
	$(PYTHON) examples/demo.py $(PYZ)

bench: build
	$(PYTHON) tests/bench.py $(PYZ)

clean:
	rm -rf dist $(VENV) .pytest_cache

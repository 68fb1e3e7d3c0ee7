# Two commands for everyone: `make course` sets up and opens the course; `make test` sets up and runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup course test regenerate benchmarks

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

setup: $(BIN)/.installed

course: setup
	$(BIN)/jupyter lab notebooks/01_loading_mnist.ipynb

test: setup
	$(BIN)/python -m pytest --nbval

# Contributors: re-execute every notebook in the full profile and store its outputs in notebooks/.
regenerate: setup
	$(BIN)/mnist-course run --in-place --profile full

benchmarks: setup
	$(BIN)/python benchmarks/load_time.py
	$(BIN)/python benchmarks/time_to_accuracy.py

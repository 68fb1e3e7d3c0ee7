# Two commands for everyone: `make course` sets up and opens the course; `make test` sets up and runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# The exact versions the stored outputs were produced with (see CONTRIBUTING.md, "Pinned versions").
CONSTRAINTS ?= constraints.txt

.PHONY: setup course test test-quick test-backends lint regenerate results constraints benchmarks

$(BIN)/.installed: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[test,lint]"
	touch $@

setup: $(BIN)/.installed

course: setup
	$(BIN)/jupyter lab notebooks/01_loading_mnist.ipynb

# Everything: unit tests, the ci run of the course (batch, editions, nbgrader), the browser test, and strict nbval
# (every notebook in the student profile, compared with its stored outputs, then the metric floors).
test: setup
	$(BIN)/python -m pytest --nbval

# The unit tests alone: no notebook is executed (no nbval, no browser, no ci run, no nbgrader), on every CPU
# (pytest-xdist; each worker has its own temporary folders and fixtures).
test-quick: setup
	$(BIN)/python -m pytest tests -m "not executes_notebooks" -n auto

# Every notebook in the ci profile on the other Keras backends (JAX, PyTorch), with the metric floors; installs the
# `backends` extra into .venv. CI runs it; run it before submitting any change to the package.
test-backends: setup
	bash .ci/backends

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Contributors: re-execute every notebook in the student profile (the default) with the pinned versions and store its
# outputs in notebooks/ (what strict nbval compares with).
regenerate: setup
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[test,lint]"
	if [ -n "$$MNIST_COURSE_DATA" ]; then $(BIN)/mnist-course data fetch --from "$$MNIST_COURSE_DATA"; fi
	$(BIN)/mnist-course run --in-place

# Instructors: the full profile writes the shipped results (notebooks/results/*.json) the student profile reads;
# the executed copies go to a temporary folder.
results: setup
	$(BIN)/mnist-course run --results

# After a deliberate upgrade: pin what .venv has now (then `make regenerate` and commit both).
constraints:
	$(BIN)/python -m pip freeze --exclude-editable | sed '1i # pip constraints: the versions the stored outputs were produced with. Update: make constraints' > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

benchmarks: setup
	$(BIN)/python benchmarks/load_time.py
	$(BIN)/python benchmarks/time_to_accuracy.py
	$(BIN)/python benchmarks/student_profile.py
	$(BIN)/python benchmarks/data_pipeline.py

# Two commands do all set-up on a fresh clone with only python3:
#   make demo   -- classify the bundled example export
#   make test   -- format check, lint, types, import contract, tests
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
EXAMPLE := examples/demo-export.csv

.PHONY: help demo test test-all test-browser site-screenshots lint types contracts pytest bench bench-national bench-summary lock example clean

help:
	@echo "make demo      classify the bundled example export (sets up .venv)"
	@echo "make test      format check, lint, mypy --strict, import contract, pytest"
	@echo "make test-all  make test plus the slow tests"
	@echo "make test-browser  the site's pages in headless Chromium (needs Debian's chromium)"
	@echo "make bench     benchmarks on 4 M and 20 M rows (never part of make test)"
	@echo "make bench-national  the same plus the 100 M national year (slow)"
	@echo "make bench-lessons  lesson patterns on 21 M lesson rows against classify"
	@echo "make example   regenerate examples/ with fravaer demo-data"
	@echo "make lock      re-resolve the pinned lock files (needs network to PyPI)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The lock files carry hashes; pip refuses anything that does not match them.
$(RUN_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(DEV_STAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@ $(RUN_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/fravaer classify $(EXAMPLE) --format table

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

types: $(DEV_STAMP)
	$(BIN)/mypy

contracts: $(DEV_STAMP)
	$(BIN)/lint-imports

# The suite runs on both cores (pytest-xdist), a test file to a worker: module fixtures such as
# the docs' console sessions then run once. PYTEST_WORKERS=0 runs it in one process.
# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: without it each of the
# suite's few hundred `fravaer` processes compiles the package again, a third of its start-up
# (docs/testing.md).
PYTEST_WORKERS ?= 2
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

pytest: $(DEV_STAMP)
	$(PYTEST)

test: lint types contracts pytest

test-all: lint types contracts $(DEV_STAMP)
	HYPOTHESIS_PROFILE=long $(PYTEST) -m 'not browser'

# `fravaer site` in a real browser: Debian's chromium (and fonts-dejavu for æøå), driven by the
# playwright package through its executable_path; installs nothing (docs/site.md). Not part of
# `make test`, which needs only python3. FRAVAER_CHROMIUM names another binary.
test-browser: $(DEV_STAMP)
	$(BIN)/pytest -p no:xdist -m browser tests/browser

# Regenerate the screenshots in docs/ (docs/site-*.png) from the browser test: a deliberate act.
site-screenshots: $(DEV_STAMP)
	FRAVAER_SCREENSHOTS=docs $(BIN)/pytest -p no:xdist -m browser tests/browser

# Data is cached under $(FRAVAER_BENCH_DATA) (default benchmarks/data); results go to
# benchmarks/results/*.json. See docs/performance.md.
BENCH_SIZES ?= 4m 20m
BENCH_REPEAT ?= 3

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_SIZES) --repeat $(BENCH_REPEAT)

bench-national: $(DEV_STAMP)
	$(BIN)/python benchmarks/bench.py 4m 20m 100m --repeat $(BENCH_REPEAT)

# Lesson patterns on the municipality as a lesson-level export (about 21 M lesson rows):
# patterns and early-warning against classify of the same file. See docs/performance.md.
.PHONY: bench-lessons
bench-lessons: $(DEV_STAMP)
	$(BIN)/python benchmarks/bench_lessons.py --size 4m --repeat $(BENCH_REPEAT)

bench-summary: $(DEV_STAMP)
	$(BIN)/python benchmarks/summary.py

example: $(RUN_STAMP)
	$(BIN)/fravaer demo-data --pupils 500 --schools 3 --year 2023/24 --until 2024-03-08 --seed 7 -o $(EXAMPLE)

lock:
	$(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet uv
	.lockenv/bin/uv pip compile pyproject.toml requirements.in -o requirements.lock --generate-hashes --python-version 3.11 -q
	.lockenv/bin/uv pip compile pyproject.toml requirements-dev.in -o requirements-dev.lock --generate-hashes --python-version 3.11 -q
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

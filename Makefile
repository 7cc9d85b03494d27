# storeops developer tasks. GNU make; every target creates .venv when it is missing.
#   make demo   build the demo workspace, then serve its dashboard on 127.0.0.1:8000
#   make test   ruff + mypy + the whole test suite (DuckDB and Spark backends)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-workspace
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
# Test workers (pytest-xdist): each starts its own Spark JVM. On 2 cores, 2 workers with
# --dist load took 143 s against 242 s serial (PYTEST_WORKERS=0 runs serially).
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
# pytest exits 5 when it collected nothing. For the whole suite that is a failure;
# set ALLOW_NO_TESTS=1 when a PYTEST_ARGS selection may legitimately match nothing.
ALLOW_NO_TESTS ?= 0
ARTIFACTS := test-artifacts

# Stamps inside .venv record what was installed; they are re-made when
# pyproject.toml changes (or .venv is deleted).
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help demo test bench lint typecheck format docs clean venv dev

help: ## Show the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(RUNTIME_STAMP)

venv: $(RUNTIME_STAMP) ## Create .venv with the runtime dependencies

dev: $(DEV_STAMP) ## Create .venv with the development dependencies

demo: $(RUNTIME_STAMP) ## Build the demo workspace, then serve its dashboard (Ctrl-C stops)
	$(BIN)/storeops demo $(DEMO_DIR)
	$(BIN)/storeops dashboard demo-logins -w $(DEMO_DIR) --url http://$(DEMO_HOST):$(DEMO_PORT)
	@echo "Serving the dashboard on http://$(DEMO_HOST):$(DEMO_PORT)/ until you press Ctrl-C."
	$(BIN)/storeops serve -w $(DEMO_DIR) --host $(DEMO_HOST) --port $(DEMO_PORT)

test: $(DEV_STAMP) ## ruff, mypy and the whole test suite (results in test-artifacts/)
	@mkdir -p $(ARTIFACTS)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	status=0; $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist load \
		--junitxml=$(ARTIFACTS)/junit.xml --basetemp=$(ARTIFACTS)/tmp \
		-o cache_dir=$(ARTIFACTS)/.pytest_cache $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ] && [ "$(ALLOW_NO_TESTS)" = 1 ]; then \
		echo "no tests matched (allowed by ALLOW_NO_TESTS=1)"; status=0; fi; \
	exit $$status

bench: $(DEV_STAMP) ## Run every bench/bench_*.py; output goes to bench/results/
	@mkdir -p bench/results
	@found=0; for script in bench/bench_*.py; do \
		[ -f "$$script" ] || continue; found=1; \
		name=$$(basename "$$script" .py); \
		echo "== $$script -> bench/results/$$name.txt"; \
		$(BIN)/python "$$script" 2>&1 | tee bench/results/$$name.txt; \
	done; \
	[ $$found -eq 1 ] || echo "no bench/bench_*.py scripts yet"

lint: $(DEV_STAMP) ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

typecheck: $(DEV_STAMP) ## mypy only
	$(BIN)/mypy

format: $(DEV_STAMP) ## Apply ruff's formatter and import sorting
	$(BIN)/ruff check --fix --select I src tests bench
	$(BIN)/ruff format src tests bench

docs: $(RUNTIME_STAMP) ## Regenerate docs/data-model.md from the schema registry
	$(BIN)/python -m storeops.warehouse.docs docs/data-model.md

clean: ## Remove build, test and demo outputs (keeps .venv)
	rm -rf $(ARTIFACTS) $(DEMO_DIR) bench/results build dist .mypy_cache .ruff_cache \
		.pytest_cache .hypothesis spark-warehouse metastore_db derby.log
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

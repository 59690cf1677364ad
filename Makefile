# S&OE workbench. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8866
# the suite runs in this many processes (pytest-xdist; a module's tests stay in one, sharing its fixtures)
TEST_WORKERS ?= 2
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed

.DEFAULT_GOAL := help
.PHONY: help setup sample run demo review lab test test-fast screenshots browser postgres bench lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@# rfc3987-syntax (jsonschema's format extra, pulled in by jupyter-events) builds a grammar at every
	@# import of nbformat/altair/papermill/voila: +5 s per kernel and per run. Nothing here validates URIs.
	-$(BIN)/python -m pip uninstall -y -q rfc3987-syntax
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test]'
	-$(BIN)/python -m pip uninstall -y -q rfc3987-syntax
	@touch $@

setup: $(STAMP) ## create .venv with the project installed (provides the `soe` command)

sample: setup ## (re)generate the built-in sample company in data/sample (see `soe sample --help`)
	$(BIN)/soe sample --out data/sample

run: setup ## run the weekly cycle on the sample company (no server)
	$(BIN)/soe run

demo: setup ## four consecutive weeks of the sample company with a meeting each week (soe demo), then the review app on 127.0.0.1
	$(BIN)/soe demo --weeks 4
	$(BIN)/soe review --port $(PORT)

review: setup ## serve the weekly review app (Voila) on http://127.0.0.1:$(PORT)/
	$(BIN)/soe review --port $(PORT)

lab: setup ## open JupyterLab on the notebooks (127.0.0.1:8888)
	$(BIN)/soe lab

browser: ## install Debian's chromium for the browser tests when it is missing
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium for the browser tests (apt, about a minute)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

postgres: ## install Debian's PostgreSQL server for the decision-log tests when it is missing (the tests start their own)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "installing Debian's PostgreSQL server for the decision-log tests (apt)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

test: $(TEST_STAMP) browser postgres ## install what tests need and run the whole suite (unit, notebooks, end-to-end, browser, PostgreSQL)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --nbval-lax tests notebooks

test-fast: $(TEST_STAMP) ## the quick tier for your own loop: units and engines on small data, no notebook runs, no servers (< 3 min)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow and not browser" tests

screenshots: $(TEST_STAMP) browser ## retake docs/images/ from the real review page in Chromium (the only target that writes them)
	SOE_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/test_review.py -k review_page_in_chromium

# Peers live in their own venv: statsforecast 2.x requires pandas<3, the workbench pandas 3.
BENCH_STAMP := .venv-peers/.installed
$(BENCH_STAMP): benchmarks/requirements-peers.txt
	@test -x .venv-peers/bin/python || $(PYTHON) -m venv .venv-peers
	.venv-peers/bin/python -m pip install -q -r benchmarks/requirements-peers.txt
	@touch $@

bench: $(STAMP) $(BENCH_STAMP) ## run the benchmarks at 100k SKU-locations (prints ratios against peers measured in the same run)
	$(BIN)/python -m benchmarks $(if $(BASELINE),--baseline $(BASELINE))

lint: $(TEST_STAMP) ## ruff over the library and tests
	$(BIN)/python -m ruff check soe_lib tests benchmarks

clean: ## remove the venv, generated sample data and outputs
	rm -rf $(VENV) .venv-peers data/sample outputs/[0-9]* outputs/.[0-9]* outputs/runs outputs/lab outputs/minutes outputs/failed-runs outputs/.staging outputs/.history

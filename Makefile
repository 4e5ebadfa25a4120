# Every target installs what it needs into .venv first, so each one works on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: install test demo generate reliability

$(STAMP): pyproject.toml sandbox/pyproject.toml
	@echo "Installing the connector, the sandbox and the test tools into $(VENV) (about two minutes on a first run)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./sandbox
	touch $(STAMP)

install: $(STAMP)

# Three workers on two cores: much of a test's time is spent waiting on the connector's subprocess, its request budget
# and its retries' backoff.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 3 --dist worksteal

$(DEMO_STAMP): $(STAMP)
	@echo "Installing the demo's PyAirbyte and DuckDB into $(VENV) (about a minute on a first run)..."
	$(BIN)/pip install --quiet -e '.[dev,demo]'
	touch $(DEMO_STAMP)

# CONFIG=path/to/config.json syncs a real Stripe account instead of the local sandbox.
demo: $(DEMO_STAMP)
	$(BIN)/python scripts/demo.py $(if $(CONFIG),--config $(CONFIG))

generate: $(STAMP)
	$(BIN)/python tools/generate_from_openapi.py

# Runs the fault, bad-input and secrets suites (a few minutes) and rewrites docs/reliability.md from what happened.
reliability: $(STAMP)
	$(BIN)/python tools/reliability_report.py

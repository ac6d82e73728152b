# Two commands for a newcomer: `make demo` and `make test`. Both set themselves up on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kwa-installed
WORKSPACE ?= .

.PHONY: setup demo test lab bench browser clean-demo calibrate

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# Headless Chromium (Debian's package) draws the reports in the browser tests and prints the PDFs.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium and poppler-utils for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium poppler-utils >/dev/null; }

demo: setup
	$(BIN)/kwa demo --workspace $(WORKSPACE)
	@# The demo plants a handful of realistic mistakes, so ingest exits 1 (some rows rejected) by design.
	$(BIN)/kwa ingest --workspace $(WORKSPACE); rc=$$?; [ $$rc -le 1 ] || exit $$rc
	$(BIN)/kwa report all --workspace $(WORKSPACE)
	@echo
	@echo "Processed tables:   $(WORKSPACE)/data/processed/"
	@echo "Validation report:  $(WORKSPACE)/reports/validation.html"
	@echo "Reports:            $(WORKSPACE)/reports/ (cohort.html, patterns.html, students/<id>.html)"

test: setup browser
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lab: setup
	@# opens the explore notebook (notebooks/explore.ipynb) on this workspace's processed tables
	KWA_WORKSPACE=$(abspath $(WORKSPACE)) $(BIN)/jupyter lab notebooks/explore.ipynb

bench: setup
	$(BIN)/python benchmarks/run.py

# Calibration of the statistics on simulated schools with known answers (docs/impact.md and docs/patterns.md
# publish the tables).
calibrate: setup
	$(BIN)/python benchmarks/calibrate_impact.py --reps 1000 --seed 17
	$(BIN)/python benchmarks/calibrate_watchlist.py

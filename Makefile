# Two commands on a fresh machine: `make run` (demo bilan) and `make test` (all tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installe
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: setup run test ui demo clean

# Installed once; re-installed only when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p $(DAGSTER_HOME) && touch $(DAGSTER_HOME)/dagster.yaml

run: setup
	$(BIN)/bilan run --annee 2025

test: setup
	$(BIN)/pytest

ui: setup
	$(BIN)/dagster dev -w workspace.yaml

# Regenerates the committed demo inbox from the seeds' figures (deterministic).
demo: setup
	$(BIN)/python tools/generate_demo.py

clean:
	rm -rf sortie $(DAGSTER_HOME)

# Two commands on a fresh machine: `make run` (demo bilan) and `make test` (all tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installe
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: setup system run test ui portail demo bench clean

# Debian packages the project needs: Chromium prints the PDFs and checks the HTML bilan as a reader sees it,
# DejaVu fonts, poppler-utils reads the PDFs back (page numbers of the contents, tests) and turns pages into images,
# Pango for WeasyPrint (the PDF engine `make bench` compares Chromium with), PostgreSQL for the production-instance
# test. Installed only when missing.
system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "Paquets Debian à installer :$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Installed once; re-installed only when pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# The Dagster instance: SQLite by default, PostgreSQL with BILAN_INSTANCE=postgres (deploiement/README.md).
setup: system $(STAMP)
	@mkdir -p $(DAGSTER_HOME) && cp deploiement/dagster.$${BILAN_INSTANCE:-sqlite}.yaml $(DAGSTER_HOME)/dagster.yaml

run: setup
	$(BIN)/bilan run --annee 2025

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadgroup

ui: setup
	$(BIN)/dagster dev -w workspace.yaml

# The partners' deposit portal on the demo campaign (CCCO 2025), on localhost: links and steward in sortie/portail/.
portail: setup
	$(BIN)/bilan portail servir --demo

# Regenerates the committed demo inbox from the seeds' figures (deterministic).
demo: setup
	$(BIN)/python tools/generate_demo.py

# Benchmark, not a test (bench/run_bench.py): writes bench/RESULTS.md, about half an hour. The national pass at
# scale 435 (tools/generate_national.py, data in /tmp, never committed); ECHELLES="1 10 100" runs the earlier
# scale-by-scale sweep instead (hours), SANS_BILAN=1 leaving out its bilans.
bench: setup
	$(BIN)/pip install --quiet -e ".[test,bench]"
	$(BIN)/python bench/run_bench.py $(if $(ECHELLES),--echelles "$(ECHELLES)") $(if $(SANS_BILAN),--sans-bilan)

clean:
	rm -rf sortie $(DAGSTER_HOME)

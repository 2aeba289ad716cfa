# The two commands a fresh machine needs (Python 3.11+):
#   make serve   serve the emulator on its embedded SQLite default (http://127.0.0.1:8080)
#   make test    run the whole test suite, on SQLite and on a PostgreSQL server it starts
# Each installs what it needs into a virtual environment under .venv/ (one per interpreter: PYTHON=python3.13).

PYTHON ?= python3
# The suite runs on every core (pytest-xdist: each worker its own emulator and PostgreSQL server).
PYTEST_ARGS ?= -n auto
VENV ?= .venv/$(notdir $(PYTHON))
BIN := $(VENV)/bin
SOURCES := pyproject.toml $(shell find src migrations wsdl -type f -not -name '*.pyc' 2>/dev/null)

.PHONY: serve test bench bench-harness bench-fuzz postgresql mono clean

serve: $(VENV)/.installed
	$(BIN)/xweb-emulator serve $(ARGS)

test: $(VENV)/.installed-test postgresql mono
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/xweb_insert.py $(ARGS)

bench-harness: $(VENV)/.installed-test
	$(BIN)/python bench/harness.py $(ARGS)

bench-fuzz: $(VENV)/.installed-test
	$(BIN)/python bench/fuzz.py $(ARGS)

# PostgreSQL server binaries for the suite's throwaway server (the tests start and stop it themselves).
postgresql:
	@scripts/ensure-postgresql

# Mono's mono, mcs and wsdl for the suite's .NET client (a proxy generated from the served WSDL, compiled and run).
mono:
	@scripts/ensure-mono

$(VENV)/.installed: $(SOURCES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet .
	touch $@

$(VENV)/.installed-test: $(SOURCES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[test]"
	touch $@ $(VENV)/.installed

clean:
	rm -rf .venv build src/*.egg-info

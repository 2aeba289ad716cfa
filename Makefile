# The two commands a fresh machine needs (Python 3.11+):
#   make serve   serve the emulator on its embedded SQLite default (http://127.0.0.1:8080)
#   make test    run the whole test suite, on SQLite and on a PostgreSQL server it starts (and the dashboard's
#                tests in headless Chromium)
# While working, make test-fast runs the unit and integration layers on SQLite only (tests/unit takes seconds).
# Each installs what it needs into a virtual environment under .venv/ (one per interpreter: PYTHON=python3.13).

PYTHON ?= python3
# The suite runs on every core (pytest-xdist: each worker its own emulator and PostgreSQL server).
PYTEST_ARGS ?= -n auto
VENV ?= .venv/$(notdir $(PYTHON))
BIN := $(VENV)/bin
SOURCES := pyproject.toml $(shell find src migrations wsdl -type f -not -name '*.pyc' 2>/dev/null)

.PHONY: serve test test-fast fuzz bench bench-harness bench-profile bench-fuzz postgresql mono chromium wrk clean

serve: $(VENV)/.installed
	$(BIN)/xweb-emulator serve $(ARGS)

test: $(VENV)/.installed-test postgresql mono chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop: tests/unit (domain functions on a database, no server) and tests/integration (the app through an
# in-process server), their PostgreSQL parametrisation deselected; tests/system (subprocesses, real clients) not run.
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/unit tests/integration -m "not postgresql" $(PYTEST_ARGS)

# The property-based fuzz and the state machines at length (docs/reliability.md): thousands of mutated requests per
# vendor and the control plane, hundreds of long call sequences per vendor, on SQLite and PostgreSQL; failing examples are kept in .hypothesis/ and replayed first by the next run.
# make fuzz ARGS="-k sqlite" narrows it.
fuzz: $(VENV)/.installed-test postgresql
	$(BIN)/python -m pytest tests/integration/test_property_fuzz.py tests/integration/test_state_machines.py \
		$(PYTEST_ARGS) --hypothesis-profile=fuzz \
		--hypothesis-show-statistics $(ARGS)

# The speed the emulator must reach (issues 9, 24), beside its stack's limit measured in the same run: bench/run.py --help.
# make bench ARGS=--full runs the 60 s latency runs; ARGS="throughput latency" only those benchmarks.
bench: $(VENV)/.installed-test postgresql wrk
	$(BIN)/python bench/run.py $(ARGS)

bench-harness: $(VENV)/.installed-test
	$(BIN)/python bench/harness.py $(ARGS)

# Where a call's CPU time goes, in process: make bench-profile ARGS="xweb --profile" (bench/cpu_profile.py --help).
bench-profile: $(VENV)/.installed-test
	$(BIN)/python bench/cpu_profile.py $(ARGS)

bench-fuzz: $(VENV)/.installed-test
	$(BIN)/python bench/fuzz.py $(ARGS)

# The HTTP load generator of the benchmarks (Debian's wrk).
wrk:
	@scripts/ensure-wrk

# PostgreSQL server binaries for the throwaway server of the suite and of make bench (they start and stop it).
postgresql:
	@scripts/ensure-postgresql

# Mono's mono, mcs and wsdl for the suite's .NET client (a proxy generated from the served WSDL, compiled and run).
mono:
	@scripts/ensure-mono

# Headless Chromium and chromedriver, Debian's, for the dashboard's browser tests.
chromium:
	@scripts/ensure-chromium

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

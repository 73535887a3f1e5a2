# The few commands people need. Each sets up what it needs first (virtualenv, packages).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check fuzz load bench screenshots clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

## run: build the demo city if absent, then serve it (embedded SQLite, no server needed) on
## http://127.0.0.1:$(PORT) (make run PORT=8001 for another port)
PORT ?= 8000
run: $(STAMP)
	$(BIN)/volmatch demo --if-missing
	$(BIN)/volmatch user demo
	$(BIN)/volmatch serve --port $(PORT)

## test: linters and type checks, then the whole suite, PostGIS included (on TEST_PROCESSES
## processes; the tests that stop PostgreSQL run alone afterwards)
TEST_PROCESSES ?= 2
test: $(STAMP)
	bash scripts/ensure-postgis.sh
	bash scripts/ensure-chromium.sh
	$(MAKE) --no-print-directory check
	$(BIN)/pytest -n $(TEST_PROCESSES) -m "not exclusive"
	$(BIN)/pytest -m exclusive

## check: ruff (lint, format, complexity), mypy, the import contracts (the core does no I/O), known vulnerabilities in what we pin
check: $(STAMP)
	$(BIN)/ruff check matcher api tests scripts
	$(BIN)/ruff format --check matcher api tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/audit.py constraints.txt

## fuzz: the API fuzzed from its OpenAPI schema at length (make test runs a few examples per operation)
fuzz: $(STAMP)
	VOLMATCH_FUZZ_EXAMPLES=$${VOLMATCH_FUZZ_EXAMPLES:-200} $(BIN)/pytest -q tests/api/test_fuzz.py

## load: 60 s of mixed traffic (locust) against the service on PostgreSQL+PostGIS with 100,000 volunteers
load: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[load]'
	bash scripts/ensure-postgis.sh
	$(BIN)/python scripts/load.py $(LOAD_ARGS)

## bench: index build, memory and query latencies at 10^6 volunteers x 10^5 activities
bench: $(STAMP)
	$(BIN)/volmatch bench

## screenshots: the web console's main pages at phone and desktop width, into screenshots/
screenshots: $(STAMP)
	bash scripts/ensure-chromium.sh
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

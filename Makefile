# The commands of the README: `make run` serves on SQLite with gunicorn, `make test` runs the tests
# on SQLite and then on PostgreSQL, `make bench` runs the benchmarks; `make dev` serves with Flask's
# reloading development server.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run dev test test-sqlite test-postgresql test-pgbouncer lint format bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.run-deps $@

run: $(VENV)/.run-deps
	$(BIN)/flask --app wsgi promo demo --server http://$(HOST):$(PORT)
	exec $(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT)

dev: $(VENV)/.run-deps
	$(BIN)/flask --app wsgi promo demo --server http://$(HOST):$(PORT)
	$(BIN)/flask --app wsgi run --debug --host $(HOST) --port $(PORT)

# PostgreSQL: PROMO_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
# where it is not reachable those tests skip with a reason (under CI=true they fail).
# test-pgbouncer runs the PostgreSQL pass again through a PgBouncer in transaction pooling mode
# that the run starts on a free port and stops after (Debian's pgbouncer; docs/postgresql.md).
# Each pass runs in PYTEST_WORKERS pytest-xdist workers; the tests of tests/live run one after
# another in one of them (tests/parallel.py). PYTEST_WORKERS=0 runs a pass serially.
PYTEST_WORKERS ?= 4
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test: test-sqlite test-postgresql test-pgbouncer

test-sqlite: $(VENV)/.dev-deps
	$(PYTEST) --db sqlite $(PYTEST_ARGS)

test-postgresql: $(VENV)/.dev-deps
	$(PYTEST) --db postgresql $(PYTEST_ARGS)

test-pgbouncer: $(VENV)/.dev-deps
	$(PYTEST) --db postgresql --pgbouncer $(PYTEST_ARGS)

# `make bench BENCH_ARGS="--only postgresql"` runs only the rows that run on PostgreSQL (the
# counts there, round trips, latency behind 1 ms, 64 clients against 8); "--only sqlite" the
# others; "--only throughput latency" picks rows by name (bench/run.py --help).
bench: $(VENV)/.dev-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

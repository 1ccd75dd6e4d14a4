# Two commands matter: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs the runtime lock alone; tests and the benchmark add their
# tools from requirements-dev.lock (which includes the runtime lock).
RUN_STAMP := $(VENV)/.installed-run-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-dev-$(shell cat requirements.lock requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)

export HOST ?= 127.0.0.1
export PORT ?= 8000

.PHONY: run test migrate lint clean bench screenshots mutate fuzz

$(RUN_STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-run-*
	touch $(RUN_STAMP)

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	rm -f $(VENV)/.installed-dev-*
	touch $(STAMP)

# Demo mode is make run's default only on a loopback HOST: service/config.py refuses a
# non-loopback HOST unless the operator set COMMENTS_DEMO themselves (#14 item 4).
DEMO_SET_BY := $(if $(COMMENTS_DEMO),,make)

## make run: install, migrate the database (SQLite by default), seed the demo article, serve
## on http://$(HOST):$(PORT) (demo mode unless COMMENTS_DEMO is set: http://$(HOST):$(PORT)/demo)
## with granian (service/serve.py), and once the server answers, print where its pages are
## (`flask banner`). One worker process (threads inside it) while rate limits are counted in
## memory, so the documented limits hold exactly; WEB_CONCURRENCY overrides. The server also
## starts the delivery worker (webhooks: `flask --app service worker`) and stops it with itself.
run: export COMMENTS_DEMO ?= true
run: export COMMENTS_DEMO_SET_BY := $(DEMO_SET_BY)
run: export COMMENTS_ALLOW_GUESTS ?= $(COMMENTS_DEMO)
run: export WEB_CONCURRENCY ?= $(if $(filter-out memory://,$(or $(RATELIMIT_STORAGE_URI),memory://)),2,1)
run: $(RUN_STAMP)
	$(BIN)/flask --app service migrate
	$(BIN)/flask --app service seed-demo
	$(BIN)/flask --app service banner --wait 60 &
	$(BIN)/python -m service.serve

## make migrate: upgrade the database named by DATABASE_URL to the newest schema
migrate: $(RUN_STAMP)
	$(BIN)/flask --app service migrate

# axe-core for the browser tests' accessibility checks, from the npm registry (Node.js is on
# every machine of this kind; without npm the browser tests say what is missing).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	-command -v npm >/dev/null 2>&1 && npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $(AXE)

## make test: the whole suite (TEST_DATABASE_URL / TEST_REDIS_URL choose PostgreSQL / Redis)
test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make screenshots: regenerate docs/screenshots/ from the browser tests marked `screenshots`
screenshots: $(STAMP) $(AXE)
	COMMENTS_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q -m screenshots tests/browser

## make bench: load test with wrk on SQLite (and PostgreSQL when BENCH_DATABASE_URL or the
## default comments_perf database answers); prints the table and rewrites docs/performance.md
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk >/dev/null 2>&1 || { \
	  echo "make bench needs wrk and could not install it: run 'apt-get install -y wrk' as root"; exit 1; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	@# issue 15: notification list with 10,000 notifications, posting with 3 followers vs
	@# none, one worker's webhooks per second; issue 16: 10,000 open event streams
	$(BIN)/python -m bench.notifications
	$(BIN)/python -m bench.webhooks --deliveries 5000
	$(BIN)/python -m bench.streams --subscribers 10000
	@# the same on a streams instance (COMMENTS_SERVER=uvicorn, deliveries elsewhere: docs/production.md)
	$(BIN)/python -m bench.streams --subscribers 10000 --server uvicorn --no-delivery-worker
	@# BENCH_IMPORT=1000000: also time `flask import disqus` on a generated export (bench/imports.py)
	$(if $(BENCH_IMPORT),$(BIN)/python -m bench.imports --comments $(BENCH_IMPORT))

## make lint: ruff (lint and format check) and mypy (service/, strictly on service/domain); CI runs it first
LINT_PATHS := service tests bench migrations
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

## make mutate: mutation testing of service/domain/ with mutmut against the unit + API tests
## (2 jobs; MUTANTS="service.domain.ranking.*" narrows it); prints the score and fails on a
## survivor that tests/mutation_allowlist.toml does not excuse (docs/reliability.md)
MUTANTS ?=
mutate: $(STAMP)
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python -m tests.mutation_testing $(MUTANTS)

## make fuzz: schemathesis with every check on (schemathesis.toml) against the service served
## by granian, as an admin, seed 20261129, 12 examples per operation: on SQLite, then on
## PostgreSQL + Redis when TEST_DATABASE_URL (emptied!) and TEST_REDIS_URL are set. Fails on
## any finding (tests/reliability/fuzz_live.py; docs/reliability.md has the runs)
fuzz: $(STAMP)
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL $(BIN)/python -m tests.reliability.fuzz_live
	$(if $(TEST_DATABASE_URL),$(BIN)/python -m tests.reliability.fuzz_live)

clean:
	rm -rf $(VENV) instance .pytest_cache mutants

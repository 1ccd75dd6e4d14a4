# Two commands matter: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

export HOST ?= 127.0.0.1
export PORT ?= 8000

.PHONY: run test migrate lint clean bench screenshots

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## make run: install, migrate the database (SQLite by default), seed the demo article, serve
## on http://$(HOST):$(PORT) (demo mode unless COMMENTS_DEMO is set: http://$(HOST):$(PORT)/demo)
## and, once the server answers, print where its pages are (`flask banner`)
run: export COMMENTS_DEMO ?= true
run: export COMMENTS_ALLOW_GUESTS ?= $(COMMENTS_DEMO)
run: $(STAMP)
	$(BIN)/flask --app service migrate
	$(BIN)/flask --app service seed-demo
	$(BIN)/flask --app service banner --wait 60 &
	$(BIN)/gunicorn --config gunicorn.conf.py service.wsgi:app

## make migrate: upgrade the database named by DATABASE_URL to the newest schema
migrate: $(STAMP)
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
	@# BENCH_IMPORT=1000000: also time `flask import disqus` on a generated export (bench/imports.py)
	$(if $(BENCH_IMPORT),$(BIN)/python -m bench.imports --comments $(BENCH_IMPORT))

clean:
	rm -rf $(VENV) instance .pytest_cache

# SKM Kiosk. `make run` serves the demo (gunicorn and the queue worker, bin/serve); `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000
# Plain-HTTP demo on localhost/LAN: session cookies without the Secure flag.
# Behind HTTPS, run with SECURE_COOKIES=true.
SECURE_COOKIES ?= false
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/skm_test

.PHONY: install run test test-sqlite test-postgres lint audit lock bench clean

# Exactly the locked versions, each checked against its hash (requirements.lock: app, test
# and lint dependencies); then the project itself without resolving anything again.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --only-binary :all: -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app wsgi skm init-db
	$(BIN)/flask --app wsgi skm seed-demo --if-empty
	SKM_SECURE_COOKIES=$(SECURE_COOKIES) BIN=$(BIN) PORT=$(PORT) bin/serve

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(BIN)/python -m pytest -q

test-postgres: $(STAMP)
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -q

# Under CI=true the PostgreSQL run is part of the suite and nothing skips.
ifeq ($(CI),true)
test: test-sqlite test-postgres
else
test: test-sqlite
endif

# ruff (lint, import order) over the tree, mypy over the domain package.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Known vulnerabilities of the locked packages (pip-audit where its services answer,
# else the index's project JSON): see .ci/audit.py.
audit:
	$(PYTHON) .ci/audit.py requirements.lock

# Re-resolve requirements.lock after a change to pyproject.toml (keeps the locked versions
# where they still fit; `make lock UPGRADE=--upgrade` moves everything to the newest).
# uv is installed into the venv only for this and removed again.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --extra lint --generate-hashes --universal \
		--python-version 3.11 --no-config \
		--custom-compile-command "make lock" $(UPGRADE) -o requirements.lock
	$(BIN)/python -m pip uninstall --quiet --yes uv

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts

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

# Each suite has its own Redis database (tests that use Redis read SKM_TEST_REDIS_DB) and its
# own artifacts folder (some tests read back the PDF they wrote), so the two can run at once.
test-sqlite: $(STAMP)
	env -u DATABASE_URL SKM_TEST_REDIS_DB=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP)
	DATABASE_URL=$(TEST_DATABASE_URL) SKM_TEST_REDIS_DB=2 SKM_TEST_ARTIFACTS=$(CURDIR)/tests/artifacts/postgresql \
		$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Under CI=true the PostgreSQL run is part of the suite and nothing skips. The two suites run
# at the same time (the wall time of the longer one): each one's output is held back and
# printed whole when it ends (--output-sync); make fails if either fails, after both ended.
# No pytest cache: the two runs would write .pytest_cache at once.
ifeq ($(CI),true)
test: $(STAMP)
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres PYTEST_ARGS="-p no:cacheprovider $(PYTEST_ARGS)"
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

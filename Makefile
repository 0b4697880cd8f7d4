# Tollgate — two commands: `make run` and `make test`. Everything else is installed here.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# what the install depends on: the dependencies, and the one C module built by setup.py
BUILD_INPUTS := pyproject.toml setup.py app/screening/_align.c app/screening/_blocking.c
BUILD_HASH := $(shell cat $(BUILD_INPUTS) | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(BUILD_HASH)
export PLAYWRIGHT_BROWSERS_PATH := 0
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test test-fast test-repeat install lint format test-sqlite test-postgres bench clean audit fuzz soak

# uv installs the pinned wheels in seconds (pip takes over a minute): `make run` must be quick.
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
RUN_STAMP := $(VENV)/.run-$(BUILD_HASH)

$(UV):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@# Python's bundled pip and setuptools are old releases with published advisories; uv
	@# installs everything from here on, so they go (pip-audit's own dependencies bring pip
	@# and setuptools back at current releases in the development install).
	$(UV) pip uninstall --quiet --python $(VENV)/bin/python pip setuptools

$(RUN_STAMP): $(BUILD_INPUTS) | $(UV)
	$(UV) pip install --quiet --python $(PY) -e .
	@rm -f $(VENV)/.run-*
	@touch $@

$(STAMP): $(BUILD_INPUTS) | $(UV)
	$(UV) pip install --quiet --python $(PY) -e '.[dev]'
	@rm -f $(VENV)/.installed-* $(VENV)/.run-*
	@touch $@ $(RUN_STAMP)

install: $(STAMP)

# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set (as in some sandboxes, CI's
# included): else every process compiles every module again, 10-17 s apiece on a busy machine:
# init, demo load, the web workers and the scheduler, and in the tests each xdist worker, CLI
# subprocess and live server (the fast lane took 142 s here with it set, 113 s without).
# __pycache__ is git-ignored.
unexport PYTHONDONTWRITEBYTECODE

run: $(RUN_STAMP)
	$(VENV)/bin/tollgate init
	$(VENV)/bin/tollgate demo load
	@# The demo designates its headquarters unit for escalations beyond a unit (README settings).
	TOLLGATE_ALERT_ESCALATION_UNITS=$${TOLLGATE_ALERT_ESCALATION_UNITS-HQ-ENF} \
		$(VENV)/bin/tollgate serve --host 127.0.0.1 --port 5000

lint: install
	$(VENV)/bin/ruff check app tests bench scripts
	$(VENV)/bin/ruff format --check app tests bench scripts
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format app tests bench scripts
	$(VENV)/bin/ruff check --fix app tests bench scripts

test-sqlite: install
	TOLLGATE_TEST_DB=sqlite $(VENV)/bin/pytest -q -rfEs

# The fast lane while developing: unit and service tests on every core (pytest-xdist; each
# worker has its own test database on either backend), without what tests/conftest.py marks
# slow (processes, CLI, outages, live servers, browsers). Under 2 minutes here when quiet.
# TOLLGATE_TEST_DB=postgres (with TOLLGATE_TEST_POSTGRES_URL) runs it on PostgreSQL.
test-fast: install
	TOLLGATE_TEST_DB=$${TOLLGATE_TEST_DB:-sqlite} $(VENV)/bin/pytest -q -rfEs -n auto -m "not slow and not browser"

test-postgres: install
	@if [ -n "$$TOLLGATE_TEST_POSTGRES_URL" ]; then \
		TOLLGATE_TEST_DB=postgres $(VENV)/bin/pytest -q -rfEs; \
	else echo "TOLLGATE_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; fi

# Both backends at once: much of the suite waits on real processes, servers and outages,
# so the two runs overlap well on two cores. Browser tests run in their own pytest process
# (their own database): a live server's background requests must not meet other tests.
# No test is retried (--reruns 0): a retry hides what a flake says. The suite passed ten runs in
# a row this way on clean clones (make test-repeat; issue 21, stop 27); a test that fails once
# fails the run, and is fixed at its cause.
# -r: failures and errors (f, E) and every skipped test and why (s: a skip must not hide a
# regression). One -r only: pytest keeps the last one given.
RERUNS = --reruns 0 -rfEs
SUITE = $(VENV)/bin/pytest -q $(RERUNS) -m "not browser" && $(VENV)/bin/pytest -q $(RERUNS) -m browser

test: lint audit
	@mkdir -p .test-logs
	@(TOLLGATE_TEST_DB=sqlite; export TOLLGATE_TEST_DB; { $(SUITE); } > .test-logs/sqlite.log 2>&1; echo $$? > .test-logs/sqlite.rc) & \
	if [ -n "$$TOLLGATE_TEST_POSTGRES_URL" ]; then \
		(TOLLGATE_TEST_DB=postgres; export TOLLGATE_TEST_DB; { $(SUITE); } > .test-logs/postgres.log 2>&1; echo $$? > .test-logs/postgres.rc); \
	else echo "TOLLGATE_TEST_POSTGRES_URL not set: PostgreSQL run skipped" > .test-logs/postgres.log; echo 0 > .test-logs/postgres.rc; fi; \
	wait; \
	echo "=== SQLite run ==="; cat .test-logs/sqlite.log; \
	echo "=== PostgreSQL run ==="; cat .test-logs/postgres.log; \
	test "$$(cat .test-logs/sqlite.rc)" = 0 && test "$$(cat .test-logs/postgres.rc)" = 0

# Flakiness check (issue 21): the whole SQLite suite, then its browser tests, RUNS times in a row
# with no retry (--reruns 0), each run in a new random order; stops at the first failing run and
# names its seed. Logs in .test-logs/repeat-N.log. About 18 minutes a run on two quiet cores.
RUNS ?= 10
test-repeat: install
	@mkdir -p .test-logs
	@for i in $$(seq 1 $(RUNS)); do \
		start=$$(date +%s); \
		TOLLGATE_TEST_DB=sqlite $(VENV)/bin/pytest -q --reruns 0 -rfEs -m "not browser" > .test-logs/repeat-$$i.log 2>&1 \
		&& TOLLGATE_TEST_DB=sqlite $(VENV)/bin/pytest -q --reruns 0 -rfEs -m browser >> .test-logs/repeat-$$i.log 2>&1; \
		rc=$$?; seeds=$$(grep -o 'randomly-seed=[0-9]*' .test-logs/repeat-$$i.log | sort -u | tr '\n' ' '); \
		echo "run $$i of $(RUNS): rc=$$rc, $$(( $$(date +%s) - start )) s, $$seeds"; \
		if [ $$rc != 0 ]; then grep -E '^(FAILED|ERROR)' .test-logs/repeat-$$i.log; exit 1; fi; \
	done; echo "$(RUNS) runs in a row passed with --reruns 0"

bench: install
	$(PY) bench/bench_pages.py

clean:
	rm -rf $(VENV) instance .pytest_cache

migration: install
	rm -f instance/migration-scratch.db
	TOLLGATE_DATABASE_URL=sqlite:///$(CURDIR)/instance/migration-scratch.db $(VENV)/bin/flask --app app.wsgi db upgrade heads
	TOLLGATE_DATABASE_URL=sqlite:///$(CURDIR)/instance/migration-scratch.db $(VENV)/bin/flask --app app.wsgi db migrate -m "$(MSG)"
	rm -f instance/migration-scratch.db

# pip-audit over the pinned dependencies of pyproject.toml. Without a reachable vulnerability
# service (PyPI's JSON API or OSV) pip-audit audits nothing: it says so loudly, and
# scripts/audit_latest.py checks what PyPI's project pages can tell (see its docstring).
AUDIT_JSON := $(VENV)/pip-audit.json
define AUDIT_VERDICT
import json, os, sys
deps = json.load(open(sys.argv[1]))["dependencies"] if os.path.exists(sys.argv[1]) else []
bad = [d["name"] + " " + d["version"] + ": " + ", ".join(v["id"] for v in d["vulns"])
       for d in deps if d.get("vulns")]
skipped = sum(1 for d in deps if d.get("skip_reason"))
audited = len(deps) - skipped
if bad:
    sys.exit("pip-audit: known vulnerabilities:\n  " + "\n  ".join(bad))
if not audited:
    print("pip-audit: NOT AUDITED - no vulnerability service reachable from here"
          " (PyPI's per-release JSON API, OSV); see .venv/pip-audit.log")
    import subprocess
    sys.exit(subprocess.call([sys.executable, "scripts/audit_latest.py"]))
else:
    print("pip-audit: no known vulnerabilities in %d pinned packages (%d not auditable)"
          % (audited, skipped))
endef
export AUDIT_VERDICT
audit: install
	@$(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > $(VENV)/pinned-requirements.txt
	@rm -f $(AUDIT_JSON)
	@$(VENV)/bin/pip-audit --progress-spinner off --no-deps --disable-pip -f json -o $(AUDIT_JSON) -r $(VENV)/pinned-requirements.txt 2>$(VENV)/pip-audit.log || true
	@$(PY) -c "$$AUDIT_VERDICT" $(AUDIT_JSON)

# The API fuzzing at length (make test runs the same harness with a few examples per operation).
FUZZ_EXAMPLES ?= 200
fuzz: install
	TOLLGATE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TOLLGATE_FUZZ_RANDOM=1 $(VENV)/bin/pytest -q -p no:randomly tests/test_api_fuzz.py

# 4 gunicorn workers + the worker, SQLite then PostgreSQL, 50 Locust users for 10 minutes
# (SOAK_SECONDS / SOAK_USERS shorten it); report in instance/soak-report.json.
soak: install
	$(PY) bench/soak/run.py --backend $(or $(SOAK_BACKEND),both)

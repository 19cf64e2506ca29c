# kpplan: `make run` to try it, `make test` to check it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTEST_ARGS ?=
FLASK := $(BIN)/flask --app wsgi

.PHONY: help run install install-dev test lint format browser migrate seed clean bench coverage lock

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.installed-runtime

install: $(VENV)/.installed-runtime  ## create .venv from requirements.lock

install-dev: $(VENV)/.installed-dev  ## ... with the test tools from requirements-dev.lock

migrate: install  ## apply the database migrations
	$(FLASK) db upgrade

seed: migrate  ## load the member states, organisations and demo accounts
	$(FLASK) kpplan seed --demo

# The reminder scheduler runs beside the web server, in its own process (never inside the web
# app); without MAIL_SERVER its mails land in instance/mail as .eml files. Both stop together.
run: seed  ## install, migrate, load the demo and serve http://127.0.0.1:$(PORT), with the reminders
	@echo
	@echo "kpplan is at http://127.0.0.1:$(PORT) — sign in with a demo account above."
	@echo "Reminder mails are written to instance/mail. Stop it with Ctrl-C."
	@echo
	@# Links in mails start with BASE_URL, one setting read by the scheduler and by a
	@# hand-run `kpplan remind` alike: never guessed from the port served here.
	@if [ "$(PORT)" != 5000 ] && [ -z "$${KPPLAN_BASE_URL}" ] && ! grep -qs '^BASE_URL' instance/config.py; then \
	  echo "Links in reminder mails start with BASE_URL, http://127.0.0.1:5000 unless set."; \
	  echo "Serving on port $(PORT), set it as well: KPPLAN_BASE_URL=http://127.0.0.1:$(PORT) make run PORT=$(PORT)"; \
	  echo "(or BASE_URL in instance/config.py), so that every reminder links here."; \
	  exit 2; \
	fi; \
	$(FLASK) kpplan scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Browser tests drive Debian's Chromium; install it when we can (root with apt-get).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Note: /usr/bin/chromium is missing; browser tests will be skipped (they fail under CI=true)."; \
	  fi; \
	fi

test: install-dev browser  ## ruff, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev  ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev  ## format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The benchmark: the 1x and 100x databases are built once under instance/bench/ (again when
# the schema or the builder changes); set KPPLAN_BENCH_POSTGRES_URL to measure PostgreSQL too.
# Every part runs, then it exits 1 if any target was missed.
bench: install-dev  ## every page at 100x (warm and right after a write), throughput, a reminder tick
	$(BIN)/python bench/world.py --scale 1 >/dev/null
	$(BIN)/python bench/world.py --scale 100 >/dev/null
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && { apt-get install -y -qq wrk >/dev/null \
	  || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }; }
	@status=0; \
	$(BIN)/python bench/pages.py || status=1; \
	$(BIN)/python bench/throughput.py || status=1; \
	$(BIN)/python bench/tick.py || status=1; \
	exit $$status

coverage: install-dev browser  ## the whole test suite with line and branch coverage of kpplan/
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage report --skip-covered --sort=cover

# One command regenerates both lock files from pyproject.toml (pip-tools is in the dev lock);
# existing pins are kept unless UPGRADE=1.
PIP_COMPILE := $(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes --no-emit-find-links \
	--no-emit-index-url --strip-extras $(if $(UPGRADE),--upgrade)
lock: install-dev  ## regenerate requirements.lock and requirements-dev.lock (UPGRADE=1 to upgrade)
	$(PIP_COMPILE) --output-file=requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra=dev --output-file=requirements-dev.lock pyproject.toml

clean:  ## remove .venv and caches (keeps instance/, the database and secret key)
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

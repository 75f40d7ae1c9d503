# The two commands: `make run` (app + worker + scheduler with demo data) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# The production-settings check needs values that look real; they are never used to serve.
DEPLOY_ENV := DEBUG=0 ALLOWED_HOSTS=probono.example.org \
	SECRET_KEY=deploy-check-$$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9' | head -c 60) \
	FIELD_ENCRYPTION_KEYS=deploy-check-$$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9' | head -c 40)

.PHONY: run test lint check-deploy smoke clean lock load load-smoke

# pip itself is pinned too: pip-tools (`make lock`) supports a known range of pip versions.
PIP_VERSION := 26.3

$(BIN)/python:
	@python=$$(bin/find-python) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)

# Installs exactly what requirements-dev.lock names, each file checked against its hash (the lock
# is compiled from pyproject.toml by `make lock`); then the project itself, without dependencies.
# Reinstalls only when the lock or pyproject.toml changes.
$(VENV)/.installed: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# After changing a dependency in pyproject.toml: recompile both locks (runtime for deployments,
# runtime + dev for `make run` and `make test`; the second constrained by the first, so the
# versions they share are the same). `make lock UPGRADE=1` moves every pin to its newest allowed.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-header \
	--no-emit-index-url --no-emit-find-links \
	$(if $(UPGRADE),--upgrade)
lock: | $(BIN)/python
	$(BIN)/pip-compile $(LOCK_FLAGS) --output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev --constraint requirements.lock \
		--output-file requirements-dev.lock pyproject.toml

# `make run PORT=8001` serves elsewhere; SITE_URL follows, so every emailed link (the worker's
# too) points where the app is. The web process prints the demo coordinator's sign-in banner once
# it answers (Procfile.dev).
PORT ?= 8000
run: export DEBUG ?= 1
run: export WEB_PORT := $(PORT)
run: export SITE_URL := http://127.0.0.1:$(PORT)
run: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) load_reference_data
	$(MANAGE) seed_demo
	@echo "Starting web ($(SITE_URL)), worker and beat. Ctrl-C stops all three."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile.dev start

# Types: mypy with django-stubs ([tool.mypy] in pyproject.toml; cache in .mypy_cache). The plugin
# loads the settings, so this checkout comes first on the path (a venv shared by worktrees points
# its editable install at another one).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 PYTHONPATH=$(CURDIR) $(BIN)/mypy
	env -u DATABASE_URL DEBUG=1 $(MANAGE) makemigrations --check --dry-run

check-deploy: $(VENV)/.installed
	$(DEPLOY_ENV) $(MANAGE) check --deploy --fail-level WARNING

test: lint check-deploy
	bin/ensure-chromium
	$(BIN)/pytest

# The embedded defaults (SQLite, filesystem broker) with the tests that matter most for them.
smoke: $(VENV)/.installed
	env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u CACHE_URL -u REDIS_URL \
		$(BIN)/pytest -m smoke

clean:
	rm -rf $(VENV) var staticfiles

# REL-7 load run: gunicorn (4 workers) + a Celery worker on loopback with production settings,
# 50 locust visitors for 3 minutes against this database's scale world (seed it first, e.g.
# `manage.py seed_scale --attorneys 50000 --cases 1000000 --matches 200000`); prints the figures.
load: $(VENV)/.installed
	$(MANAGE) load_run --users 50 --seconds 180

# The short version: 20 seconds on a small world in the test database, no failed request.
load-smoke: $(VENV)/.installed
	$(BIN)/pytest -m load

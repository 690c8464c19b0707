# Tollgate: every target sets up what it needs (Python venv, Node 22 + CDK CLI) and is idempotent.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Node 22 and the CDK CLI come from package.json; the venv's python runs app.py.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export POWERTOOLS_TRACE_DISABLED := true
export POWERTOOLS_METRICS_DISABLED ?= false
export CDK_DISABLE_VERSION_CHECK := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_CLI_TELEMETRY_DISABLED := 1

ENV ?= development
# CI has no terminal to confirm IAM changes: deploy workflows pass CDK_REQUIRE_APPROVAL=never and rely on
# the GitHub environment's required reviewers instead.
CDK_REQUIRE_APPROVAL ?= broadening
ENVIRONMENTS := development staging production

.PHONY: help setup demo test lint typecheck security unit synth nag bench deploy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed node_modules/.installed ## Create the venv and install Python and npm tools

demo: setup ## Run the main job on the embedded AWS (replay every sample in events/)
	$(BIN)/tollgate demo --out demo-output

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy lambdas stacks tollgate app.py

security: setup
	$(BIN)/bandit -q -c pyproject.toml -r lambdas stacks tollgate app.py

# Three workers on this machine's (and CI's) two cores: a third fills the time the others wait on the state
# machines' Wait states (docs/decisions/0110-test-suite-speed.md). Each worker runs its own embedded AWS.
# Whole files go to a worker (a module's fixtures are built once), in collection order: the e2e files, the
# longest, start first and the short unit files fill the end (xdist would otherwise start with the files that
# have the most tests, and a 2-minute e2e file could start last).
PYTEST_WORKERS ?= 3
unit: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --cov --cov-report=term

synth: setup ## Synthesize every environment with the CDK CLI into cdk.out/ (cdk-nag runs in synth)
	cdk synth --quiet
	@ls cdk.out/*.template.json

# W3005: CDK adds DependsOn on a function's role next to the GetAtt; redundant but harmless.
nag: synth ## cfn-lint every synthesized template (cdk-nag already ran in synth)
	$(BIN)/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

# The gates that take a minute or more run side by side: pytest's workers leave a core idle whenever they wait
# on a state machine's Wait state, and mypy or the synth fills it (docs/decisions/0110-test-suite-speed.md).
# Each prints its output when it ends; any failure fails the target.
test: lint security ## Every quality gate: ruff, mypy, bandit, pytest+coverage, synth+cdk-nag+cfn-lint
	$(MAKE) --no-print-directory -j3 --output-sync=target typecheck unit nag

bench: setup ## Benchmarks: ratios against baselines measured in the same run
	$(BIN)/python -m bench

deploy: setup ## Deploy one environment to a real account: make deploy ENV=staging
	@case " $(ENVIRONMENTS) " in *" $(ENV) "*) ;; *) echo "ENV must be one of: $(ENVIRONMENTS)"; exit 2;; esac
	cdk deploy Tollgate-$(ENV) --require-approval $(CDK_REQUIRE_APPROVAL)

clean:
	rm -rf $(VENV) node_modules cdk.out demo-output .pytest_cache .mypy_cache .ruff_cache .coverage

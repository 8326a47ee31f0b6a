# waitpoints: `make run` starts the local stack, `make test` runs every test. Both set up .venv themselves.
# `make` alone (or `make help`) lists the targets, from the `##` text after each one.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt constraints.txt pyproject.toml | cksum | cut -d' ' -f1)
ENV ?= dev
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cat requirements-sam.txt | cksum | cut -d' ' -f1)
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)/local:$(CURDIR)/admin:$(CURDIR)
.DEFAULT_GOAL := help

.PHONY: help run test unit key keys revoke-key rotate-signing-key retire-signing-key smoke lint lint-ruff lint-format format lint-types lint-imports \
	lock clean bench bench-resume bench-list bench-scale shards load build deploy

help: ## List the targets (also what a bare `make` does)
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-20s %s\n", $$1, $$2 }'

$(STAMP): requirements-dev.txt constraints.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (python3 --version)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[cli]" -c constraints.txt  # the SDK and the waitpoints command
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP) ## Start the whole service locally (WAITPOINTS_PORT overrides 3000)
	$(PY) -m waitpoints_local

$(SAM_STAMP): requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	@rm -f $(SAM_VENV)/.installed-* && touch $(SAM_STAMP)

test: $(STAMP) $(SAM_STAMP) lint ## Run make lint, then every test
	SAM_CLI=$(CURDIR)/$(SAM) $(PY) -m pytest

unit: $(STAMP) ## The fast tests: no local stack, sam, node or bench (not marked `stack` or `slow`; see tests/conftest.py)
	$(PY) -m pytest -m "not stack and not slow" -q

smoke: $(STAMP) ## The black-box HTTP suite against a deployed stack (WAITPOINTS_API_URL, WAITPOINTS_SECRET_KEY)
	@test -n "$$WAITPOINTS_API_URL" -a -n "$$WAITPOINTS_SECRET_KEY" || { \
	  echo "error: set WAITPOINTS_API_URL and WAITPOINTS_SECRET_KEY to a deployed stack (see README, Smoke test)"; exit 2; }
	$(PY) -m pytest tests/blackbox

build: $(SAM_STAMP) ## sam build (no Docker needed)
	$(SAM) build

deploy: build ## sam deploy --guided
	$(SAM) deploy --guided

bench: $(STAMP) ## Each operation beside its floor: DynamoDB requests and units, handler time, cold start, RSS, local req/s
	$(PY) -m bench.perf_bench

bench-list: $(STAMP) ## What listing costs: DynamoDB requests and items read per page, 10,000 and 100,000 tokens
	$(PY) -m bench.list_bench

bench-scale: $(STAMP) ## Capacity simulation: 10,000 creates/s + completions in one environment, per-partition WCU, N=1 vs sharded
	$(PY) -m bench.scale_sim $(ARGS)

shards: $(STAMP) ## List each environment's list shards, or raise them without downtime: make shards [ENV=<name> N=<count>] [STACK=<stack>]
	@$(PY) -m waitpoints_admin.shards $(if $(N),--env $(ENV) --shards $(N)) $(if $(STACK),--stack $(STACK))

key: $(STAMP) ## Mint a secret key: make key ENV=<name> [STACK=<deployed stack>]
	@$(PY) -m waitpoints_admin.api_keys --env $(ENV) $(if $(STACK),--stack $(STACK))

keys: $(STAMP) ## List the secret keys (never the keys themselves): make keys [STACK=<stack>]
	@$(PY) -m waitpoints_admin.api_keys --list $(if $(STACK),--stack $(STACK))

revoke-key: $(STAMP) ## Revoke a key: make revoke-key KEY_ID=<id from make keys> [STACK=<stack>]
	@$(PY) -m waitpoints_admin.api_keys --revoke '$(KEY_ID)' $(if $(STACK),--stack $(STACK))

rotate-signing-key: $(STAMP) ## A new callback/JWT signing key; outstanding URLs stay valid [STACK=<stack>]
	@$(PY) -m waitpoints_admin.signing_keys $(if $(STACK),--stack $(STACK))

retire-signing-key: $(STAMP) ## Remove an old signing key: make retire-signing-key KID=k1 [STACK=<stack>] [FORCE=1]
	@$(PY) -m waitpoints_admin.signing_keys --retire '$(KID)' $(if $(FORCE),--force) $(if $(STACK),--stack $(STACK))

load: $(STAMP) ## Load test of a fresh local stack (loopback only, bounded): throughput, p50/p99, final states [ARGS=...]
	$(PY) -m bench.load $(ARGS)

bench-resume: $(STAMP) ## Time from a completion to SendTaskSuccess on the local stack
	$(PY) -m bench.resume_latency

lint: $(STAMP) lint-ruff lint-format lint-types lint-imports ## Every check: ruff, ruff format, mypy --strict, import contracts, cfn-lint
	$(VENV)/bin/cfn-lint template.yaml

lint-types: $(STAMP) ## mypy --strict over layers/, functions/, local/, admin/ and the SDK
	$(VENV)/bin/mypy --strict layers/core/waitpoints_core layers/core/waitpoints_http admin/waitpoints_admin
	$(VENV)/bin/mypy --strict -p waitpoints_local
	$(VENV)/bin/mypy --strict --explicit-package-bases $(addprefix -p functions.,$(notdir $(wildcard functions/*)))
	cd sdk && ../$(VENV)/bin/mypy --strict waitpoints

lint-imports: $(STAMP) ## import-linter: what may import what (the contracts in pyproject.toml; README, "Layout")
	PYTHONPATH=$(PYTHONPATH):$(CURDIR)/sdk $(VENV)/bin/lint-imports

lint-ruff: $(STAMP) ## ruff check over the tree (rules in pyproject.toml)
	$(VENV)/bin/ruff check .

lint-format: $(STAMP) ## ruff format --check: fails on a file ruff would reformat (make format fixes it)
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## Reformat the tree with ruff format, and apply ruff check's safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock: ## Re-lock constraints.txt after changing requirements-dev.txt
	rm -rf /tmp/waitpoints-lock && $(PYTHON) -m venv /tmp/waitpoints-lock
	/tmp/waitpoints-lock/bin/pip install --quiet -r requirements-dev.txt
	{ echo "# Locks every transitive dependency of requirements-dev.txt (regenerate: make lock)."; \
	  /tmp/waitpoints-lock/bin/pip freeze | grep -v '^pip=='; } > constraints.txt

clean: ## Remove .venv, .venv-sam, .aws-sam, .waitpoints and .pytest_cache
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .waitpoints .pytest_cache

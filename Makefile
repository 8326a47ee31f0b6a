# waitpoints: `make run` starts the local stack, `make test` runs every test. Both set up .venv themselves.
# `make` alone (or `make help`) lists the targets, from the `##` text after each one.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
# Two stamps: `make run` installs requirements-run.txt (what the local stack imports), every other target
# requirements-dev.txt (run + the test, lint and bench tools). Both take their versions from constraints.txt.
RUN_STAMP := $(VENV)/.installed-run-$(shell cat requirements-run.txt constraints.txt pyproject.toml | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-dev-$(shell cat requirements-run.txt requirements-dev.txt constraints.txt pyproject.toml | cksum | cut -d' ' -f1)
# uv installs the pinned wheels in parallel, in seconds (pip takes minutes for moto and botocore on 2 cores);
# The venv is made without pip (ensurepip alone takes 10 s on a busy 2-core machine): the system's pip fetches uv
# (pinned in constraints.txt) into it, and uv then adds pip. Without a system pip, a plain venv and its pip do it all.
UV := $(VENV)/bin/uv
ENV ?= dev
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cat requirements-sam.txt | cksum | cut -d' ' -f1)
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)/local:$(CURDIR)/admin:$(CURDIR)
.DEFAULT_GOAL := help
pip_install = if test -x $(UV); then UV_NATIVE_TLS=1 $(UV) pip install --quiet --python $(PY) $(1); \
	  else $(PY) -m pip install --quiet --disable-pip-version-check --no-compile $(1); fi

# Checked when the Makefile is read, before any prerequisite: the error names the target that was run.
ifneq ($(filter revoke-key,$(MAKECMDGOALS)),)
ifeq ($(strip $(KEY_ID)),)
$(error make revoke-key needs KEY_ID: make revoke-key KEY_ID=<id from make keys> [STACK=<stack>])
endif
endif

.PHONY: help run test unit browser key keys revoke-key rotate-signing-key retire-signing-key smoke lint lint-ruff lint-format format lint-types lint-imports \
	lock clean bench bench-resume bench-list load soak build deploy bench-notify delete logs invoke delete-args logs-args bench-scale shards

help: ## List the targets (also what a bare `make` does)
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-20s %s\n", $$1, $$2 }'

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (python3 --version)"; exit 1; }
	if $(PYTHON) -m pip --version >/dev/null 2>&1 && $(PYTHON) -m venv --without-pip $(VENV) && \
	  $(PYTHON) -m pip install --quiet --disable-pip-version-check --target $(VENV)/uv -c constraints.txt uv && \
	  ln -sf ../uv/bin/uv $(UV) && UV_NATIVE_TLS=1 $(UV) pip install --quiet --python $(PY) pip -c constraints.txt; \
	then :; else rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && \
	  { $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt uv || true; }; fi

# Neither compiles bytecode up front: a module is compiled when it is first imported, not all of moto and botocore.
$(RUN_STAMP): requirements-run.txt constraints.txt pyproject.toml | $(VENV)/bin/python
	$(call pip_install,-r requirements-run.txt -e ".[cli]" -c constraints.txt)  # -e: the SDK and the waitpoints command
	@rm -f $(VENV)/.installed-run-* && touch $(RUN_STAMP)

$(STAMP): requirements-run.txt requirements-dev.txt constraints.txt pyproject.toml | $(VENV)/bin/python
	$(call pip_install,-r requirements-dev.txt -e ".[cli]" -c constraints.txt)
	@rm -f $(VENV)/.installed-* && touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP) ## Start the whole service locally (WAITPOINTS_PORT overrides 3000)
	$(PY) -m waitpoints_local

$(SAM_STAMP): requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	@rm -f $(SAM_VENV)/.installed-* && touch $(SAM_STAMP)

test: $(STAMP) $(SAM_STAMP) browser lint ## Run make lint, then every test
	SAM_CLI=$(CURDIR)/$(SAM) $(PY) -m pytest -n 2 --durations=30 --instafail --session-timeout=3600

unit: $(STAMP) ## The fast tests: no local stack, sam, node or bench (not marked `stack` or `slow`; see tests/conftest.py)
	$(PY) -m pytest -m "not stack and not slow" -q

smoke: $(STAMP) ## The black-box HTTP suite against a deployed stack (WAITPOINTS_API_URL, WAITPOINTS_SECRET_KEY)
	@test -n "$$WAITPOINTS_API_URL" -a -n "$$WAITPOINTS_SECRET_KEY" || { \
	  echo "error: set WAITPOINTS_API_URL and WAITPOINTS_SECRET_KEY to a deployed stack (see README, Smoke test)"; exit 2; }
	$(PY) -m pytest tests/blackbox

build: $(SAM_STAMP) ## sam build (no Docker needed)
	$(SAM) build

# samconfig.toml is yours, not the repository's (.gitignore): the first `make deploy` runs `sam deploy --guided`,
# which asks for the stack name, region and parameters and saves them there; later deploys reuse them.
deploy: build ## Deploy with sam deploy (--guided the first time, writing samconfig.toml) [STACK=<name>] [ARGS=...]
	$(SAM) deploy $(if $(wildcard samconfig.toml),,--guided) $(if $(STACK),--stack-name $(STACK)) $(ARGS)

# Usage checks come before $(SAM_STAMP), so that a wrong command line is told at once, before SAM CLI installs.
delete-args:
	@test -n "$(STACK)" -o -f samconfig.toml || { \
	  echo "error: which stack? make delete STACK=<name> (or deploy once with make deploy, which writes samconfig.toml)"; exit 2; }

delete: delete-args $(SAM_STAMP) ## Delete a deployed stack: make delete [STACK=<name>] (default: samconfig.toml's) [ARGS=--no-prompts]
	$(SAM) delete $(if $(STACK),--stack-name $(STACK)) $(ARGS)

logs-args:
	@test -n "$(FN)" || { echo "error: which function? make logs FN=<logical id, e.g. ApiFunction> [STACK=<name>]"; \
	  grep -B1 -E '^    Type: AWS::Serverless::Function' template.yaml | grep -oE '^  [A-Za-z]+' | tr -d ' ' | sed 's/^/  /'; exit 2; }
	@test -n "$(STACK)" -o -f samconfig.toml || { \
	  echo "error: which stack? make logs FN=$(FN) STACK=<name> (or deploy once with make deploy, which writes samconfig.toml)"; exit 2; }

logs: logs-args $(SAM_STAMP) ## Tail a deployed function's logs: make logs FN=ApiFunction [STACK=<name>] [ARGS=--start-time '10min ago']
	$(SAM) logs --name $(FN) $(if $(STACK),--stack-name $(STACK)) --tail $(ARGS)

invoke: $(RUN_STAMP) ## Invoke a function locally with a sample event on the embedded AWS, no Docker: make invoke FN=ApiFunction EVENT=events/api_create_token.json
	@$(PY) -m waitpoints_local.invoke $(if $(FN),--function '$(FN)') $(if $(EVENT),--event '$(EVENT)')

bench: $(STAMP) ## Each operation beside its floor: DynamoDB requests and units, handler time, cold start, RSS, local req/s
	$(PY) -m bench.perf_bench

bench-list: $(STAMP) ## What listing costs: DynamoDB requests and items read per page, 10,000 and 100,000 tokens
	$(PY) -m bench.list_bench

bench-scale: $(STAMP) ## Capacity simulation: 10,000 creates/s + completions in one environment, per-partition WCU, N=1 vs sharded
	$(PY) -m bench.scale_sim $(ARGS)

shards: $(RUN_STAMP) ## List each environment's list shards, or raise them without downtime: make shards [ENV=<name> N=<count>] [STACK=<stack>]
	@$(PY) -m waitpoints_admin.shards $(if $(N),--env $(ENV) --shards $(N)) $(if $(STACK),--stack $(STACK))

key: $(RUN_STAMP) ## Mint a secret key: make key ENV=<name> [STACK=<deployed stack>] [SHARDS=<a new environment's list shards>]
	@$(PY) -m waitpoints_admin.api_keys --env $(ENV) $(if $(STACK),--stack $(STACK)) $(if $(SHARDS),--shards $(SHARDS))

keys: $(RUN_STAMP) ## List the secret keys (never the keys themselves): make keys [STACK=<stack>]
	@$(PY) -m waitpoints_admin.api_keys --list $(if $(STACK),--stack $(STACK))

revoke-key: $(RUN_STAMP) ## Revoke a key: make revoke-key KEY_ID=<id from make keys> [STACK=<stack>]
	@$(PY) -m waitpoints_admin.api_keys --revoke '$(KEY_ID)' $(if $(STACK),--stack $(STACK))

rotate-signing-key: $(RUN_STAMP) ## A new callback/JWT signing key; outstanding URLs stay valid [STACK=<stack>]
	@$(PY) -m waitpoints_admin.signing_keys $(if $(STACK),--stack $(STACK))

retire-signing-key: $(RUN_STAMP) ## Remove an old signing key: make retire-signing-key KID=k1 [STACK=<stack>] [FORCE=1]
	@$(PY) -m waitpoints_admin.signing_keys --retire '$(KID)' $(if $(FORCE),--force) $(if $(STACK),--stack $(STACK))

load: $(STAMP) ## Load test of a fresh local stack (loopback only, bounded): throughput, p50/p99, final states [ARGS=...]
	$(PY) -m bench.load $(ARGS)

soak: $(STAMP) ## Soak run of a fresh local stack (loopback, bounded): 10 min of mixed load, final states, RSS flat [ARGS=--seconds N]
	$(PY) -m bench.soak $(ARGS)

bench-resume: $(STAMP) ## Time from a completion to SendTaskSuccess and to SendDurableExecutionCallbackSuccess on the local stack
	$(PY) -m bench.resume_latency

browser: ## Debian's Chromium for the browser tests (apt-get when root, else says what to install)
	@sh tests/browser/ensure_chromium.sh

bench-notify: $(STAMP) ## Time from a completion to the waiting client knowing: for_token subscribed vs polling, p50/p95
	PYTHONPATH=$(PYTHONPATH):$(CURDIR)/sdk $(PY) -m bench.notify_latency $(ARGS)  # this checkout's SDK

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

lock: ## Re-lock constraints.txt after changing requirements-run.txt or requirements-dev.txt
	rm -rf /tmp/waitpoints-lock && $(PYTHON) -m venv /tmp/waitpoints-lock
	/tmp/waitpoints-lock/bin/pip install --quiet -r requirements-dev.txt
	{ echo "# Locks every transitive dependency of requirements-dev.txt, which includes requirements-run.txt (regenerate: make lock)."; \
	  /tmp/waitpoints-lock/bin/pip freeze | grep -v '^pip=='; } > constraints.txt

clean: ## Remove .venv, .venv-sam, .aws-sam, .waitpoints and .pytest_cache
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .waitpoints .pytest_cache

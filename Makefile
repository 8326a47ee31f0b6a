# waitpoints: `make run` starts the local stack, `make test` runs every test. Both set up .venv themselves.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt constraints.txt | cksum | cut -d' ' -f1)
ENV ?= dev
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)/local:$(CURDIR)

.PHONY: run test key lint lock clean bench-list

$(STAMP): requirements-dev.txt constraints.txt
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (python3 --version)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP) ## Start the whole service locally (WAITPOINTS_PORT overrides 3000)
	$(PY) -m waitpoints_local

test: $(STAMP) ## Run every test
	$(PY) -m pytest

bench-list: $(STAMP) ## What listing costs: DynamoDB requests and items read per page, 10,000 and 100,000 tokens
	$(PY) bench/list_bench.py

key: $(STAMP) ## Mint a secret key: make key ENV=<name> [STACK=<deployed stack>]
	@$(PY) -m waitpoints_local.keys --env $(ENV) $(if $(STACK),--stack $(STACK))

lint: $(STAMP) ## Lint the template
	$(VENV)/bin/cfn-lint template.yaml

lock: ## Re-lock constraints.txt after changing requirements-dev.txt
	rm -rf /tmp/waitpoints-lock && $(PYTHON) -m venv /tmp/waitpoints-lock
	/tmp/waitpoints-lock/bin/pip install --quiet -r requirements-dev.txt
	{ echo "# Locks every transitive dependency of requirements-dev.txt (regenerate: make lock)."; \
	  /tmp/waitpoints-lock/bin/pip freeze | grep -v '^pip=='; } > constraints.txt

clean:
	rm -rf $(VENV) .waitpoints .pytest_cache

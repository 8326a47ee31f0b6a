# waitpoints: `make run` starts the local stack, `make test` runs every test. Both set up .venv themselves.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt constraints.txt pyproject.toml | cksum | cut -d' ' -f1)
ENV ?= dev
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)/local:$(CURDIR)

.PHONY: run test key lint lock clean bench-resume

$(STAMP): requirements-dev.txt constraints.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (python3 --version)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[cli]" -c constraints.txt  # the SDK and the waitpoints command
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP) ## Start the whole service locally (WAITPOINTS_PORT overrides 3000)
	$(PY) -m waitpoints_local

test: $(STAMP) ## Run every test
	$(PY) -m pytest

key: $(STAMP) ## Mint a secret key: make key ENV=<name> [STACK=<deployed stack>]
	@$(PY) -m waitpoints_local.keys --env $(ENV) $(if $(STACK),--stack $(STACK))

bench-resume: $(STAMP) ## Time from a completion to SendTaskSuccess on the local stack
	$(PY) bench/resume_latency.py

lint: $(STAMP) ## Lint the template; type-check the SDK (mypy --strict)
	$(VENV)/bin/cfn-lint template.yaml
	cd sdk && ../$(VENV)/bin/mypy --strict waitpoints

lock: ## Re-lock constraints.txt after changing requirements-dev.txt
	rm -rf /tmp/waitpoints-lock && $(PYTHON) -m venv /tmp/waitpoints-lock
	/tmp/waitpoints-lock/bin/pip install --quiet -r requirements-dev.txt
	{ echo "# Locks every transitive dependency of requirements-dev.txt (regenerate: make lock)."; \
	  /tmp/waitpoints-lock/bin/pip freeze | grep -v '^pip=='; } > constraints.txt

clean:
	rm -rf $(VENV) .waitpoints .pytest_cache

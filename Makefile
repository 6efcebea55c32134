# The two commands: `make local` (a working local environment) and `make test` (the whole suite).
# Both install what they need on a fresh Debian 12 machine (run as root).
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Integration modules run on this many copies of the test environment at once.
TEST_WORKERS ?= 3

.PHONY: local test unit lint host-setup image local-down test-down

local: image
	$(PY) -m tools.testhosts up inventories/local.yml
	$(VENV)/bin/pyinfra -y inventories/local.py deploy.py
	$(VENV)/bin/adxdb app-env inventories/local.yml

test: image
	$(MAKE) lint
	$(PY) -m pytest tests/unit -q
	$(PY) -m tools.integration --workers $(TEST_WORKERS)

unit: $(INSTALLED)
	$(PY) -m pytest tests/unit -q

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

host-setup:
	bash tools/host-setup.sh

$(INSTALLED): pyproject.toml | host-setup
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

image: host-setup $(INSTALLED)
	$(PY) -m tools.testhosts image

local-down: $(INSTALLED)
	$(PY) -m tools.testhosts down inventories/local.yml

test-down: $(INSTALLED)
	$(PY) -m tools.testhosts down inventories/test.yml
	for yml in .adx/workers/*/inventories/test.yml; do \
		if [ -f "$$yml" ]; then $(PY) -m tools.testhosts down "$$yml"; fi; \
	done

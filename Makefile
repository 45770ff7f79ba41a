# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
DEMO_DIR := .demo

.PHONY: demo test test-spark lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $(NPM_STAMP)

deps: $(STAMP) $(NPM_STAMP)

demo: $(STAMP) $(NPM_STAMP)
	$(PY) examples/demo.py $(DEMO_DIR)

test: $(STAMP) $(NPM_STAMP)
	$(PY) -m pytest -q

$(VENV)/.spark: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(VENV)/.spark

test-spark: $(VENV)/.spark $(NPM_STAMP)
	$(PY) -m pytest -q -m spark

lint: $(STAMP)
	$(VENV)/bin/ruff check glacier pulumi_programs tests examples bench
	$(VENV)/bin/ruff format --check glacier pulumi_programs tests examples bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP) $(NPM_STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules $(DEMO_DIR) .glacier .pytest_cache

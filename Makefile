# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
DEMO_DIR := .demo

REPORT_VENDOR := glacier/report/assets/vendor
CHROMIUM := /usr/bin/chromium

.PHONY: demo test test-slow test-spark test-browser chromium vendor lint bench clean

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

# Tests over 10 s each (a real pseudo-terminal Ctrl-C of a Polars-heavy run, ...).
test-slow: $(STAMP) $(NPM_STAMP)
	$(PY) -m pytest -q -m slow

$(VENV)/.spark: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(VENV)/.spark

test-spark: $(VENV)/.spark $(NPM_STAMP)
	$(PY) -m pytest -q -m spark

# Debian's chromium for the browser tier (the tests drive it over the DevTools protocol);
# installed only when missing. Needs root (CI runs as root).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi

test-browser: $(STAMP) $(NPM_STAMP) chromium
	$(PY) -m pytest -q -m browser

# The report's graph layout library, copied from the pinned npm package into the Python
# package (committed, so installs need no Node); tests check the two stay identical.
vendor: $(NPM_STAMP)
	mkdir -p $(REPORT_VENDOR)
	cp node_modules/@dagrejs/dagre/dist/dagre.min.js $(REPORT_VENDOR)/dagre.min.js
	cp node_modules/@dagrejs/dagre/LICENSE $(REPORT_VENDOR)/dagre.LICENSE

lint: $(STAMP)
	$(VENV)/bin/ruff check glacier pulumi_programs tests examples bench
	$(VENV)/bin/ruff format --check glacier pulumi_programs tests examples bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP) $(NPM_STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules $(DEMO_DIR) .glacier .pytest_cache

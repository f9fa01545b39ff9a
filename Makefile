# The two set-up commands in README.md are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_RUN  := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
CHROMIUM ?= /usr/bin/chromium
# The portal's styles: the GOV.UK Design System, from npm into the virtual environment
# (carepool.web finds it there; nothing of it is committed).
GOVUK_FRONTEND := 6.6.0
WEB_ASSETS := $(VENV)/web/node_modules/govuk-frontend/package.json
SUDO     := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test lint typecheck unit bench bench-england baseline clean

run: $(STAMP_RUN) $(WEB_ASSETS)
	$(BIN)/carepool demo

test: $(STAMP_TEST) lint typecheck unit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The chart tests open every chart in headless Chromium: Debian's package, installed once.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "The chart tests need Chromium at $(CHROMIUM) (CHROMIUM=path to use another)"; exit 1; }
	$(SUDO) apt-get install -y -q chromium >/dev/null || { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium >/dev/null; }

$(WEB_ASSETS): $(BIN)/python
	@command -v npm >/dev/null || { echo "The portal's styles need npm (Node.js): install it, then run make again"; exit 1; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/web govuk-frontend@$(GOVUK_FRONTEND) >/dev/null

$(STAMP_TEST): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $@ $(STAMP_RUN)

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

unit: $(STAMP_TEST) $(CHROMIUM) $(WEB_ASSETS)
	CAREPOOL_CHROMIUM=$(CHROMIUM) $(BIN)/pytest

bench: $(STAMP_TEST)
	$(BIN)/python benchmarks/run.py

bench-england: $(STAMP_TEST)
	$(BIN)/python benchmarks/run.py england

# Rewrite the reviewed headline figures (tests/e2e/baseline.json) after an intended change.
baseline: $(STAMP_TEST)
	CAREPOOL_WRITE_BASELINE=1 $(BIN)/pytest -q tests/e2e/test_baseline.py

clean:
	rm -rf $(VENV) carepool-data .pytest_cache .mypy_cache .ruff_cache

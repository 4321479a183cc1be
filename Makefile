# jobforge developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP) ## create .venv and install jobforge with its dev tools

run: $(STAMP) ## start everything in one process on the embedded SQLite store
	$(BIN)/jobforge up

test: $(STAMP) ## run the whole test suite (needs PostgreSQL and Redis on localhost)
	$(BIN)/python tests/browser_setup.py
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff, mypy --strict and the import-layer contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fix: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## throughput and latency benchmarks on SQLite and PostgreSQL
	$(BIN)/python bench/throughput.py

db-reset: ## delete the local SQLite database
	rm -f jobforge.db jobforge.db-wal jobforge.db-shm

.PHONY: help install run test lint fix bench db-reset

# retaguarda: `make run` (demo on SQLite) and `make test` (whole suite, SQLite and PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint install install-dev messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP) $(STAMP)

install: $(STAMP)
install-dev: $(DEV_STAMP)

run: $(STAMP)
	RETAGUARDA_MODE=development $(BIN)/retaguarda run

test: $(DEV_STAMP)
	$(BIN)/python tests/run.py

lint: $(DEV_STAMP)
	$(BIN)/ruff check retaguarda tests conftest.py bench
	$(BIN)/ruff format --check retaguarda tests conftest.py bench
	$(BIN)/lint-imports

# The benchmarks of bench/ at sizes that finish in a few minutes, on SQLite (DATABASE=postgres for PostgreSQL).
DATABASE ?= sqlite
bench: $(DEV_STAMP)
	$(BIN)/python bench/order_intake.py --database $(DATABASE) --orders 1000 --http-orders 300
	$(BIN)/python bench/oversell.py --database $(DATABASE) --clients processes
	$(BIN)/python bench/import_100k.py --database $(DATABASE) --products 20000 --customers 10000
	$(BIN)/python bench/reports.py --database $(DATABASE) --lines 200000

messages: $(DEV_STAMP)
	$(BIN)/python -m retaguarda.i18n compile

clean:
	rm -rf $(VENV) var

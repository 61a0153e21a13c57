# One task runner for everything, the same locally and in CI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: demo serve test lint format bench screenshots clean

## make demo: install, fill ./var/mileage.sqlite3 with a demo district (once), serve on :8000
demo: $(STAMP)
	$(BIN)/mileage demo --keep-existing
	$(BIN)/mileage serve

serve: $(STAMP)
	$(BIN)/mileage serve

## make test: install, lint, type-check, check the layers, and run every test on SQLite and PostgreSQL
test: $(STAMP)
	@sh tests/ensure-postgres.sh
	@sh tests/ensure-browser.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make screenshots: a PNG of each console page on fresh demo data, in docs/screens/
screenshots: $(STAMP)
	@sh tests/ensure-browser.sh
	@sh tests/ensure-fonts.sh
	$(BIN)/python -m tests.browser.screenshots

bench: $(STAMP)
	@sh tests/ensure-postgres.sh
	$(BIN)/python -m bench.ledger

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis

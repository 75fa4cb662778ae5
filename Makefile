# The two commands of the quick start. Both set up a virtualenv in .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,encoder]'
	touch $(STAMP)

setup: $(STAMP)

# Run the service on embedded defaults (SQLite queue and ledger under ./data),
# with a local Zammad simulator feeding it a few tickets. Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/desk-enricher demo --keep-running

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check plugin tests bench

clean:
	rm -rf $(VENV) data .pytest_cache

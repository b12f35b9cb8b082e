# Two commands on a fresh machine: `make run` (the service) and `make test` (everything CI checks).
# Both create .venv with the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/voicemail-coach serve

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/policy.py
	$(BIN)/python bench/store.py
	$(BIN)/python bench/slack_http.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

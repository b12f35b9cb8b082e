# Two commands on a fresh machine: `make run` (the service) and `make test` (everything CI checks).
# Both create .venv on first use with every dependency at the version pinned in constraints.txt,
# and bring it back to those versions whenever pyproject.toml or constraints.txt changes.
# `make lock` refreshes the pins: the newest releases pyproject.toml's ranges allow.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := constraints.txt
LOCK_VENV := $(VENV)/lock

.PHONY: run test lint bench lock clean

$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $@

# Resolve pyproject.toml afresh in a throwaway venv and pin everything it installed (but pip).
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/pip install --quiet -e '.[dev]'
	{ echo '# Every dependency of pyproject.toml (with the dev extra), pinned: `make` installs'; \
	  echo '# exactly these. Written by `make lock`; edit pyproject.toml, not this file.'; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable | grep -v '^pip=='; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf $(LOCK_VENV)

run: $(BIN)/.installed
	$(BIN)/voicemail-coach serve

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# Every benchmark runs even when one misses its target; a summary at the end names each verdict,
# and the status is non-zero if any missed. Each takes its own arguments, for example
# `make bench BENCH_POLICY='--rounds 5' BENCH_STORE='--reps 10' BENCH_SLACK_HTTP='--seconds 2'
# BENCH_TEAMS_HTTP='--seconds 2' BENCH_NUDGES='--reps 1000'`.
bench: $(BIN)/.installed
	$(BIN)/python bench/run_all.py --policy='$(BENCH_POLICY)' --store='$(BENCH_STORE)' \
	  --slack-http='$(BENCH_SLACK_HTTP)' --teams-http='$(BENCH_TEAMS_HTTP)' \
	  --nudges='$(BENCH_NUDGES)'

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

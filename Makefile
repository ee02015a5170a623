# Every target sets up .venv itself, so each works on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint demo bench serve clean venv

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)  ## poll every feed in feeds.yaml on its schedule
	$(BIN)/monitor run

test: $(STAMP)  ## the whole suite, plus the shipped rules' own examples
	$(BIN)/python -m pytest -n 4
	$(BIN)/monitor rules test

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench
	$(BIN)/mypy

demo: $(STAMP)  ## offline: serve shipped snapshots on 127.0.0.1, poll, match, digest
	$(BIN)/monitor demo

bench: $(STAMP)
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/poll.py
	$(BIN)/python bench/poll.py --feeds 200 --hosts 40 --baseline-sample 20 --process
	$(BIN)/python bench/match.py
	$(BIN)/python bench/presearch.py
	$(BIN)/python bench/archive.py

serve: $(STAMP)
	$(BIN)/monitor serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# mpac-bridge developer entry points. Every target creates or refreshes .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint soak bench clean venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/mpac-bridge demo

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

soak: $(STAMP)
	$(BIN)/python -m pytest -m slow -o addopts='-q' -s
	MPAC_FUZZ_EXAMPLES=3000 $(BIN)/python -m pytest -o addopts='-q' -s tests/reliability/test_fuzz.py

bench: $(STAMP)
	$(BIN)/mpac-bridge bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

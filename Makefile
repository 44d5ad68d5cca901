# mpac-bridge developer entry points. Every target creates or refreshes .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint soak bench clean venv vscode

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

# The VS Code extension (lsp/vscode): node and npm only, no .venv. npm ci runs again only when the
# lock file changed; the .vsix takes its version from pyproject.toml.
VSCODE := lsp/vscode
$(VSCODE)/node_modules/.installed: $(VSCODE)/package-lock.json
	cd $(VSCODE) && npm ci --no-audit --no-fund
	@touch $@

vscode: $(VSCODE)/node_modules/.installed
	cd $(VSCODE) && npm run -s build && npm run -s package

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
	rm -rf $(VSCODE)/node_modules $(VSCODE)/dist $(VSCODE)/out $(VSCODE)/*.vsix

# mpac-bridge developer entry points. Every target creates or refreshes .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# `make install`: mpac-bridge on PATH for this user, outside the development venv. With pipx or uv
# (whichever is installed) it is their tool install; otherwise a private venv with a link in BIN_DIR.
BIN_DIR   ?= $(HOME)/.local/bin
TOOL_VENV ?= $(HOME)/.local/share/mpac-bridge/venv

.PHONY: demo test lint soak bench clean venv install uninstall vscode

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
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

soak: $(STAMP)
	$(BIN)/python -m pytest -m slow -o addopts='-q' -s
	MPAC_FUZZ_EXAMPLES=3000 $(BIN)/python -m pytest -o addopts='-q' -s tests/reliability/test_fuzz.py

bench: $(STAMP)
	$(BIN)/mpac-bridge bench

install:
	@if command -v pipx >/dev/null 2>&1; then \
		echo "installing with pipx"; pipx install --force . ; \
	elif command -v uv >/dev/null 2>&1; then \
		echo "installing with uv"; uv tool install --force --reinstall . ; \
	else \
		echo "installing into $(TOOL_VENV) (no pipx or uv found)"; \
		$(PYTHON) -m venv $(TOOL_VENV) && $(TOOL_VENV)/bin/python -m pip install -q --upgrade pip && \
		$(TOOL_VENV)/bin/python -m pip install -q . && \
		$(TOOL_VENV)/bin/python -m pip install -q --force-reinstall --no-deps . && \
		mkdir -p $(BIN_DIR) && ln -sf $(TOOL_VENV)/bin/mpac-bridge $(BIN_DIR)/mpac-bridge ; \
	fi
	@if command -v mpac-bridge >/dev/null 2>&1; then \
		echo "mpac-bridge is on PATH: $$(command -v mpac-bridge) ($$(mpac-bridge --version))"; \
	else \
		echo "installed, but mpac-bridge is not on PATH yet: add $(BIN_DIR) to PATH (pipx ensurepath, or uv tool update-shell)"; \
	fi

uninstall:
	@if command -v pipx >/dev/null 2>&1 && pipx list --short 2>/dev/null | grep -q '^mpac-bridge '; then pipx uninstall mpac-bridge; fi
	@if command -v uv >/dev/null 2>&1 && uv tool list 2>/dev/null | grep -q '^mpac-bridge '; then uv tool uninstall mpac-bridge; fi
	@if [ -L $(BIN_DIR)/mpac-bridge ] && [ "$$(readlink $(BIN_DIR)/mpac-bridge)" = "$(TOOL_VENV)/bin/mpac-bridge" ]; then \
		rm -f $(BIN_DIR)/mpac-bridge && rm -rf $(TOOL_VENV) && echo "removed $(TOOL_VENV)"; fi

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

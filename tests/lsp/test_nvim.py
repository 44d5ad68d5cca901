"""Headless Neovim (built-in LSP client) against the real language server and sidecar; skipped when
nvim is not installed. Asserts what Neovim's vim.diagnostic.get() holds, never how fast."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.lsp.nvim_check import measure

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim is not installed"),
]


async def test_neovim_shows_the_agents_intent(tmp_path: Path) -> None:
    result = await measure(2, tmp_path)
    assert result["rounds"] == 2
    assert str(result["sample"]).startswith(
        "intent|bob (agent:bob) is working on this file: Round 0 (intent i-0"
    )
    final = str(result["final"])
    assert 'code = "intent"' in final and "Left in place" in final and "severity = 2" in final

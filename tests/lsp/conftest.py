"""Fixtures of the language-server end-to-end tests: a real sidecar, a repository and an agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.client import SessionClient
from tests.lsp.harness import FILES, SESSION, make_repo
from tests.lsp.vscode_support import EXT, ROOT, need_node, run, vsix_path
from tests.support.sidecar import RunningSidecar, start_sidecar


@pytest.fixture
async def sidecar(tmp_path: Path) -> AsyncIterator[RunningSidecar]:
    sc = await start_sidecar("--session-id", SESSION, data_dir=tmp_path / "data")
    try:
        yield sc
    finally:
        await sc.stop()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", FILES)


@pytest.fixture
async def agent(sidecar: RunningSidecar) -> AsyncIterator[SessionClient]:
    c = SessionClient(sidecar.url, "agent:bob", session_id=SESSION, display_name="bob")
    await c.connect()
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture(scope="session")
def vscode_extension() -> Path:
    """`make vscode` (npm ci when needed, type-check, bundle, package) and the node host compiled."""
    need_node()
    run(["make", "-s", "vscode"], ROOT)
    run(["npm", "run", "-s", "compile"], EXT)
    return vsix_path()

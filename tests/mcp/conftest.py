from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.client import SessionClient
from bridge.mcp.context import ToolContext
from bridge.workspace import ensure_sidecar, find_repo


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / ".gitignore").write_text(".env\n")
    (path / ".env").write_text("SECRET=hunter2\n")
    (path / "a.py").write_text("x = 1\n")
    (path / "b.py").write_text("y = 2\n")
    subprocess.run(["git", "-C", str(path), "add", "."], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(path),
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "init",
        ],
        check=True,
    )
    return path


@pytest.fixture
def repo_path(tmp_path: Path) -> AsyncIterator[Path]:
    path = make_repo(tmp_path / "repo")
    yield path
    subprocess.run(
        [sys.executable, "-m", "bridge", "stop", "--workspace", str(path)],
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
async def ctx(repo_path: Path) -> AsyncIterator[ToolContext]:
    c = ToolContext(repo=find_repo(repo_path), principal_id="agent:me")
    yield c
    await c.close()


@pytest.fixture
async def other(repo_path: Path) -> AsyncIterator[SessionClient]:
    info = ensure_sidecar(find_repo(repo_path))
    client = SessionClient(info.url, "agent:other", session_id=info.session_id)
    await client.connect()
    yield client
    await client.close()

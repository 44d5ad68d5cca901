from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bridge.client import SessionClient
from bridge.workspace import ensure_sidecar, find_repo


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def repo_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "a.py").write_text("a = 1\n")
    (path / "b.py").write_text("b = 1\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "init")
    yield path
    subprocess.run(
        [sys.executable, "-m", "bridge", "stop", "--workspace", str(path)],
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
async def holder(repo_path: Path) -> AsyncIterator[SessionClient]:
    info = ensure_sidecar(find_repo(repo_path))
    client = SessionClient(info.url, "agent:holder", session_id=info.session_id)
    await client.connect()
    yield client
    await client.close()

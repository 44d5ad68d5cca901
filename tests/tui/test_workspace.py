"""Workspace mode end to end: the tree follows the disk (ignored files skipped), and when the
repository's sidecar dies the dashboard starts a new one and reconnects to it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest

from bridge.client import SessionClient
from bridge.workspace import ensure_sidecar, find_repo, read_runtime, runtime_path
from tests.tui.helpers import running
from tui.app import Dashboard
from tui.source import LiveSource
from tui.widgets.files import FileTree

pytestmark = pytest.mark.e2e
WAIT = 30.0


def git_repo(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_text("x")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


async def test_tree_follows_disk_and_sidecar_is_restarted(tmp_path: Path) -> None:
    repo = find_repo(git_repo(tmp_path / "repo"))
    info = await asyncio.to_thread(ensure_sidecar, repo)
    pids = {info.pid}
    client = SessionClient(info.url, "human:lead", session_id=info.session_id, roles=["observer"])
    app = Dashboard(
        LiveSource(client, ensure=lambda: ensure_sidecar(repo).url), repo_root=repo.root
    )
    try:
        async with running(app) as (_, watch):
            tree = app.query_one(FileTree)
            assert await watch.settle(
                lambda a: a.conn_state == "connected" and "src/app.py" in tree.files, WAIT
            )
            assert not any(f.startswith("build/") for f in tree.files)
            (repo.root / "src" / "new.py").write_text("x = 1\n")
            (repo.root / "build" / "more.o").write_text("y")
            assert await watch.settle(lambda a: "src/new.py" in tree.files, WAIT)
            assert not any(f.startswith("build/") for f in tree.files)
            os.kill(info.pid, signal.SIGKILL)
            assert await watch.settle(lambda a: a.conn_state == "reconnecting", WAIT)
            assert await watch.settle(lambda a: a.conn_state == "connected", 60.0)
            new = read_runtime(runtime_path(repo))
            assert new is not None and new.pid != info.pid and client.url == new.url
            pids.add(new.pid)
    finally:
        with contextlib.suppress(Exception):
            await client.abort()
        latest = read_runtime(runtime_path(repo))
        if latest is not None:
            pids.add(latest.pid)
        for pid in pids:
            stop(pid)

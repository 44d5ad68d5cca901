"""Shared helpers and fixtures: real temporary git repositories, and cleanup of any sidecar a
test started. Test modules import the fixtures they use from here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.workspace import Repo, find_repo
from bridge.workspace.runtime import pid_alive

FAKE_SIDECAR = Path(__file__).with_name("fake_sidecar.py")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "commit.gpgsign", "false")
    (path / "README.md").write_text("hello\n")
    (path / ".gitignore").write_text(".env\n*.log\n")
    git(path, "add", "README.md", ".gitignore")
    git(path, "commit", "-q", "-m", "init")
    return path


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


@pytest.fixture
def repo(repo_dir: Path) -> Repo:
    return find_repo(repo_dir)


def sidecar_pids(root: Path) -> list[int]:
    """Pids of live processes started as a sidecar (real or fake) with `--workspace root`."""
    pids = []
    want = os.fsencode(str(root))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            want in argv
            and b"--workspace" in argv
            and any(b"sidecar" in a for a in argv)
            and pid_alive(int(entry.name))
        ):
            pids.append(int(entry.name))
    return sorted(pids)


def wait_until(predicate, timeout: float = 20.0) -> bool:
    """Poll `predicate` with backoff (5 ms to 100 ms) until true or `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    return True


def wait_gone(pid: int, timeout: float = 20.0) -> bool:
    return wait_until(lambda: not pid_alive(pid), timeout)


def stop_all(root: Path) -> None:
    for pid in sidecar_pids(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5.0)


@pytest.fixture
def cleanup_sidecars(repo_dir: Path) -> Iterator[None]:
    yield
    stop_all(repo_dir.resolve())

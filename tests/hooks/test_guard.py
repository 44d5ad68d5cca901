"""The git pre-commit guard against a real sidecar: blocks held files, chains, bypasses, uninstalls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bridge.client import SessionClient

from .conftest import git


def guard(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "guard", *args, "--workspace", str(repo)],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_guard_blocks_held_files_chains_bypasses_and_uninstalls(
    repo_path: Path, holder: SessionClient
) -> None:
    hooks = repo_path / ".git" / "hooks"
    previous = hooks / "pre-commit"
    previous.write_text(
        '#!/bin/sh\necho previous-hook-ran >> "$(git rev-parse --git-dir)/ran.txt"\n'
    )
    previous.chmod(0o755)
    assert guard(repo_path, "install").returncode == 0
    assert "chained" in guard(repo_path, "status").stdout
    assert (await holder.announce("refactor a", ["a.py"])).ok
    (repo_path / "a.py").write_text("a = 2\n")
    git(repo_path, "add", "a.py")
    env_clean = {k: v for k, v in os.environ.items() if not k.startswith("MPAC_")}
    blocked = subprocess.run(
        [
            "git",
            "-C",
            str(repo_path),
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-m",
            "x",
        ],
        capture_output=True,
        text=True,
        env=env_clean,
        timeout=60,
    )
    assert blocked.returncode != 0
    assert "a.py: agent:holder" in blocked.stderr and "refactor a" in blocked.stderr
    assert "previous-hook-ran" in (repo_path / ".git" / "ran.txt").read_text()
    bypass = subprocess.run(
        [
            "git",
            "-C",
            str(repo_path),
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-m",
            "x",
            "--no-verify",
        ],
        capture_output=True,
        text=True,
        env=env_clean,
        timeout=60,
    )
    assert bypass.returncode == 0
    (repo_path / "b.py").write_text("b = 2\n")
    git(repo_path, "add", "b.py")
    free = subprocess.run(
        [
            "git",
            "-C",
            str(repo_path),
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-m",
            "free",
        ],
        capture_output=True,
        text=True,
        env=env_clean,
        timeout=60,
    )
    assert free.returncode == 0, free.stderr
    assert guard(repo_path, "uninstall").returncode == 0
    assert previous.read_text().startswith("#!/bin/sh\necho previous-hook-ran")
    assert not (hooks / "pre-commit.local").exists()


def test_guard_without_sidecar_lets_commits_through(repo_path: Path) -> None:
    assert guard(repo_path, "install", "--pre-push").returncode == 0
    assert "installed" in guard(repo_path, "status").stdout
    (repo_path / "a.py").write_text("a = 3\n")
    git(repo_path, "add", "a.py")
    out = git(repo_path, "commit", "-m", "no sidecar")
    assert out.returncode == 0 and "no sidecar" in out.stderr

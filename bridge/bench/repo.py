"""Throwaway git repositories for the benchmarks that need a workspace (MCP server, hooks)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def scratch_repo() -> Path:
    """A fresh repository with one committed file, a.py."""
    root = Path(tempfile.mkdtemp(prefix="mpac-bench-"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "a.py").write_text("x = 0\n")
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.email=b@b", "-c", "user.name=b", "commit", "-qm", "b"],
        check=True,
    )
    return root


def stop_sidecar(repo: Path) -> None:
    """Stop the repository's sidecar if one runs (the MCP server starts one as soon as it is initialized)."""
    subprocess.run(
        [sys.executable, "-m", "bridge", "stop", "--workspace", str(repo)],
        capture_output=True,
        timeout=60,
    )


def discard_repo(repo: Path) -> None:
    """Stop the repository's sidecar, then delete the repository."""
    stop_sidecar(repo)
    shutil.rmtree(repo, ignore_errors=True)

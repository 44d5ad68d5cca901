"""Repository detection: the work tree, the git common dir (shared by all worktrees) and the
session id derived from it."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


class NotARepository(Exception):
    """The path is not inside a git work tree."""


@dataclass(frozen=True)
class Repo:
    root: Path  # the work tree of this checkout
    common_dir: Path  # the git common dir: the same for every worktree of the repository

    @property
    def session_id(self) -> str:
        digest = hashlib.sha256(str(self.common_dir).encode()).hexdigest()[:12]
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.common_dir.parent.name)[:24]
        return f"{name or 'repo'}-{digest}"

    @property
    def data_dir(self) -> Path:
        """Where the sidecar keeps its runtime file, journal and log."""
        return self.common_dir / "mpac"


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, "LC_ALL": "C"}
    )
    if out.returncode != 0:
        raise NotARepository(out.stderr.strip() or f"git {' '.join(args)} failed")
    return out.stdout.strip()


def find_repo(path: str | os.PathLike[str] = ".") -> Repo:
    """The repository containing `path`. Raises NotARepository with git's reason."""
    start = Path(path).resolve()
    if start.is_file():
        start = start.parent
    if not start.exists():
        raise NotARepository(f"{start} does not exist")
    root = Path(_git(start, "rev-parse", "--show-toplevel")).resolve()
    common = _git(start, "rev-parse", "--git-common-dir")
    common_dir = (start / common).resolve() if not os.path.isabs(common) else Path(common).resolve()
    return Repo(root=root, common_dir=common_dir)

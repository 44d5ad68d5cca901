"""Repository detection: the work tree, its git dir, the git common dir shared by every worktree of
the repository, and the session id derived from that common dir."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

from bridge.protocol.slotted import Frozen

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class NotARepository(Exception):
    """The path is not inside a git work tree; the message says what to do."""


class Repo(Frozen):
    """One checkout of a git repository. Worktrees of one repository share `common_dir`, hence the
    same `data_dir` (runtime file, journal, log) and the same `session_id`."""

    __slots__ = ("common_dir", "git_dir", "root")
    root: Path  # top level of this work tree (realpath)
    git_dir: Path  # this worktree's git dir
    common_dir: Path  # the git common dir

    def __init__(self, root: Path, git_dir: Path, common_dir: Path) -> None:
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "git_dir", git_dir)
        object.__setattr__(self, "common_dir", common_dir)

    @property
    def data_dir(self) -> Path:
        """Where the sidecar keeps its runtime file, journal, locks and log (created by callers)."""
        return self.common_dir / "mpac"

    @property
    def session_id(self) -> str:
        """`<repo name>-<12 hex of sha256(realpath of common dir)>`, characters [A-Za-z0-9._-]."""
        digest = hashlib.sha256(os.fsencode(str(self.common_dir))).hexdigest()[:12]
        return f"{repo_name(self.common_dir)}-{digest}"


def repo_name(common_dir: Path) -> str:
    """A readable name: the directory holding `.git`, or a bare `name.git` without its suffix."""
    name = (
        common_dir.parent.name
        if common_dir.name == ".git"
        else common_dir.name.removesuffix(".git")
    )
    name = _UNSAFE.sub("-", name).strip("-.")[:40]
    return name or "repo"


def _git(cwd: Path, *args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise NotARepository("git is not installed or not on PATH; install git and retry") from None
    if out.returncode != 0:
        reason = (
            out.stderr.strip().splitlines()[-1]
            if out.stderr.strip()
            else f"git {' '.join(args)} failed"
        )
        raise NotARepository(
            f"{cwd} is not inside a git work tree ({reason}); run this from your repository, "
            "pass --workspace PATH, or create one with `git init`"
        )
    return out.stdout.strip()


def find_repo(path: str | os.PathLike[str] = ".") -> Repo:
    """The repository containing `path` (a file or directory, any depth, any worktree)."""
    start = Path(os.path.realpath(path))
    if start.is_file():
        start = start.parent
    if not start.is_dir():
        raise NotARepository(
            f"{start} does not exist; pass the path of a directory inside a git repository"
        )
    out = _git(
        start,
        "rev-parse",
        "--path-format=absolute",
        "--show-toplevel",
        "--git-dir",
        "--git-common-dir",
    )
    lines = out.splitlines()
    if len(lines) != 3 or not lines[0]:
        raise NotARepository(
            f"{start} is not inside a git work tree; run this from a checkout, not a bare repository"
        )
    root, git_dir, common = (Path(os.path.realpath(line)) for line in lines)
    return Repo(root=root, git_dir=git_dir, common_dir=common)

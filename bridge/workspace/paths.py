"""Path safety: every path an agent names is checked here before anything reads or writes it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

from bridge.workspace.repo import Repo

REASONS = ("outside_repository", "inside_git_dir", "ignored", "not_a_file", "too_large", "invalid")


class PathRefused(Exception):
    """A path the tools refuse to read or write. `reason` is one of REASONS; the message says what
    to do instead."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def is_ignored(repo: Repo, rel: str) -> bool:
    """True when git's ignore rules match `rel` (tracked or not, hence `--no-index`)."""
    out = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", "--", rel],
        cwd=repo.root,
        capture_output=True,
        check=False,
    )
    return out.returncode == 0


def _strip_file_uri(path: str) -> str:
    if path.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(path).path)
    return path


def resolve_in_repo(repo: Repo, path: str, *, allow_ignored: bool = False) -> str:
    """The normalized repo-relative POSIX path of `path` (relative to the repo root, absolute, or a
    `file://` URI). Symlinks and `..` are resolved first, so a link cannot lead outside. Raises
    PathRefused for paths outside the work tree, inside `.git`, or ignored by git."""
    if not isinstance(path, str) or not path.strip() or "\x00" in path:
        raise PathRefused("invalid", "the path is empty or contains a NUL byte; give a path relative to the repository root")
    raw = _strip_file_uri(path.strip())
    joined = Path(raw) if os.path.isabs(raw) else repo.root / raw
    if ".git" in PurePosixPath(raw.replace("\\", "/")).parts:
        raise PathRefused("inside_git_dir", f"{path} is inside git's own directory (.git); edit work-tree files only")
    full = Path(os.path.realpath(joined))
    try:
        rel = full.relative_to(repo.root)
    except ValueError:
        raise PathRefused(
            "outside_repository",
            f"{path} resolves to {full}, outside the repository {repo.root}; only files inside it can be read or written",
        ) from None
    for git_dir in (repo.git_dir, repo.common_dir):
        if full == git_dir or full.is_relative_to(git_dir):
            raise PathRefused("inside_git_dir", f"{path} is inside git's own directory; edit work-tree files only")
    if ".git" in rel.parts:
        raise PathRefused("inside_git_dir", f"{path} is inside a .git directory; edit work-tree files only")
    if not rel.parts:
        raise PathRefused("not_a_file", f"{path} is the repository root, not a file")
    rel_posix = rel.as_posix()
    if not allow_ignored and is_ignored(repo, rel_posix):
        raise PathRefused(
            "ignored",
            f"{rel_posix} is ignored by git (.gitignore); ignored files may hold secrets and are not shared, "
            "so they cannot be read or written through the bridge",
        )
    return rel_posix


def full_path(repo: Repo, rel_path: str) -> Path:
    """The absolute path of an already resolved repo-relative path."""
    return repo.root / rel_path

"""Compatibility layer for code written against the first draft of this package.

New code should use `bridge.workspace.paths` (resolve_in_repo -> repo-relative str) and
`bridge.workspace.state` (state_ref_of(repo, rel), make_state_ref_lookup). These helpers keep the
draft signatures: `resolve_in_repo` returns `(absolute path, rel)` and `state_ref_of` takes a path.
"""

from __future__ import annotations

from pathlib import Path

from bridge.workspace.paths import PathRefused
from bridge.workspace.paths import resolve_in_repo as _resolve
from bridge.workspace.repo import Repo
from bridge.workspace.state import ABSENT_STATE_REF, state_ref_of_bytes

__all__ = ["ABSENT_STATE_REF", "PathRefused", "resolve_in_repo", "state_ref_of", "state_ref_of_bytes"]


def resolve_in_repo(repo: Repo, path: str, *, allow_ignored: bool = False) -> tuple[Path, str]:
    """Draft signature: (absolute path, repo-relative POSIX path)."""
    rel = _resolve(repo, path, allow_ignored=allow_ignored)
    return repo.root / rel, rel


def state_ref_of(path: Path) -> str:
    """Draft signature: the state ref of an absolute path; ABSENT_STATE_REF when missing (or a
    directory)."""
    try:
        return state_ref_of_bytes(Path(path).read_bytes())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return ABSENT_STATE_REF

"""Worktrees, our extension (issue 13.4, docs/protocol.md "Worktrees").

All worktrees of a repository share one session. A participant says which checkout an intent is
about in the intent's `payload.extensions["mpac-bridge"]["worktree"] = {"id": ..., "branch": ...}`
(INTENT_ANNOUNCE and INTENT_CLAIM; commits carry the same object so views can file them). `id` is
the worktree's name under `<git common dir>/worktrees/`; the main worktree has no id (null or
absent), which is also what a participant that knows nothing of worktrees gets. `branch` is for
people: it names the branch in reports.

A file's committed state is kept per worktree: the key is the path for the main worktree and
`path + "\\0" + id` for a linked one (no repository path contains NUL). The disk lookup receives the
same key.
"""

from __future__ import annotations

from bridge.protocol.constants import EXT

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from typing import Any

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_NAME = _ALNUM | frozenset("._-")


def is_worktree_id(text: str) -> bool:
    """A worktree name: `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` (checked without `re`, which a hook's
    start-up does without, issue 17)."""
    return 0 < len(text) <= 128 and text[0] in _ALNUM and _NAME.issuperset(text)


SEP = "\x00"


class BadWorktree(ValueError):
    """The worktree extension is present but unusable; the message names the field."""


def worktree_of(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """(id, branch) from a payload's extension; (None, None) when absent. Raises BadWorktree."""
    ext = payload.get("extensions")
    ours = ext.get(EXT) if isinstance(ext, dict) else None
    wt = ours.get("worktree") if isinstance(ours, dict) else None
    if wt is None:
        return None, None
    if not isinstance(wt, dict):
        raise BadWorktree(f"payload.extensions.{EXT}.worktree must be an object with id and branch")
    wid, branch = wt.get("id"), wt.get("branch")
    if wid is not None and (not isinstance(wid, str) or not is_worktree_id(wid)):
        raise BadWorktree(
            f"payload.extensions.{EXT}.worktree.id must be a worktree name ([A-Za-z0-9._-], "
            "at most 128 characters) or null for the main worktree"
        )
    if branch is not None and (not isinstance(branch, str) or len(branch) > 256):
        branch = None  # informational only: never a reason to refuse
    return wid, branch


def worktree_ext(wid: str | None, branch: str | None) -> dict[str, Any]:
    """The extension object a participant sends."""
    return {EXT: {"worktree": {"id": wid, "branch": branch}}}


def ref_key(path: str, wid: str | None) -> str:
    return path if not wid else f"{path}{SEP}{wid}"


def split_key(key: str) -> tuple[str, str | None]:
    path, _, wid = key.partition(SEP)
    return path, wid or None


def label(wid: str | None, branch: str | None) -> str:
    """`worktree wt2, branch feature` / `main worktree, branch main`, for descriptions."""
    where = f"worktree {wid}" if wid else "main worktree"
    return f"{where}, branch {branch}" if branch else where

"""Worktrees of one repository (issue 13.4, docs/protocol.md "Worktrees").

Every worktree shares the session; each keeps its own files. A participant names its checkout by
its worktree id (`worktree_id`), the sidecar turns an id back into that checkout (`checkout_for`)
to hash the committing agent's own file. Nothing here trusts an id further than this: an id is a
name under `<git common dir>/worktrees/`, and the checkout it points to must belong to the same
repository.
"""

from __future__ import annotations

import os

from bridge.protocol.worktree import is_worktree_id, worktree_ext
from bridge.workspace.repo import NotARepository, Repo, as_path, find_repo


def worktree_id(repo: Repo) -> str | None:
    """None for the main worktree, else the linked worktree's name (its git dir's last part)."""
    git_dir = repo.git_dir_str
    if git_dir == repo.common_dir_str or os.path.dirname(git_dir) != os.path.join(
        repo.common_dir_str, "worktrees"
    ):
        return None
    return os.path.basename(git_dir)


def branch_of(repo: Repo) -> str | None:
    """The checked-out branch (short name), `detached at <sha>` for a detached HEAD, None if unknown."""
    try:
        with open(os.path.join(repo.git_dir_str, "HEAD"), encoding="utf-8") as fh:
            head = fh.read().strip()
    except OSError:
        return None
    if head.startswith("ref: "):
        return head[5:].removeprefix("refs/heads/")
    return f"detached at {head[:12]}" if head else None


def worktree_extension(repo: Repo) -> dict:
    """The `extensions` object naming this checkout, for INTENT_ANNOUNCE, INTENT_CLAIM, OP_COMMIT."""
    return worktree_ext(worktree_id(repo), branch_of(repo))


def main_checkout(repo: Repo) -> Repo:
    """The repository's main worktree, whichever checkout `repo` is; `repo` itself when the main
    worktree has no work tree (a bare repository with linked worktrees)."""
    if repo.git_dir == repo.common_dir:
        return repo
    if repo.common_dir.name == ".git":
        root = repo.common_dir.parent
        if root.is_dir():
            return Repo(root=root, git_dir=repo.common_dir, common_dir=repo.common_dir)
    return repo


def checkout_for(repo: Repo, wid: str | None) -> Repo | None:
    """The checkout of worktree `wid` of `repo`'s repository (None: the main worktree); None when
    there is no such worktree of this repository."""
    if wid is None:
        return main_checkout(repo)
    if not is_worktree_id(wid):
        return None
    admin = repo.common_dir / "worktrees" / wid
    try:
        dot_git = as_path((admin / "gitdir").read_text(encoding="utf-8").strip())
    except OSError:
        return None
    root = as_path(os.path.realpath(dot_git.parent))
    try:
        found = find_repo(root)
    except NotARepository:
        return None
    if found.common_dir != repo.common_dir or found.root != root or worktree_id(found) != wid:
        return None
    return found

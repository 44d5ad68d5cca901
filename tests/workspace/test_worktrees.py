"""Worktree identity and the sidecar's per-worktree disk lookup, on real git worktrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.protocol.worktree import ref_key
from bridge.workspace import (
    ABSENT_STATE_REF,
    Repo,
    file_lock,
    find_repo,
    make_state_ref_lookup,
    state_ref_of_bytes,
)
from bridge.workspace.state import lock_path
from bridge.workspace.worktrees import (
    branch_of,
    checkout_for,
    main_checkout,
    worktree_extension,
    worktree_id,
)
from tests.workspace.helpers import git, make_repo


@pytest.fixture
def two(tmp_path: Path) -> tuple[Repo, Repo]:
    main = make_repo(tmp_path / "proj")
    git(main, "worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt2"))
    (tmp_path / "wt2" / "README.md").write_text("feature\n")
    return find_repo(main), find_repo(tmp_path / "wt2")


def test_identity_of_each_checkout(two: tuple[Repo, Repo]) -> None:
    main, side = two
    assert worktree_id(main) is None and worktree_id(side) == "wt2"
    assert branch_of(main) == "main" and branch_of(side) == "feature"
    assert worktree_extension(side) == {
        "mpac-bridge": {"worktree": {"id": "wt2", "branch": "feature"}}
    }
    git(side.root, "checkout", "-q", "--detach")
    assert (branch_of(side) or "").startswith("detached at ")
    assert main_checkout(side).root == main.root and main_checkout(main) == main


def test_checkout_for_finds_only_this_repositorys_worktrees(
    two: tuple[Repo, Repo], tmp_path: Path
) -> None:
    main, side = two
    assert checkout_for(side, None).root == main.root
    assert checkout_for(main, "wt2").root == side.root
    stranger = find_repo(make_repo(tmp_path / "other"))
    git(stranger.root, "worktree", "add", "-q", "-b", "x", str(tmp_path / "strangers"))
    for bad in ("strangers", "nope", "../wt2", ".", "wt2/../wt2"):
        assert checkout_for(main, bad) is None, bad


def test_the_lookup_reads_the_named_worktree_whichever_checkout_started_the_sidecar(
    two: tuple[Repo, Repo],
) -> None:
    main, side = two
    for started_in in (main, side):
        lookup = make_state_ref_lookup(started_in)
        assert lookup("README.md") == state_ref_of_bytes(b"hello\n")
        assert lookup(ref_key("README.md", "wt2")) == state_ref_of_bytes(b"feature\n")
        assert lookup(ref_key("missing.txt", "wt2")) == ABSENT_STATE_REF
        assert lookup(ref_key("README.md", "nope")) is None
        assert lookup(ref_key("../proj/README.md", "wt2")) is None


def test_the_same_path_in_two_worktrees_has_two_locks(two: tuple[Repo, Repo]) -> None:
    main, side = two
    assert lock_path(main, "README.md") != lock_path(side, "README.md")
    assert lock_path(main, "README.md") == lock_path(find_repo(main.root), "README.md")
    with (
        file_lock(main, "README.md"),
        file_lock(side, "README.md"),
    ):  # would wait for ever if shared
        pass

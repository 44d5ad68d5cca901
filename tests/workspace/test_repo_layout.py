"""find_repo reads the repository's layout from `.git` itself (issue 17: a hook no longer starts
`git rev-parse`); wherever it does, its answer is git's, and every layout it does not read is
left to git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bridge.workspace.repo import _git, _read_layout, find_repo

from .helpers import git, make_repo


def by_git(path: Path) -> tuple[str, str, str]:
    out = _git(
        path,
        "rev-parse",
        "--path-format=absolute",
        "--show-toplevel",
        "--git-dir",
        "--git-common-dir",
    )
    root, git_dir, common = (os.path.realpath(line) for line in out.splitlines())
    return root, git_dir, common


def test_plain_repository_worktree_and_subdirectories_match_git(
    repo_dir: Path, tmp_path: Path
) -> None:
    wt = tmp_path / "wt"
    git(repo_dir, "worktree", "add", "-q", "-b", "feature", str(wt))
    (repo_dir / "src" / "pkg").mkdir(parents=True)
    (wt / "deep" / "er").mkdir(parents=True)
    places = [repo_dir, repo_dir / "src" / "pkg", wt, wt / "deep" / "er"]
    for place in places:
        real = os.path.realpath(place)
        assert _read_layout(real) == by_git(place), place
        assert find_repo(place) == find_repo(place)  # stable
    main, other = find_repo(repo_dir), find_repo(wt)
    assert (
        other.common_dir == main.common_dir
        and other.git_dir.parent == main.common_dir / "worktrees"
    )


def test_layouts_it_does_not_read_are_left_to_git(
    repo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = repo_dir / ".git" / "refs"
    assert _read_layout(os.path.realpath(inside)) is None  # git: not a work tree
    plain = tmp_path / "plain"
    plain.mkdir()
    assert _read_layout(str(plain)) is None
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    assert _read_layout(str(bare)) is None
    # core.worktree (submodules have it) moves the top level: git knows where
    git(repo_dir, "config", "core.worktree", str(repo_dir))
    assert _read_layout(os.path.realpath(repo_dir)) is None
    assert find_repo(repo_dir).root == repo_dir.resolve()
    git(repo_dir, "config", "--unset", "core.worktree")
    assert _read_layout(os.path.realpath(repo_dir)) is not None
    monkeypatch.setenv("GIT_DIR", str(repo_dir / ".git"))
    assert _read_layout(os.path.realpath(repo_dir)) is None


def test_a_submodule_is_found_as_git_finds_it(tmp_path: Path) -> None:
    lib = make_repo(tmp_path / "lib")
    top = make_repo(tmp_path / "top")
    out = subprocess.run(
        [
            "git",
            "-C",
            str(top),
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            str(lib),
            "sub",
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        pytest.skip(f"git submodule add failed here: {out.stderr.strip()}")
    sub = top / "sub"
    found = find_repo(sub)
    assert (str(found.root), str(found.git_dir), str(found.common_dir)) == by_git(sub)

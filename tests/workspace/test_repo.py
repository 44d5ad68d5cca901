"""Repository detection from any subdirectory and from a second worktree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.workspace import NotARepository, find_repo

from .helpers import git, make_repo


def test_find_repo_from_root_and_subdir(repo_dir: Path) -> None:
    sub = repo_dir / "src" / "pkg"
    sub.mkdir(parents=True)
    a = find_repo(repo_dir)
    b = find_repo(sub)
    assert a == b
    assert a.root == repo_dir.resolve()
    assert a.git_dir == a.common_dir == (repo_dir / ".git").resolve()
    assert a.data_dir == a.common_dir / "mpac"


def test_find_repo_from_a_file_path(repo_dir: Path) -> None:
    assert find_repo(repo_dir / "README.md").root == repo_dir.resolve()


def test_session_id_shape_and_stability(repo_dir: Path) -> None:
    sid = find_repo(repo_dir).session_id
    assert re.fullmatch(r"[A-Za-z0-9._-]+", sid)
    assert sid.startswith("proj-")
    assert re.fullmatch(r"proj-[0-9a-f]{12}", sid)
    assert find_repo(repo_dir).session_id == sid


def test_session_id_sanitises_odd_directory_names(tmp_path: Path) -> None:
    d = make_repo(tmp_path / "my repo (copy)!")
    sid = find_repo(d).session_id
    assert re.fullmatch(r"[A-Za-z0-9._-]+", sid)
    assert sid.startswith("my-repo-copy-")


def test_distinct_repos_have_distinct_sessions(tmp_path: Path) -> None:
    a = find_repo(make_repo(tmp_path / "a" / "proj"))
    b = find_repo(make_repo(tmp_path / "b" / "proj"))
    assert a.session_id != b.session_id
    assert a.session_id.split("-")[0] == b.session_id.split("-")[0] == "proj"


def test_worktree_shares_common_dir_session_and_data_dir(repo_dir: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo_dir, "worktree", "add", "-q", "-b", "feature", str(wt))
    main = find_repo(repo_dir)
    other = find_repo(wt / ".")
    assert other.root == wt.resolve()
    assert other.root != main.root
    assert other.git_dir != main.git_dir
    assert other.common_dir == main.common_dir
    assert other.session_id == main.session_id
    assert other.data_dir == main.data_dir


def test_symlinked_path_gives_same_repo(repo_dir: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(repo_dir)
    assert find_repo(link) == find_repo(repo_dir)


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotARepository, match="git init"):
        find_repo(plain)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(NotARepository, match="does not exist"):
        find_repo(tmp_path / "nope")


def test_inside_git_dir_is_not_a_work_tree(repo_dir: Path) -> None:
    with pytest.raises(NotARepository):
        find_repo(repo_dir / ".git")

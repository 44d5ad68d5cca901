"""Path safety: traversal, absolute paths, .git, ignored files, symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.workspace import PathRefused, Repo, resolve_in_repo, resolve_many


def refused(repo: Repo, path: str) -> PathRefused:
    with pytest.raises(PathRefused) as info:
        resolve_in_repo(repo, path)
    assert str(info.value)  # always a message to act on
    return info.value


def test_normalises_relative_paths(repo: Repo) -> None:
    assert resolve_in_repo(repo, "README.md") == "README.md"
    assert resolve_in_repo(repo, "./src/../README.md") == "README.md"
    assert resolve_in_repo(repo, "src/new/file.py") == "src/new/file.py"  # need not exist yet


def test_absolute_path_inside_repo(repo: Repo) -> None:
    assert resolve_in_repo(repo, str(repo.root / "a" / "b.txt")) == "a/b.txt"


def test_file_uri_inside_repo(repo: Repo) -> None:
    assert resolve_in_repo(repo, (repo.root / "x y.txt").as_uri()) == "x y.txt"


@pytest.mark.parametrize("path", ["../x", "../../etc/passwd", "src/../../x", "/etc/passwd"])
def test_escaping_paths_refused(repo: Repo, path: str) -> None:
    assert refused(repo, path).reason == "outside_repository"


def test_absolute_sibling_directory_refused(repo: Repo, tmp_path: Path) -> None:
    sibling = tmp_path / "proj-evil" / "x.txt"  # shares the prefix of the root's name
    assert refused(repo, str(sibling)).reason == "outside_repository"


@pytest.mark.parametrize(
    "path", [".git/config", ".git", "sub/.git/HEAD", "./.git/hooks/pre-commit"]
)
def test_git_dir_refused(repo: Repo, path: str) -> None:
    assert refused(repo, path).reason == "inside_git_dir"


def test_absolute_git_dir_refused(repo: Repo) -> None:
    assert refused(repo, str(repo.common_dir / "config")).reason == "inside_git_dir"


def test_ignored_files_refused(repo: Repo) -> None:
    (repo.root / ".env").write_text("SECRET=1\n")
    err = refused(repo, ".env")
    assert err.reason == "ignored"
    assert ".gitignore" in str(err)
    assert refused(repo, "logs/app.log").reason == "ignored"
    assert resolve_in_repo(repo, ".env", allow_ignored=True) == ".env"


def test_symlink_escaping_repo_refused(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n")
    (repo.root / "link.txt").symlink_to(outside)
    (repo.root / "linkdir").symlink_to(tmp_path)
    assert refused(repo, "link.txt").reason == "outside_repository"
    assert refused(repo, "linkdir/outside.txt").reason == "outside_repository"


def test_symlink_to_ignored_file_refused(repo: Repo) -> None:
    (repo.root / ".env").write_text("SECRET=1\n")
    (repo.root / "innocent.txt").symlink_to(repo.root / ".env")
    assert refused(repo, "innocent.txt").reason == "ignored"


def test_symlink_inside_repo_resolves_to_target(repo: Repo) -> None:
    (repo.root / "alias.md").symlink_to(repo.root / "README.md")
    assert resolve_in_repo(repo, "alias.md") == "README.md"


@pytest.mark.parametrize("path", ["", "   ", "a\x00b"])
def test_invalid_paths_refused(repo: Repo, path: str) -> None:
    assert refused(repo, path).reason == "invalid"


def test_root_itself_refused(repo: Repo) -> None:
    assert refused(repo, ".").reason == "not_a_file"
    assert refused(repo, str(repo.root)).reason == "not_a_file"


def test_relative_paths_are_relative_to_root_not_cwd(repo: Repo, tmp_path: Path) -> None:
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert resolve_in_repo(repo, "README.md") == "README.md"
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("a" * 5000, "5,000 bytes long; paths are limited to 4,096 bytes"),
        ("d/" + "n" * 256, "names are limited to 255 bytes"),
        ("a\udcff.py", "unpaired UTF-16 surrogate"),
        ("file:///x%00y", "NUL"),
    ],
)
def test_unusable_paths_refused_with_the_limit(repo: Repo, path: str, says: str) -> None:
    err = refused(repo, path)
    assert err.reason == "invalid" and says in str(err)


def test_resolve_many_keeps_order_and_names_the_ignored_one(repo: Repo) -> None:
    (repo.root / ".env").write_text("SECRET=1\n")
    assert resolve_many(repo, ["b.py", "./a.py", "src/../c.py"]) == ["b.py", "a.py", "c.py"]
    with pytest.raises(PathRefused, match=r"^\.env is ignored"):
        resolve_many(repo, ["a.py", ".env", "b.py"])
    assert resolve_many(repo, ["a.py", ".env"], allow_ignored=True) == ["a.py", ".env"]

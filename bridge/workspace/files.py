"""Files on disk: path safety, state refs (`sha256:` + hex digest of the bytes) and a
compare-and-swap write that never clobbers a change it did not see."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bridge.workspace.repo import Repo

ABSENT_STATE_REF = "sha256:absent"  # the state ref of a file that does not exist (yet)
MAX_TEXT_BYTES = 512 * 1024


class PathRefused(Exception):
    """A path the tools must not read or write, with the reason."""


def state_ref_of_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def state_ref_of(path: Path) -> str:
    try:
        return state_ref_of_bytes(path.read_bytes())
    except FileNotFoundError:
        return ABSENT_STATE_REF


def is_ignored(repo: Repo, rel: str) -> bool:
    out = subprocess.run(["git", "check-ignore", "-q", "--no-index", rel], cwd=repo.root, capture_output=True, check=False)
    return out.returncode == 0


def resolve_in_repo(repo: Repo, path: str, *, allow_ignored: bool = False) -> tuple[Path, str]:
    """(absolute path, repo-relative posix path). Refuses anything outside the work tree, inside
    `.git`, or ignored by git (for example `.env`)."""
    if not path or "\x00" in path:
        raise PathRefused("empty or invalid path")
    candidate = Path(path)
    full = (candidate if candidate.is_absolute() else repo.root / candidate).resolve()
    try:
        rel = full.relative_to(repo.root)
    except ValueError:
        raise PathRefused(f"{path} is outside the repository {repo.root}") from None
    parts = rel.parts
    if not parts:
        raise PathRefused("the repository root is a directory, not a file")
    if ".git" in parts or full.is_relative_to(repo.common_dir):
        raise PathRefused(f"{path} is inside git's own directory")
    rel_posix = rel.as_posix()
    if not allow_ignored and is_ignored(repo, rel_posix):
        raise PathRefused(f"{rel_posix} is ignored by git (.gitignore); it may hold secrets and is not shared")
    return full, rel_posix


@dataclass(frozen=True)
class FileState:
    path: str
    exists: bool
    state_ref: str
    size: int
    text: str | None  # None for binary files or when too large
    truncated: bool = False


def read_file_state(repo: Repo, path: str, include_content: bool = True, limit: int = MAX_TEXT_BYTES) -> FileState:
    full, rel = resolve_in_repo(repo, path)
    if full.is_dir():
        raise PathRefused(f"{rel} is a directory")
    try:
        data = full.read_bytes()
    except FileNotFoundError:
        return FileState(rel, False, ABSENT_STATE_REF, 0, "" if include_content else None)
    text = None
    truncated = False
    if include_content:
        chunk = data[:limit]
        truncated = len(data) > limit
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    return FileState(rel, True, state_ref_of_bytes(data), len(data), text, truncated)


class StaleWrite(Exception):
    """The file changed since the caller read it."""

    def __init__(self, current: str) -> None:
        super().__init__(f"the file changed on disk (now {current})")
        self.current = current


@contextmanager
def write_lock(repo: Repo) -> Iterator[None]:
    """A repository-wide lock held across check → commit → write by our own writers."""
    repo.data_dir.mkdir(parents=True, exist_ok=True)
    with open(repo.data_dir / "write.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def atomic_write(full: Path, data: bytes) -> None:
    full.parent.mkdir(parents=True, exist_ok=True)
    mode = full.stat().st_mode & 0o777 if full.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=f".{full.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, full)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_matches(full: Path, expected_ref: str, data: bytes) -> str:
    """Write `data` only if the file's current ref is `expected_ref`; returns the new ref.
    Call under `write_lock`."""
    current = state_ref_of(full)
    if current != expected_ref:
        raise StaleWrite(current)
    atomic_write(full, data)
    return state_ref_of_bytes(data)

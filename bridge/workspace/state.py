"""State refs from disk (`sha256:` + full hex digest of the bytes) and the compare-and-swap write
that never overwrites a change its caller did not see."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from bridge.digest import sha256
from bridge.protocol.slotted import Slotted
from bridge.protocol.worktree import split_key
from bridge.workspace.paths import PathRefused, full_path, resolve_in_repo
from bridge.workspace.reading import digest_file, read_head
from bridge.workspace.repo import Repo
from bridge.workspace.worktrees import checkout_for

TYPE_CHECKING = False  # a hook reads state refs without pathlib (start-up, issue 17)
if TYPE_CHECKING:
    from pathlib import Path

ABSENT_STATE_REF = "sha256:absent"  # the state ref of a file that does not exist
DEFAULT_MAX_BYTES = 256_000


def state_ref_of_bytes(data: bytes) -> str:
    """`sha256:` followed by the full 64-character hex digest of `data`."""
    return "sha256:" + sha256(data).hexdigest()


def state_ref_of(repo: Repo, rel_path: str) -> str:
    """The state ref of a resolved repo-relative path as it is on disk now; ABSENT_STATE_REF when
    the file does not exist. Hashed in chunks: memory stays flat whatever the file's size."""
    found = digest_file(os.path.join(repo.root_str, rel_path), rel_path)
    return ABSENT_STATE_REF if found is None else found[0]


class FileState(Slotted):
    __slots__ = ("content", "exists", "is_text", "path", "size", "state_ref", "truncated")
    path: str  # repo-relative POSIX path
    state_ref: str
    size: int
    exists: bool
    is_text: bool  # decodes as UTF-8 (an absent file counts as empty text)
    content: str | None  # None when binary or not requested
    truncated: bool  # content holds only the first max_bytes

    def __init__(
        self,
        path: str,
        state_ref: str,
        size: int,
        exists: bool,
        is_text: bool,
        content: str | None,
        truncated: bool = False,
    ) -> None:
        self.path = path
        self.state_ref = state_ref
        self.size = size
        self.exists = exists
        self.is_text = is_text
        self.content = content
        self.truncated = truncated


def read_file_state(
    repo: Repo, rel_path: str, *, include_content: bool = True, max_bytes: int = DEFAULT_MAX_BYTES
) -> FileState:
    """Check `rel_path` with resolve_in_repo and describe the file on disk. The state ref always
    covers the whole file, even when the content is truncated; only the first `max_bytes` bytes are
    kept in memory."""
    rel = resolve_in_repo(repo, rel_path)
    found = read_head(full_path(repo, rel), rel, max_bytes)
    if found is None:
        return FileState(rel, ABSENT_STATE_REF, 0, False, True, "" if include_content else None)
    truncated = False
    content = None
    if include_content and found.is_text:
        truncated = found.size > max_bytes
        content = found.head.decode("utf-8", errors="ignore")
    return FileState(rel, found.state_ref, found.size, True, found.is_text, content, truncated)


class StaleWrite(Exception):
    """The file on disk no longer has the state ref the caller expected; nothing was written."""

    def __init__(self, path: str, expected_state_ref: str, current_state_ref: str) -> None:
        super().__init__(
            f"{path} changed on disk: expected {expected_state_ref}, found {current_state_ref}; "
            "re-read the file and apply your change again"
        )
        self.path = path
        self.expected_state_ref = expected_state_ref
        self.current_state_ref = current_state_ref


def lock_path(repo: Repo, rel_path: str) -> Path:
    """One lock per file of one checkout: worktrees share the data dir but not their files."""
    key = f"{rel_path}\0{repo.root}" if repo.git_dir != repo.common_dir else rel_path
    return repo.data_dir / "locks" / (sha256(key.encode()).hexdigest()[:32] + ".lock")


@contextmanager
def file_lock(repo: Repo, rel_path: str) -> Iterator[None]:
    """Exclusive lock on one repo-relative path, shared by every process that writes through the
    bridge (threads too: each call opens its own lock file description). Not re-entrant: inside it
    call `write_if_matches(..., locked=True)`."""
    path = lock_path(repo, rel_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@asynccontextmanager
async def file_lock_async(repo: Repo, rel_path: str) -> AsyncIterator[None]:
    """`file_lock` for coroutines: the wait happens in a worker thread, so another coroutine of the
    same event loop that holds the lock (two agents in one process) can finish and release it. A
    waiter that is cancelled closes its lock file once the thread returns, which drops the lock."""
    import asyncio  # here, not at the top: the hooks read state refs and never pay for asyncio

    path = lock_path(repo, rel_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+b")  # noqa: SIM115 - closed below, or by the done callback
    waiting = asyncio.get_running_loop().run_in_executor(
        None, fcntl.flock, fh.fileno(), fcntl.LOCK_EX
    )
    try:
        await asyncio.shield(waiting)
    except BaseException:
        waiting.add_done_callback(lambda _f: fh.close())
        raise
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def atomic_write(full: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, os.replace; keeps the old file's mode."""
    full.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(full.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    import tempfile  # here, not at the top: the hooks read state refs and never write (start-up)

    fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=f".{full.name}.", suffix=".mpac-tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(full.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def write_if_matches(
    repo: Repo,
    rel_path: str,
    expected_state_ref: str,
    content: bytes | str,
    *,
    locked: bool = False,
) -> str:
    """Compare-and-swap: write `content` only if the file's current state ref equals
    `expected_state_ref` (ABSENT_STATE_REF to create a new file). Returns the new state ref; raises
    StaleWrite (nothing written) or PathRefused. `locked=True` when the caller already holds
    `file_lock(repo, rel_path)`."""
    rel = resolve_in_repo(repo, rel_path)
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if locked:
        return _swap(repo, rel, expected_state_ref, data)
    with file_lock(repo, rel):
        return _swap(repo, rel, expected_state_ref, data)


def _swap(repo: Repo, rel: str, expected: str, data: bytes) -> str:
    current = state_ref_of(repo, rel)
    if current != expected:
        raise StaleWrite(rel, expected, current)
    atomic_write(full_path(repo, rel), data)
    return state_ref_of_bytes(data)


def make_state_ref_lookup(repo: Repo) -> Callable[[str], str | None]:
    """For the coordinator's commit checks: target key -> its state ref on disk, ABSENT_STATE_REF
    for a missing file, None when the target is not a file the bridge may read (unknown). The key
    names the worktree (bridge.protocol.worktree.ref_key): a plain path is the main worktree's
    file, whichever checkout started the sidecar; `path\0id` is linked worktree `id`'s."""
    checkouts: dict[str | None, Repo] = {}  # found worktrees (an unknown id is looked for again)

    def lookup(key: str) -> str | None:
        target, wid = split_key(key)
        where = checkouts.get(wid) or checkout_for(repo, wid)
        if where is None:
            return None
        checkouts[wid] = where
        try:
            return state_ref_of(where, resolve_in_repo(where, target))
        except (PathRefused, OSError):
            return None

    return lookup

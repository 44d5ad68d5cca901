"""The bases of stale writes: content the agents read, kept by state ref so that a write based on
an old version can be merged three ways instead of refused.

Our state refs are already content addresses (`sha256:` + the SHA-256 of the raw bytes), so the
store needs no map: `<data dir>/bases/<2 hex>/<62 hex>` holds the zlib-compressed bytes. Reads
check the digest (a damaged entry is deleted and reported missing). The store is bounded in
entries and bytes; the least recently used entries go first (a read or a repeated put counts as a
use). Writers in several processes are safe: entries are written to a temporary file and renamed,
and two writers of one ref write the same bytes. A base that is gone is not an error: the write is
then refused as stale, as it was before merging existed. Why not git's object database:
docs/protocol.md, "Symbol scopes (issue 19)".
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib

from bridge.digest import sha256
from bridge.workspace.repo import Repo
from bridge.workspace.state import ABSENT_STATE_REF, state_ref_of_bytes

TYPE_CHECKING = False  # a hook keeps bases without pathlib or typing (start-up, issue 17)
if TYPE_CHECKING:
    from pathlib import Path

    from bridge.workspace.paths import FilePath

_HEX = frozenset("0123456789abcdef")
MAX_BYTES = 64 * 1024 * 1024  # compressed bytes on disk
MAX_ENTRIES = 4096
MAX_FILE_BYTES = 2_000_000  # larger files are not kept (and are not parsed for symbols either)
PRUNE_EVERY = 32  # puts between two checks of the budget, per process


class BaseStore:
    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_bytes: int = MAX_BYTES,
        max_entries: int = MAX_ENTRIES,
        max_file_bytes: int = MAX_FILE_BYTES,
        prune_every: int = PRUNE_EVERY,
    ) -> None:
        self.root_str = os.fspath(root)
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_file_bytes = max_file_bytes
        self.prune_every = max(1, prune_every)
        self._puts = 0

    @classmethod
    def for_repo(cls, repo: Repo, **kwargs: int) -> BaseStore:
        """The repository's store, shared by every worktree and agent (`<git common dir>/mpac/bases`)."""
        return cls(os.path.join(repo.data_dir_str, "bases"), **kwargs)

    @property
    def root(self) -> Path:
        from pathlib import Path

        return Path(self.root_str)

    def _path(self, state_ref: str) -> str | None:
        """Where the entry of `state_ref` (`sha256:` and 64 lowercase hex digits) is kept."""
        hexd = state_ref[7:]
        if not state_ref.startswith("sha256:") or len(hexd) != 64 or not _HEX.issuperset(hexd):
            return None
        return os.path.join(self.root_str, hexd[:2], hexd[2:])

    def put(self, content: bytes | str) -> str:
        """Keep `content`; returns its state ref (also when it is too large to keep)."""
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        ref = state_ref_of_bytes(data)
        if len(data) > self.max_file_bytes:
            return ref
        path = self._path(ref)
        assert path is not None
        if os.path.exists(path):
            _touch(path)  # a use; the store did not grow, so there is nothing to prune
            return ref
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = _new_temp(os.path.dirname(path))
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(zlib.compress(data, 1))
            os.replace(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise
        self._puts += 1
        if self._puts % self.prune_every == 1 or self.prune_every == 1:
            self.prune()
        return ref

    def get(self, state_ref: str) -> bytes | None:
        """The content with this state ref, or None when it is not kept. An absent file's ref
        (`sha256:absent`) is the empty content: a file the agent created had an empty base."""
        if state_ref == ABSENT_STATE_REF:
            return b""
        path = self._path(state_ref)
        if path is None:
            return None
        try:
            with open(path, "rb") as fh:
                data = zlib.decompress(fh.read())
        except FileNotFoundError:
            return None
        except (OSError, zlib.error):
            _unlink(path)
            return None
        if "sha256:" + sha256(data).hexdigest() != state_ref:
            _unlink(path)
            return None
        _touch(path)
        return data

    def get_text(self, state_ref: str) -> str | None:
        data = self.get(state_ref)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def __contains__(self, state_ref: object) -> bool:
        if state_ref == ABSENT_STATE_REF:
            return True
        path = self._path(state_ref) if isinstance(state_ref, str) else None
        return path is not None and os.path.exists(path)

    def _scan(self) -> list[tuple[float, int, str, str]]:
        """(last use, size, name, path) of every entry, oldest first."""
        out: list[tuple[float, int, str, str]] = []
        try:
            subs = [e for e in os.scandir(self.root_str) if len(e.name) == 2 and e.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            return out
        for sub in subs:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(sub) as it:
                for f in it:
                    if f.name.startswith("."):
                        continue
                    with contextlib.suppress(FileNotFoundError):
                        st = f.stat()
                        out.append((st.st_mtime, st.st_size, f.name, f.path))
        out.sort(key=lambda e: (e[0], e[2]))
        return out

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last use, size, path) of every entry, oldest first."""
        from pathlib import Path

        return [(used, size, Path(path)) for used, size, _name, path in self._scan()]

    def usage(self) -> tuple[int, int]:
        """(entries, bytes on disk)."""
        found = self._scan()
        return len(found), sum(e[1] for e in found)

    def prune(self) -> int:
        """Drop the least recently used entries until the store is within 90% of its budget;
        returns how many were dropped. Only one process prunes at a time (the others skip)."""
        os.makedirs(self.root_str, exist_ok=True)
        with open(os.path.join(self.root_str, ".prune.lock"), "a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            try:
                found = self._scan()
                total = sum(e[1] for e in found)
                if len(found) <= self.max_entries and total <= self.max_bytes:
                    return 0
                keep_entries, keep_bytes = int(self.max_entries * 0.9), int(self.max_bytes * 0.9)
                dropped = 0
                for _, size, _name, path in found:
                    if len(found) - dropped <= keep_entries and total <= keep_bytes:
                        break
                    _unlink(path)
                    total -= size
                    dropped += 1
                return dropped
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def read_small(full: FilePath, rel: str, max_bytes: int = MAX_FILE_BYTES) -> bytes | None:
    """The bytes of a regular file of at most `max_bytes`; None when it is absent, larger, not a
    regular file or unreadable (never blocks on a FIFO)."""
    from bridge.workspace.paths import PathRefused
    from bridge.workspace.reading import open_regular

    try:
        with open_regular(full, rel) as fd:
            if fd is None or os.fstat(fd).st_size > max_bytes:
                return None
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
            return data if len(data) <= max_bytes else None
    except (PathRefused, OSError):
        return None


def remember_file(repo: Repo, rel: str, store: BaseStore | None = None) -> str | None:
    """Keep what an agent is reading (an already resolved repo path) as a possible base of its
    next write; returns its state ref, or None when nothing was kept (absent, too large, unreadable).
    Never raises: a base that could not be kept only means a later stale write is refused."""
    store = store or BaseStore.for_repo(repo)
    data = read_small(os.path.join(repo.root_str, rel), rel, store.max_file_bytes)
    if data is None:
        return None
    try:
        return store.put(data)
    except OSError:
        return None


def _new_temp(directory: str) -> tuple[int, str]:
    """A new file `.put-<random>` in `directory`, opened for writing with mode 0600, as
    tempfile.mkstemp makes it (importing tempfile costs a hook's start several milliseconds,
    and the hooks keep a base on most edits and reads)."""
    for _ in range(100):
        tmp = os.path.join(directory, f".put-{os.urandom(8).hex()}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _touch(path: str) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)

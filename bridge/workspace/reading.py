"""Reading files from disk in bounded memory: the state ref is hashed in chunks and only the part of
the content a caller returns is kept. A file is opened without blocking and checked to be a regular
file before a byte is read, so a FIFO (or a device) swapped in after the path check cannot hang the
caller."""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from bridge.digest import sha256
from bridge.protocol.slotted import Frozen
from bridge.workspace.paths import PathRefused, check_file_type

TYPE_CHECKING = False
if TYPE_CHECKING:
    from bridge.workspace.paths import FilePath

CHUNK_BYTES = 1 << 20  # read and hash 1 MiB at a time


class Head(Frozen):
    """What one pass over a file found: the digest of all of it, its size, the first bytes and
    whether the whole file decodes as UTF-8."""

    __slots__ = ("head", "is_text", "size", "state_ref")
    state_ref: str
    size: int
    head: bytes
    is_text: bool

    def __init__(self, state_ref: str, size: int, head: bytes, is_text: bool) -> None:
        object.__setattr__(self, "state_ref", state_ref)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "head", head)
        object.__setattr__(self, "is_text", is_text)


@contextmanager
def open_regular(full: FilePath, rel: str) -> Iterator[int | None]:
    """A read-only descriptor of `full`, or None when the file does not exist. Refuses (PathRefused)
    a directory, FIFO, socket or device; the open itself never waits (O_NONBLOCK)."""
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        yield None
        return
    except NotADirectoryError:
        raise PathRefused(
            "not_a_file", f"a parent of {rel} is a file, so {rel} cannot exist"
        ) from None
    except PermissionError:
        raise PathRefused(
            "unreadable", f"{rel} cannot be read (permission denied); check its permissions"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise PathRefused("invalid", f"{rel} is longer than the file system allows") from None
        raise PathRefused("unreadable", f"{rel} cannot be opened: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise PathRefused("not_a_file", f"{rel} is a directory, not a file")
        check_file_type(full, rel, mode)
        yield fd
    finally:
        os.close(fd)


def _chunks(fd: int) -> Iterator[bytes]:
    while chunk := os.read(fd, CHUNK_BYTES):
        yield chunk


def digest_file(full: FilePath, rel: str) -> tuple[str, int] | None:
    """(`sha256:<hex>`, size) of the file, hashed in chunks; None when it does not exist."""
    with open_regular(full, rel) as fd:
        if fd is None:
            return None
        h, size = sha256(size=os.fstat(fd).st_size), 0
        for chunk in _chunks(fd):
            h.update(chunk)
            size += len(chunk)
        return "sha256:" + h.hexdigest(), size


def read_head(full: FilePath, rel: str, max_bytes: int) -> Head | None:
    """One pass over the file: its digest and size, its first `max_bytes` bytes, and whether all of
    it is UTF-8 (decoded incrementally, nothing kept). None when it does not exist."""
    with open_regular(full, rel) as fd:
        if fd is None:
            return None
        h, size, head = sha256(size=os.fstat(fd).st_size), 0, bytearray()
        decoder: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8")()
        for chunk in _chunks(fd):
            h.update(chunk)
            size += len(chunk)
            if len(head) < max_bytes:
                head += chunk[: max_bytes - len(head)]
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    decoder = None
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                decoder = None
        return Head("sha256:" + h.hexdigest(), size, bytes(head), decoder is not None)

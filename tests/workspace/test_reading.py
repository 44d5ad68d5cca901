"""Bounded reading (issue 14): a large file is hashed in chunks and only the returned part is kept;
anything that is not a regular file is refused before a byte is read, and opening never waits."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import tracemalloc
from pathlib import Path

import pytest

from bridge.workspace import (
    PathRefused,
    Repo,
    read_file_state,
    resolve_in_repo,
    state_ref_of,
    write_if_matches,
)
from bridge.workspace.reading import digest_file, read_head

SIZE = 24 * 1024 * 1024  # large enough that reading it whole would show


def big_file(path: Path) -> str:
    """Writes about SIZE bytes of text; returns their state ref."""
    block = (b"0123456789abcdef" * 4095 + b"\n") * 16
    h = hashlib.sha256()
    with open(path, "wb") as fh:
        for _ in range(SIZE // len(block)):
            fh.write(block)
            h.update(block)
    return "sha256:" + h.hexdigest()


def peak_of(fn) -> tuple[object, int]:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_file_is_hashed_and_read_in_bounded_memory(repo: Repo) -> None:
    expected = big_file(repo.root / "big.txt")
    ref, peak = peak_of(lambda: state_ref_of(repo, "big.txt"))
    assert ref == expected and peak < 4 * 1024 * 1024
    fs, peak = peak_of(lambda: read_file_state(repo, "big.txt", max_bytes=100_000))
    assert fs.state_ref == expected and fs.size == os.path.getsize(repo.root / "big.txt")  # type: ignore[attr-defined]
    assert fs.truncated and fs.is_text and len(fs.content) == 100_000  # type: ignore[attr-defined]
    assert peak < 4 * 1024 * 1024  # the chunk, the kept head, the decoder: not the 24 MiB file


def test_text_means_the_whole_file_decodes(repo: Repo) -> None:
    path = repo.root / "late.bin"
    path.write_bytes(b"a" * (3 << 20) + b"\xff")  # invalid UTF-8 only after the third chunk
    head = read_head(path, "late.bin", 10)
    assert head is not None and not head.is_text and head.head == b"a" * 10
    split = repo.root / "split.txt"
    split.write_bytes(
        b"a" * ((1 << 20) - 1) + "é".encode()
    )  # a character across the chunk boundary
    head = read_head(split, "split.txt", 10)
    assert head is not None and head.is_text


def test_fifo_refused_without_blocking(repo: Repo) -> None:
    fifo = repo.root / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(PathRefused, match=r"named pipe \(FIFO\)") as err:
        resolve_in_repo(repo, "pipe")
    assert err.value.reason == "not_a_file"
    # A FIFO swapped in after the path check: the open does not wait for a writer.
    outcome: list[BaseException | None] = []

    def read_it() -> None:
        try:
            digest_file(fifo, "pipe")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read_it, daemon=True)
    reader.start()
    reader.join(60)
    if reader.is_alive():  # unblock the thread, then fail: the open waited for a writer
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("opening the FIFO blocked")
    assert isinstance(outcome[0], PathRefused) and outcome[0].reason == "not_a_file"
    with pytest.raises(PathRefused):
        write_if_matches(repo, "pipe", "sha256:absent", "x")


def test_symlink_to_a_fifo_and_a_socket_are_refused(repo: Repo) -> None:
    os.mkfifo(repo.root / "pipe")
    (repo.root / "link").symlink_to("pipe")
    with pytest.raises(PathRefused, match="FIFO"):
        read_file_state(repo, "link")
    short = Path(
        f"/tmp/mpac-sock-{os.getpid()}"
    )  # an AF_UNIX path must be short: bind, then move it in
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(short))
        try:
            os.rename(short, repo.root / "app.sock")
            with pytest.raises(PathRefused, match="a socket"):
                read_file_state(repo, "app.sock")
        finally:
            short.unlink(missing_ok=True)

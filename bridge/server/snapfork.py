"""Snapshots written without holding the event loop (issue 17): a copy-on-write handoff.

Building and encoding a snapshot is proportional to the state: at 10,000 intents even turning the
records into dicts takes 20-80 ms, and encoding 8 KiB objectives a second and more, all of it
holding the GIL. So the sidecar forks: the child process has the state exactly as it was at that
journal entry (the kernel copies pages only when one side writes them), builds and encodes the
snapshot there, on the other core, and streams the JSON text through a pipe in length-prefixed
pieces. A worker thread of the sidecar reads them and hands them to the store
(`write_parts`), which commits them in short transactions. The event loop only pays for the fork
itself (copying the page tables: a few milliseconds per 100 MiB of RSS).

The child touches nothing the parent owns: no socket, no store connection, no log handler; it
leaves with `os._exit`. Where `os.fork` does not exist, the snapshot is written in the loop, as
before.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

from bridge.store.chunks import parts
from bridge.store.sqlite import PART_CHARS

AVAILABLE = hasattr(os, "fork")
_MAXFD = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 4096
_HEADER = 8  # bytes of each piece's length prefix; a zero length ends a complete stream
fork_ns = 0  # time the parent spent in os.fork, in all (the loop watch reports it per stall)


def fork(build: Callable[[], dict[str, Any]], size: int = PART_CHARS) -> tuple[int, int]:
    """Start the child that writes `build()` as JSON to a pipe; returns (its pid, the read end)."""
    global fork_ns
    r, w = os.pipe()
    started = time.perf_counter_ns()
    pid = os.fork()
    if pid != 0:
        fork_ns += time.perf_counter_ns() - started
    if pid == 0:  # the child: never returns
        code = 1
        try:
            gc.disable()  # a collection would touch (and copy) every page of the state
            with contextlib.suppress(ValueError):  # a signal must not wake the parent's loop
                signal.set_wakeup_fd(-1)
                for sig in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
            # only the pipe stays open: a child outliving a killed sidecar must not hold its
            # listening socket (a restart on the same port) or anything else of the parent's
            os.closerange(3, w)
            os.closerange(w + 1, _MAXFD)
            for text in parts(build(), size):
                _write_all(w, _piece(text.encode()))
            _write_all(w, (0).to_bytes(_HEADER, "big"))
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def _piece(data: bytes) -> bytes:
    return len(data).to_bytes(_HEADER, "big") + data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise OSError("the snapshot process ended before its snapshot was complete")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def pieces(fd: int) -> Iterator[str]:
    """The JSON text's pieces as the child writes them; raises OSError on an incomplete stream."""
    while True:
        size = int.from_bytes(_read_exactly(fd, _HEADER), "big")
        if size == 0:
            return
        yield _read_exactly(fd, size).decode()


def reap(pid: int, fd: int) -> int:
    """Close the pipe and wait for the child; its exit status (0: the snapshot was complete)."""
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)

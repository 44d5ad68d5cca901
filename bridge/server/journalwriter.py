"""The journal's writer thread (issue 17: no event-loop stall waits for the disk).

The event loop seals each turn's journal entries, audit lines and frames into a `Turn` and hands it
here; this thread commits the entries (one SQLite transaction for every turn waiting, so a slow
commit makes the next one bigger, not later), appends the audit lines to the transcripts, and only
then marks the turn done and wakes the loop, which writes the turn's frames. So "committed before
any frame of it is sent" holds exactly as it did when the loop committed by itself, kill -9
included, but a commit that waits for the disk (ext4 block allocation while the write-ahead log
grows: 20-50 ms now and then) now waits here, not in the loop.

Turns are committed in the order they were sealed. When the store refuses a commit, every turn
sealed before the loop has heard of the refusal (the same `epoch`) is refused too, because it was
computed on state that now will never be in the journal; the loop starts a new epoch when it
handles the refusal.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bridge.store.base import StoreError

log = logging.getLogger("mpac.sidecar")
Entry = tuple[str, str, float, "str | None", "str | None"]  # session_id, kind, now, raw, bound

# The slowest batch since the loop watch last took it (measurements: bridge/server/loopwatch.py),
# as (ns in all, ns in the store's commit, ns appending audit lines, entries). While a batch takes
# long, no frame of a later turn leaves: clients wait although the loop runs on.
slowest: tuple[int, int, int, int] = (0, 0, 0, 0)


def take_slowest() -> tuple[int, int, int, int]:
    """The slowest batch since the last call, and start again (a batch that ends in between may
    be lost: it is a sample)."""
    global slowest
    taken, slowest = slowest, (0, 0, 0, 0)
    return taken


@runtime_checkable
class GroupStore(Protocol):
    """A store that commits several entries in one transaction (SqliteStore)."""

    def append_many(self, entries: list[Entry]) -> None: ...

    def last_seq(self, session_id: str) -> int: ...


class Lines(Protocol):
    """Where a turn's audit lines go (a TranscriptWriter)."""

    def write_lines(self, lines: list[str]) -> None: ...


@dataclass(slots=True, eq=False)
class Turn:
    """One sealed turn: what the loop produced, waiting for its commit."""

    epoch: int
    entries: list[Entry]
    owners: list[tuple[Any, Callable[[], Any] | None]]  # (host, tell its sender) per entry
    lines: list[tuple[Any, Lines, list[str]]]  # (host, its transcript, the lines)
    frames: list[tuple[Any, list[Any], int]]  # (connection, its frames, their bytes)
    mark: tuple[str, concurrent.futures.Future[int]] | None = None  # a snapshot's journal position
    waiters: list[Any] | None = None  # asyncio futures: "delivered" (Outbox.settled)
    error: StoreError | None = None
    done: bool = False  # set by the writer thread, after `error`


class JournalWriter:
    def __init__(self, store: GroupStore, wake: Callable[[], None], threaded: bool = True) -> None:
        self.store = store
        self.wake = wake  # called in this thread after a batch of turns is done (thread-safe)
        self._queue: queue.SimpleQueue[Turn | None] = queue.SimpleQueue()
        self._idle = threading.Condition()
        # turns handed over and turns done: counted without a lock, each by one thread
        self._submitted = 0
        self._done = 0
        self._waiting = 0  # threads in wait_idle
        self._refused_epoch = -1  # turns of this epoch (and older) are refused without a try
        self._refused_hosts: set[Any] = set()  # hosts failed in that epoch: their lines are void
        self._closed = not threaded  # no thread: `submit` commits in the caller's thread
        self.commits = 0  # transactions with at least one entry, and
        self.entries = 0  # the entries they held (docs/performance.md: entries per commit)
        self._store_ns = self._lines_ns = self._batch_entries = 0  # of the batch being committed
        self._thread = threading.Thread(target=self._run, name="mpac-journal", daemon=True)
        if threaded:
            self._thread.start()

    def submit(self, turn: Turn) -> None:
        if self._closed:  # in the loop, or after a clean stop's last drain: here and now
            self._commit([turn])
            return
        self._submitted += 1  # only the loop's thread counts these, only the writer `_done`
        self._queue.put(turn)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every turn handed over is done (a snapshot in the loop, a clean stop)."""
        with self._idle:
            self._waiting += 1
            try:
                return self._idle.wait_for(lambda: self._done == self._submitted, timeout)
            finally:
                self._waiting -= 1

    def close(self) -> None:
        """Finish what was handed over, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(60)

    # --- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[Turn] = []
            item = self._queue.get()
            while item is not None:
                batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            else:
                stop = True
            started = time.perf_counter_ns()
            self._store_ns = self._lines_ns = self._batch_entries = 0
            try:
                self._commit(batch)
            except Exception:  # never leave the loop waiting: what failed is refused
                log.exception("the journal writer failed")
                for turn in batch:
                    if not turn.done:
                        self._finish(turn, StoreError("the journal writer failed"))
            self._note(time.perf_counter_ns() - started)
            self._done += len(batch)
            if self._waiting:  # someone blocks in wait_idle (rare): no lock otherwise
                with self._idle:
                    self._idle.notify_all()
            if batch:
                self.wake()

    def _note(self, took_ns: int) -> None:
        global slowest
        if took_ns > slowest[0]:
            slowest = (took_ns, self._store_ns, self._lines_ns, self._batch_entries)

    def _commit(self, batch: list[Turn]) -> None:
        """Commit runs of turns of one epoch in one transaction each; a run ends at a mark, whose
        journal position must not include the turns after it."""
        run: list[Turn] = []
        for i, turn in enumerate(batch):
            run.append(turn)
            last = i + 1 == len(batch)
            if last or turn.mark is not None or batch[i + 1].epoch != turn.epoch:
                self._commit_run(run)
                run = []

    def _commit_run(self, run: list[Turn]) -> None:
        epoch = run[0].epoch
        error: StoreError | None = None
        if epoch <= self._refused_epoch:
            error = StoreError("an earlier journal write of this turn's state was refused")
        else:
            self._refused_hosts.clear()
            entries = [e for turn in run for e in turn.entries]
            if entries:
                started = time.perf_counter_ns()
                try:
                    self.store.append_many(entries)
                    self.commits += 1
                    self.entries += len(entries)
                except StoreError as exc:
                    self._refused_epoch = epoch
                    error = exc
                self._store_ns += time.perf_counter_ns() - started
                self._batch_entries += len(entries)
        if error is not None:  # these hosts' calls are undone, and so are their audit lines
            self._refused_hosts.update(host for turn in run for host, _ in turn.owners)
        started = time.perf_counter_ns()
        for turn in run:
            for host, sink, lines in turn.lines:
                if host in self._refused_hosts:
                    continue
                # The journal has the calls: only audit lines are short (ValueError: a session
                # dropped meanwhile closed its transcript).
                try:
                    sink.write_lines(lines)
                except (OSError, ValueError) as exc:
                    log.error("audit transcript not written: %s", exc)
        self._lines_ns += time.perf_counter_ns() - started
        for turn in run:
            self._finish(turn, error)

    def _finish(self, turn: Turn, error: StoreError | None) -> None:
        turn.error = error
        if turn.mark is not None:
            session_id, fut = turn.mark
            if error is None:
                fut.set_result(self.store.last_seq(session_id))
            else:
                fut.set_exception(error)
        turn.done = True

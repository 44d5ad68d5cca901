"""Group commit (issue 17): the journal entries of one event-loop turn go to the store in one
transaction, and the turn's frames are written only once it has committed.

A host hands each entry here instead of appending it at once. At the end of the turn the Outbox
seals the turn: its entries, the audit lines its calls wrote and every connection's frames become
one `Turn`, handed to the writer thread (bridge/server/journalwriter.py), which commits it off the
loop. When the writer is done with a turn, the loop writes the turn's frames, turn after turn in
the order they were sealed. So "committed before any frame of it is sent" holds as before, and a
kill -9 loses only entries whose output never left; meanwhile the loop goes on reading and
handling messages instead of waiting for the disk.

When the store refuses a turn, nothing of it was written (one transaction): every host with an
entry in it is failed as a refused append would fail it (suspended, its transcript lines
discarded), the frames queued for that host's connections by turns sealed before the loop heard of
it are dropped, and each sender of a lost message is told to retry. Turns sealed before that moment
are refused with it (see journalwriter.py), so their hosts are failed the same way.

Only a store with `append_many` (SQLite) is grouped; PostgreSQL appends one entry at a time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from bridge.server.journalwriter import Entry, GroupStore, JournalWriter, Lines, Turn
from bridge.store.base import StoreError

log = logging.getLogger("mpac.sidecar")
DRAIN_TIMEOUT_SEC = 60.0
__all__ = ["Entry", "GroupStore", "Member", "TurnJournal"]


class Member(Protocol):
    """What the group needs of a host."""

    conns: dict[str, list[Any]]

    def take_lines(self) -> tuple[Lines, list[str]] | None:
        """The audit lines its calls wrote since the last seal, and where they go."""

    def group_failed(self, exc: StoreError, lost: list[Callable[[], Any]]) -> None: ...


class Writable(Protocol):
    def write(self, frames: list[Any], size: int) -> None: ...

    def forget(self, size: int) -> None: ...


def deliver(frames: list[tuple[Any, list[Any], int]], silenced: dict[Any, int], epoch: int) -> None:
    for conn, data, size in frames:
        if silenced and silenced.get(conn, -1) >= epoch:
            conn.forget(size)  # computed on state the store refused: never sent
            continue
        try:
            conn.write(data, size)
        except Exception:  # one broken transport must not hold back everyone else's frames
            log.exception("writing to a connection failed")


class TurnJournal:
    def __init__(self, store: GroupStore, wake: Callable[[], None], in_loop: bool = False) -> None:
        self.store = store
        self.wake = wake  # makes sure a seal (an Outbox flush) is on its way this turn
        self.entries: list[Entry] = []
        self.owners: list[tuple[Member, Callable[[], Any] | None]] = []
        self.touched: dict[Member, None] = {}  # hosts that ran a call this turn (transcripts)
        self.epoch = 0  # a new epoch starts each time the loop handles a refused commit
        self.silenced: dict[Any, int] = {}  # connection -> last epoch whose frames it must not get
        self.sealed: deque[Turn] = deque()  # in order; the head is written first
        self._loop: asyncio.AbstractEventLoop | None = None
        # in_loop (--commit-in-loop): each turn is committed here and now, its frames written
        self.writer = JournalWriter(store, self._wake_loop, threaded=not in_loop)

    def touch(self, host: Member) -> None:
        if not self.touched:
            self.wake()
        self.touched[host] = None

    def add(self, host: Member, entry: Entry, refuse: Callable[[], Any] | None = None) -> None:
        """Journal `entry` with this turn's group; `refuse` tells its sender if it is lost."""
        self.touch(host)
        self.entries.append(entry)
        self.owners.append((host, refuse))

    # --- sealing and delivering --------------------------------------------------------------

    def seal(
        self, frames: list[tuple[Any, list[Any], int]], mark: str | None = None
    ) -> concurrent.futures.Future[int] | None:
        """End the turn (or, for a snapshot, the part of it so far): its entries and audit lines go
        to the writer thread, and `frames` are written once they are committed. With `mark`, the
        returned future gives that session's journal position after the sealed entries."""
        entries, owners, touched = self.entries, self.owners, self.touched
        self.entries, self.owners, self.touched = [], [], {}
        lines = [(host, *taken) for host in touched if (taken := host.take_lines()) is not None]
        if not entries and not lines and mark is None:
            if not self.sealed:  # nothing before it is waiting: no need to wait at all
                deliver(frames, self.silenced, self.epoch)
                return None
            if not frames:
                return None
            turn = Turn(self.epoch, [], [], [], frames)
            turn.done = True
            self.sealed.append(turn)
            return None
        future: concurrent.futures.Future[int] | None = None
        turn = Turn(self.epoch, entries, owners, lines, frames)
        if mark is not None:
            future = concurrent.futures.Future()
            turn.mark = (mark, future)
        if self._loop is None:
            with contextlib.suppress(RuntimeError):  # no loop (unit tests): `drain` writes
                self._loop = asyncio.get_running_loop()
        self.sealed.append(turn)
        self.writer.submit(turn)
        if turn.done:  # committed in the loop (or after the writer stopped)
            self.advance()
        return future

    def _wake_loop(self) -> None:
        """Called by the writer thread once it is done with some turns."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing is left to write to
                loop.call_soon_threadsafe(self.advance)

    def advance(self) -> None:
        """Write the frames of every turn at the head that the writer is done with."""
        sealed = self.sealed
        while sealed and sealed[0].done:
            turn = sealed.popleft()
            if turn.error is not None:
                self._refused(turn, turn.error)
            deliver(turn.frames, self.silenced, turn.epoch)
            for waiter in turn.waiters or ():
                if not waiter.done():
                    waiter.set_result(None)
        if not sealed:
            self.silenced.clear()  # no turn of an older epoch is left

    def _refused(self, turn: Turn, exc: StoreError) -> None:
        failed: dict[Member, list[Callable[[], Any]]] = {}
        for host, refuse in turn.owners:
            failed.setdefault(host, []).extend([refuse] if refuse is not None else [])
        if turn.epoch == self.epoch:
            self.epoch += 1  # turns sealed from now on are computed on what the store has
        for host, lost in failed.items():
            for conns in host.conns.values():
                for conn in conns:
                    self.silenced[conn] = turn.epoch
            host.group_failed(exc, lost)

    # --- waiting -----------------------------------------------------------------------------

    def drain(self) -> None:
        """Seal what this turn has journaled so far and block until every sealed turn is
        committed and its frames written (a snapshot taken in the loop, a reload, a clean stop)."""
        if self.entries or self.touched:
            self.seal([])
        if not self.writer.wait_idle(DRAIN_TIMEOUT_SEC):
            log.error("the journal writer did not finish within %.0f s", DRAIN_TIMEOUT_SEC)
        self.advance()

    async def settled(self) -> None:
        """Wait until the frames of every turn sealed so far are written (a close frame must not
        overtake them)."""
        if not self.sealed:
            return
        waiter = asyncio.get_running_loop().create_future()
        last = self.sealed[-1]
        last.waiters = [*(last.waiters or ()), waiter]
        await waiter

    def close(self) -> None:
        self.drain()
        self.writer.close()

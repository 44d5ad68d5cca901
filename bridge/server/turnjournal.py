"""Group commit (issue 17): the journal entries of one event-loop turn go to the store in one
transaction, just before the turn's frames are written.

A host hands each entry here instead of appending it at once; the Outbox calls `commit()` before
it writes any frame, so "committed before any frame of it is sent" holds as before, and a kill -9
loses only entries whose output never left. When the store refuses the group, nothing of it was
written (one transaction): every host with an entry in it is failed as a refused append would
fail it (suspended, its transcript lines discarded), the frames it queued this turn are dropped,
and each sender of a lost message is told to retry.

Only a store with `append_many` (SQLite) is grouped; PostgreSQL appends one entry at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from bridge.store.base import StoreError

Entry = tuple[str, str, float, "str | None", "str | None"]  # session_id, kind, now, raw, bound


@runtime_checkable
class GroupStore(Protocol):
    """A store that commits several entries in one transaction (SqliteStore)."""

    def append_many(self, entries: list[Entry]) -> None: ...


class Member(Protocol):
    """What the group needs of a host."""

    def group_committed(self) -> None: ...

    def group_failed(self, exc: StoreError, lost: list[Callable[[], Any]]) -> None: ...


class TurnJournal:
    def __init__(self, store: GroupStore, wake: Callable[[], None]) -> None:
        self.store = store
        self.wake = wake  # makes sure a commit (an Outbox flush) is on its way this turn
        self.entries: list[Entry] = []
        self.owners: list[tuple[Member, Callable[[], Any] | None]] = []
        self.touched: dict[Member, None] = {}  # hosts that ran a call this turn (transcripts)
        self.turns = 0  # commits with at least one entry, and
        self.grouped = 0  # the entries they held (docs/performance.md: entries per turn)

    def touch(self, host: Member) -> None:
        if not self.touched:
            self.wake()
        self.touched[host] = None

    def add(self, host: Member, entry: Entry, refuse: Callable[[], Any] | None = None) -> None:
        """Journal `entry` with this turn's group; `refuse` tells its sender if it is lost."""
        self.touch(host)
        self.entries.append(entry)
        self.owners.append((host, refuse))

    def commit(self) -> None:
        """Commit the turn's entries in one transaction (before any frame of the turn is sent)."""
        entries, owners, touched = self.entries, self.owners, self.touched
        if not touched:
            return
        self.entries, self.owners, self.touched = [], [], {}
        failed: dict[Member, list[Callable[[], Any]]] = {}
        if entries:
            try:
                self.store.append_many(entries)
                self.turns += 1
                self.grouped += len(entries)
            except StoreError as exc:
                for host, refuse in owners:
                    failed.setdefault(host, []).extend([refuse] if refuse is not None else [])
                for host, lost in failed.items():
                    host.group_failed(exc, lost)
        for host in touched:
            if host not in failed:
                host.group_committed()

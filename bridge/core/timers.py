"""The coordinator's deadlines: one heap per kind of timer, with lazy deletion (an entry is checked
against its record when it comes due, so cancelling or moving a deadline costs nothing)."""

from __future__ import annotations

import heapq
from typing import Any

Entry = tuple[float, str]  # (when, key of the record it belongs to)
KINDS = ("expiry", "grace", "deferral", "liveness", "conflict", "claim")


class TimerHeap:
    __slots__ = ("entries",)

    def __init__(self, entries: list[Entry] | None = None) -> None:
        self.entries: list[Entry] = entries if entries is not None else []

    def push(self, when: float, key: str) -> None:
        heapq.heappush(self.entries, (when, key))

    def pop_due(self, now: float) -> Entry | None:
        """The earliest entry when it is due at `now` (removed), else None."""
        entries = self.entries
        if entries and entries[0][0] <= now:
            return heapq.heappop(entries)
        return None

    def head(self) -> Entry | None:
        return self.entries[0] if self.entries else None

    def rebuild(self, entries: list[Entry]) -> None:
        """Replace every entry (drops the stale ones a long session accumulates)."""
        heapq.heapify(entries)
        self.entries = entries

    def __len__(self) -> int:
        return len(self.entries)


class Timers:
    """expiry: intent TTLs; grace: proposals of ended intents; deferral: deferral TTLs; liveness:
    unavailability checks; conflict: resolution timeouts and frozen phases; claim: claim approvals."""

    __slots__ = ("claim", "conflict", "deferral", "expiry", "grace", "liveness")

    def __init__(self) -> None:
        self.expiry = TimerHeap()
        self.grace = TimerHeap()
        self.deferral = TimerHeap()
        self.liveness = TimerHeap()
        self.conflict = TimerHeap()
        self.claim = TimerHeap()

    def heaps(self) -> tuple[TimerHeap, ...]:
        return (self.expiry, self.grace, self.deferral, self.liveness, self.conflict, self.claim)

    def next_due(self) -> float | None:
        heads = [h.entries[0][0] for h in self.heaps() if h.entries]
        return min(heads) if heads else None

    def signature(self) -> tuple[Any, ...]:
        """What a tick's housekeeping may change (sizes and heads): compared before and after."""
        heaps = self.heaps()
        return (*(len(h) for h in heaps), *(h.head() for h in heaps))

    def to_json(self) -> dict[str, list[Entry]]:
        """The heaps as they are (shared, not copied: encode before the state moves on)."""
        return {kind: heap.entries for kind, heap in zip(KINDS, self.heaps(), strict=True)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Timers:
        timers = cls()
        for kind, heap in zip(KINDS, timers.heaps(), strict=True):
            heap.rebuild([(float(when), str(key)) for when, key in data.get(kind, [])])
        return timers

"""Per-key coalescing: the first change to a key starts a short window; changes inside the window
join it; the key is flushed once when the window ends. Latency is bounded by the window (a burst
never postpones the flush). Pure: time is passed in."""

from __future__ import annotations


class Coalescer:
    """Keys waiting to be flushed, each with the time it becomes due."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._due: dict[str, float] = {}

    def mark(self, key: str, now: float) -> bool:
        """Note a change to `key`. True when this opened a new window (the caller schedules a flush)."""
        if key in self._due:
            return False
        self._due[key] = now + self.delay
        return True

    def pop_due(self, now: float) -> list[str]:
        """The keys whose window has ended, removed, in the order they were marked."""
        ready = [k for k, t in self._due.items() if t <= now]
        for k in ready:
            del self._due[k]
        return ready

    def next_due(self) -> float | None:
        return min(self._due.values(), default=None)

    def __contains__(self, key: str) -> bool:
        return key in self._due

    def __len__(self) -> int:
        return len(self._due)

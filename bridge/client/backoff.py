"""Reconnect delays: exponential with full jitter, capped, and reset only after a healthy spell.

Pure: the caller passes the time and (optionally) a random source, so tests are deterministic.
A connection that drops right after it came up (a flapping sidecar) does not reset the delay, so
a flapping peer never turns the client into a hot reconnect loop.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float = 0.1
    cap: float = 5.0
    factor: float = 2.0
    healthy_after: float = 10.0  # seconds a connection must last before the delay resets
    jitter: float = 0.5  # fraction of each delay drawn at random (0 = none, 1 = full jitter)
    rng: Callable[[], float] = field(default=random.random)
    _attempt: int = 0
    _up_since: float | None = None

    def up(self, now: float) -> None:
        """A connection was established at `now`."""
        self._up_since = now

    def down(self, now: float) -> None:
        """The connection was lost at `now`: reset only if it had stayed up long enough."""
        if self._up_since is not None and now - self._up_since >= self.healthy_after:
            self._attempt = 0
        self._up_since = None

    def next_delay(self) -> float:
        """The wait before the next connection attempt (the first attempt after a healthy
        connection waits a little too, so a crash-looping peer is never hammered)."""
        base = min(self.cap, self.initial * (self.factor**self._attempt))
        self._attempt = min(self._attempt + 1, 64)
        spread = base * self.jitter
        return base - spread + spread * self.rng()

    @property
    def attempt(self) -> int:
        return self._attempt

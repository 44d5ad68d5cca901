"""The store interface the sidecar uses: append to a journal, snapshot, load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    kind: str  # "handle" | "tick" | "close" | "recover" | "disconnect"
    now: float
    raw: str | None  # the inbound frame for "handle", the principal for "disconnect"
    bound: str | None  # the principal the connection was bound to


class Store(Protocol):
    def append(self, session_id: str, kind: str, now: float, raw: str | None = None, bound: str | None = None) -> int: ...

    def snapshot(self, session_id: str, seq: int, state: dict[str, Any]) -> None: ...

    def load(self, session_id: str) -> tuple[dict[str, Any] | None, list[JournalEntry]]: ...

    def sessions(self) -> list[str]: ...

    def last_seq(self, session_id: str) -> int: ...

    def close(self) -> None: ...

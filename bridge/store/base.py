"""The store interface the sidecar uses: append to a journal, snapshot, load.

Two backends implement it: SQLite (`SqliteStore`, one process, the default) and PostgreSQL
(`PostgresStore`, a fleet of nodes sharing one database, with session leases). Both pass the same
conformance suite (tests/store/test_conformance.py).

Errors: a backend raises `StoreUnavailable` when it cannot commit (the database is down, the disk
is full...) and `LeaseLost` when another node now serves the session (PostgreSQL only). Either way
nothing of that call was written. Error messages never contain credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    kind: str  # "handle" | "tick" | "close" | "recover" | "disconnect"
    now: float
    raw: str | None  # the inbound frame for "handle", the principal for "disconnect"
    bound: (
        str | None
    )  # JSON: the principal the connection was bound to, recorded lookups, verdicts, epoch


class StoreError(Exception):
    """The store could not do what was asked; the message says why (and never holds a password)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or cannot commit right now; nothing of the call was written."""


class LeaseLost(StoreError):
    """This node no longer holds the session's lease (another node took it over): the append or
    snapshot was refused by the database and nothing of it was written."""


class Store(Protocol):
    def claim(self, session_id: str) -> int | None:
        """Make this process the session's only writer before loading it. Returns the
        coordinator epoch to serve under (a fleet's lease epoch), or None when the store has no
        leases (SQLite: one process owns the file). Raises StoreError when it cannot."""
        ...

    def release(self, session_id: str) -> None:
        """Stop writing the session (clean stop, idle session); another node may take it."""
        ...

    def append(
        self,
        session_id: str,
        kind: str,
        now: float,
        raw: str | None = None,
        bound: str | None = None,
    ) -> int:
        """Commit one journal entry; returns its sequence number (1, 2, ... per session).
        Returns only once the entry is durable; raises StoreError (nothing written) otherwise."""
        ...

    def snapshot(self, session_id: str, seq: int, state: dict[str, Any]) -> None:
        """Store the session's state as of entry `seq`; entries up to `seq` may then be dropped."""
        ...

    def load(self, session_id: str) -> tuple[dict[str, Any] | None, list[JournalEntry]]:
        """The latest snapshot (or None) and the journal entries after it, in order."""
        ...

    def sessions(self) -> list[str]: ...

    def last_seq(self, session_id: str) -> int: ...

    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers now."""
        ...

    def describe(self) -> str:
        """Where the store is, for logs (credentials removed)."""
        ...

    def close(self) -> None: ...

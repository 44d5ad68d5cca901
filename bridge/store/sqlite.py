"""SQLite (WAL) store: an append-only journal of the calls that changed a session, plus snapshots.

Journal rows older than the latest snapshot are deleted when a snapshot is written, so the file
does not grow with the session's history.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from bridge.store.base import JournalEntry, StoreUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    now REAL NOT NULL,
    raw TEXT,
    bound TEXT,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (
    session_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL
);
"""


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes (kill -9)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}

    def _next(self, session_id: str) -> int:
        if session_id not in self._seq:
            row = self._db.execute(
                "SELECT MAX(seq) FROM journal WHERE session_id=?", (session_id,)
            ).fetchone()
            snap = self._db.execute(
                "SELECT seq FROM snapshots WHERE session_id=?", (session_id,)
            ).fetchone()
            self._seq[session_id] = max(row[0] or 0, snap[0] if snap else 0)
        self._seq[session_id] += 1
        return self._seq[session_id]

    def append(
        self,
        session_id: str,
        kind: str,
        now: float,
        raw: str | None = None,
        bound: str | None = None,
    ) -> int:
        with self._lock:
            seq = self._next(session_id)
            try:
                self._db.execute(
                    "INSERT INTO journal (session_id, seq, kind, now, raw, bound) VALUES (?, ?, ?, ?, ?, ?)",
                    (session_id, seq, kind, now, raw, bound),
                )
            except (
                sqlite3.OperationalError
            ) as exc:  # disk full, I/O error, locked by another process
                self._seq[session_id] -= 1
                raise StoreUnavailable(
                    f"the journal {self.path} cannot be written: {exc}"
                ) from None
            return seq

    def append_many(self, entries: list[tuple[str, str, float, str | None, str | None]]) -> None:
        """Commit several entries (session_id, kind, now, raw, bound) in one transaction: all of
        them or, raising StoreUnavailable, none (the sidecar's group commit, issue 17)."""
        with self._lock:
            before = dict(self._seq)
            try:
                rows = [(sid, self._next(sid), k, now, raw, b) for sid, k, now, raw, b in entries]
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO journal (session_id, seq, kind, now, raw, bound) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:  # disk full, I/O error, locked by another process
                with contextlib.suppress(sqlite3.Error):
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                self._seq = before
                raise StoreUnavailable(
                    f"the journal {self.path} cannot be written: {exc}"
                ) from None

    def snapshot(self, session_id: str, seq: int, state: dict[str, Any]) -> None:
        text = json.dumps(state, separators=(",", ":"))
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.execute(
                    "INSERT INTO snapshots (session_id, seq, state) VALUES (?, ?, ?) "
                    "ON CONFLICT(session_id) DO UPDATE SET seq=excluded.seq, state=excluded.state",
                    (session_id, seq, text),
                )
                self._db.execute(
                    "DELETE FROM journal WHERE session_id=? AND seq<=?", (session_id, seq)
                )
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreUnavailable(
                    f"the snapshot of {session_id} cannot be written to {self.path}: {exc}"
                ) from None

    def load(self, session_id: str) -> tuple[dict[str, Any] | None, list[JournalEntry]]:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, state FROM snapshots WHERE session_id=?", (session_id,)
            ).fetchone()
            after = row[0] if row else 0
            rows = self._db.execute(
                "SELECT seq, kind, now, raw, bound FROM journal WHERE session_id=? AND seq>? ORDER BY seq",
                (session_id, after),
            ).fetchall()
        snap = json.loads(row[1]) if row else None
        return snap, [JournalEntry(*r) for r in rows]

    def sessions(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT session_id FROM snapshots UNION SELECT DISTINCT session_id FROM journal"
            ).fetchall()
        return sorted(r[0] for r in rows)

    def last_seq(self, session_id: str) -> int:
        with self._lock:
            return self._seq.get(session_id) or 0

    def claim(self, session_id: str) -> int | None:
        return None  # one process owns the file: no leases

    def release(self, session_id: str) -> None:
        return None

    def ping(self) -> None:
        with self._lock:
            try:
                self._db.execute("SELECT 1").fetchone()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"the journal {self.path} cannot be read: {exc}") from None

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def close(self) -> None:
        with self._lock:
            self._db.close()

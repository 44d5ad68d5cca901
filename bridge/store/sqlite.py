"""SQLite (WAL) store: an append-only journal of the calls that changed a session, plus snapshots.

Journal rows older than the latest snapshot are deleted when a snapshot is written, so the file
does not grow with the session's history.

A snapshot is written in parts of about 64 KiB (`snapshot_parts`), each in its own short
transaction, and becomes the session's snapshot only when its `snapshots` row is switched to it
(`state` = "parts:<generation>:<count>"); the parts of the previous one and the journal rows it
covers are deleted after that, in small batches. So `snapshot` may run in a worker thread
(`threaded_snapshots`): the event loop's appends wait at most one small statement for the
connection, never for the whole snapshot. The worker pauses after each statement
(`_let_writers_in`) because a lock is not fair: a thread that releases it and asks again at once
keeps getting it. A snapshot cut off half-way (crash, kill -9) leaves
parts that no row names, deleted at the next start; the previous snapshot and the journal are
untouched. An older `snapshots` row holding the whole JSON text still loads.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from bridge.store.base import JournalEntry, StoreUnavailable
from bridge.store.checkpoint import Checkpointer
from bridge.store.chunks import parts

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
CREATE TABLE IF NOT EXISTS snapshot_parts (
    session_id TEXT NOT NULL,
    gen TEXT NOT NULL,
    part INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (session_id, gen, part)
);
"""
PARTS = "parts:"  # a `snapshots.state` naming its parts, "parts:<generation>:<count>"
# characters per snapshot part, and journal rows (8 KiB and more each) deleted per transaction
# after a snapshot: each is one short statement, the longest the loop's append waits for the lock
PART_CHARS = 1 << 16
DELETE_BATCH = 25
# A snapshot's worker sleeps this long after each statement, so that the event loop's append,
# waiting for the connection's lock, gets it (issue 17: the clean-up after a snapshot of 10,000
# intents of 8 KiB held the loop 160-230 ms without it).
BACKGROUND_PAUSE_SEC = 0.0005
# A snapshot written in the background (the forked child's, `paced`) goes in at most this fast.
# Written as fast as SQLite took them, its 80 MiB left the disk that far behind: the
# checkpointer's next sync of the log took hundreds of milliseconds, the journal's commits waited
# for the blocks it was allocating, and no answer left meanwhile (issue 17: 0.1-1.2 s in
# `bench stall`). A snapshot in the loop (a clean stop) is not paced. Counted in characters of
# the JSON text (bytes, for ASCII).
SNAPSHOT_BYTES_PER_SEC = 16 << 20
CACHE_KIB = 256  # each connection's page cache


INSERT = "INSERT INTO journal (session_id, seq, kind, now, raw, bound) VALUES (?, ?, ?, ?, ?, ?)"


def _gen_of(state: str) -> str | None:
    return state.split(":")[1] if state.startswith(PARTS) else None


def _let_writers_in() -> None:
    """Between two statements of a background job: time for a thread waiting on the lock."""
    time.sleep(BACKGROUND_PAUSE_SEC)


class SqliteStore:
    threaded_snapshots = True  # `snapshot` may run in a worker thread (see the module's docstring)

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes (kill -9)
        self._db.executescript(SCHEMA)
        self._db.execute("PRAGMA wal_autocheckpoint=0")  # done by a thread (store/checkpoint.py)
        # This connection mostly appends: a small page cache (SQLite's default is 2 MiB, filled
        # by the journal's newest pages) is RSS that buys nothing (issue 17: memory per intent).
        self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}
        self._checkpointer = Checkpointer(self.path)
        # parts no snapshot names: a snapshot cut off half-way by a crash (one process owns the
        # file, so none is being written now)
        self._db.execute(
            "DELETE FROM snapshot_parts WHERE NOT EXISTS (SELECT 1 FROM snapshots s WHERE "
            "s.session_id = snapshot_parts.session_id AND s.state LIKE ? || snapshot_parts.gen || ':%')",
            (PARTS,),
        )

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
                self._db.execute(INSERT, (session_id, seq, kind, now, raw, bound))
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
                if len(rows) == 1:  # most turns: one statement is its own transaction
                    self._db.execute(INSERT, rows[0])
                else:
                    self._db.execute("BEGIN")
                    self._db.executemany(INSERT, rows)
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
        self.write_parts(session_id, seq, parts(state, PART_CHARS))

    def write_parts(
        self, session_id: str, seq: int, texts: Iterable[str], paced: bool = False
    ) -> None:
        """Store the snapshot whose JSON text is the concatenation of `texts` (pieces of about
        PART_CHARS); `paced` (a background writer) at most SNAPSHOT_BYTES_PER_SEC. If `texts`
        raises, nothing changes but orphan parts (deleted here or at the next start) and the
        exception goes on."""
        rate = SNAPSHOT_BYTES_PER_SEC if paced else float("inf")
        gen = uuid.uuid4().hex
        try:
            count = 0
            for text in texts:
                with self._lock:
                    self._db.execute(
                        "INSERT INTO snapshot_parts (session_id, gen, part, data) VALUES (?, ?, ?, ?)",
                        (session_id, gen, count, text),
                    )
                time.sleep(max(BACKGROUND_PAUSE_SEC, len(text) / rate))
                count += 1
            with self._lock:
                old = self._switch(session_id, seq, f"{PARTS}{gen}:{count}")
            self._forget(session_id, seq, gen if old is False else old)
            self._checkpointer.nudge()
        except sqlite3.Error as exc:
            self._drop_parts(session_id, gen)
            raise StoreUnavailable(
                f"the snapshot of {session_id} cannot be written to {self.path}: {exc}"
            ) from None
        except BaseException:
            self._drop_parts(session_id, gen)
            raise

    def _drop_parts(self, session_id: str, gen: str) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._forget(session_id, 0, gen)

    def _switch(self, session_id: str, seq: int, state: str) -> str | Literal[False] | None:
        """Make `state` the session's snapshot (lock held). Returns the generation it replaced (None:
        none, or a whole-text snapshot), or False when a newer snapshot was written meanwhile."""
        try:
            self._db.execute("BEGIN")
            row = self._db.execute(
                "SELECT seq, state FROM snapshots WHERE session_id=?", (session_id,)
            ).fetchone()
            if row is not None and row[0] > seq:
                self._db.execute("COMMIT")
                return False
            self._db.execute(
                "INSERT INTO snapshots (session_id, seq, state) VALUES (?, ?, ?) "
                "ON CONFLICT(session_id) DO UPDATE SET seq=excluded.seq, state=excluded.state",
                (session_id, seq, state),
            )
            self._db.execute("COMMIT")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return _gen_of(row[1]) if row is not None else None

    def _forget(self, session_id: str, seq: int, gen: str | None) -> None:
        """After a snapshot at `seq`: the journal rows it covers and the parts of `gen` (the
        snapshot it replaced), each batch in its own short transaction."""
        while True:
            with self._lock:
                done = self._db.execute(
                    "DELETE FROM journal WHERE rowid IN (SELECT rowid FROM journal "
                    "WHERE session_id=? AND seq<=? LIMIT ?)",
                    (session_id, seq, DELETE_BATCH),
                ).rowcount
            if done < DELETE_BATCH:
                break
            _let_writers_in()
        if gen is None:
            return
        while True:
            with self._lock:
                done = self._db.execute(
                    "DELETE FROM snapshot_parts WHERE rowid IN (SELECT rowid FROM snapshot_parts "
                    "WHERE session_id=? AND gen=? LIMIT 4)",
                    (session_id, gen),
                ).rowcount
            if done < 4:
                break
            _let_writers_in()

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
            text = row[1] if row else None
            if text is not None and text.startswith(PARTS):
                _, gen, count = text.split(":")
                chunks = [
                    r[0]
                    for r in self._db.execute(
                        "SELECT data FROM snapshot_parts WHERE session_id=? AND gen=? ORDER BY part",
                        (session_id, gen),
                    )
                ]
                if len(chunks) != int(count):
                    raise StoreUnavailable(
                        f"the snapshot of {session_id} in {self.path} is missing parts "
                        f"({len(chunks)} of {count})"
                    )
                text = "".join(chunks)
        snap = json.loads(text) if text is not None else None
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
        self._checkpointer.stop()
        with self._lock:
            self._db.close()

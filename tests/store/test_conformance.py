"""The Store contract, run against every backend: SQLite (the default) and PostgreSQL (the fleet's,
on a real throwaway cluster). A backend-specific check goes through `Backend`, never around it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bridge.store import JournalEntry, SqliteStore, Store, StoreError


@dataclass
class Backend:
    name: str
    open: Callable[[], Any]  # a new store instance on the same data (a reopen, a restarted node)
    rows: Callable[[Any, str], int]  # journal rows physically kept for a session
    opened: list[Any] = field(default_factory=list)

    def store(self) -> Any:
        s = self.open()
        self.opened.append(s)
        return s

    def claimed(self, *sessions: str) -> Any:
        """A store that has claimed `sessions` (waiting out a dead writer's lease if need be)."""
        s = self.store()
        for sid in sessions:
            claim_eventually(s, sid)
        return s


def claim_eventually(store: Store, sid: str, timeout: float = 15.0) -> int | None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return store.claim(sid)
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # polling the database for a lease, not waiting for an event


def _sqlite(tmp_path: Path) -> Backend:
    path = tmp_path / "j.sqlite3"
    return Backend(
        "sqlite",
        lambda: SqliteStore(path),
        lambda s, sid: s._db.execute(
            "SELECT COUNT(*) FROM journal WHERE session_id=?", (sid,)
        ).fetchone()[0],
    )


def _postgres(url: str) -> Backend:
    from bridge.store.postgres import NodeIdentity, PostgresStore

    def rows(s: Any, sid: str) -> int:
        return s.main.run(
            lambda c: c.execute(
                "SELECT count(*) FROM mpac_journal WHERE session_id=%s", (sid,)
            ).fetchone()[0]
        )

    return Backend(
        "postgresql",
        lambda: PostgresStore(
            url, NodeIdentity("node", uuid.uuid4().hex[:8], "/node/node"), lease_ttl=5.0
        ),
        rows,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = (
        _sqlite(tmp_path)
        if request.param == "sqlite"
        else _postgres(request.getfixturevalue("pg_url"))
    )
    yield b
    for s in b.opened:
        s.close()


def test_append_and_load_in_order(backend: Backend) -> None:
    store = backend.claimed("s")
    seqs = [store.append("s", "handle", 1.0 + n, f'{{"n":{n}}}', None) for n in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert store.last_seq("s") == 5
    snap, rows = store.load("s")
    assert snap is None
    assert [r.raw for r in rows] == [f'{{"n":{n}}}' for n in range(5)]
    assert rows[0] == JournalEntry(1, "handle", 1.0, '{"n":0}', None)


def test_entries_round_trip_exactly(backend: Backend) -> None:
    store = backend.claimed("s")
    raw = '{"objective":"fix ✓ the \\"quoted\\" thing","nul":"\\u0000"}'
    store.append(
        "s", "handle", 1712345678.123456, raw, '{"bound":"agent:a","lookups":{"x.py":null}}'
    )
    store.append("s", "tick", 1712345679.5)
    store.append("s", "recover", 1712345680.0, None, '{"epoch":2}')
    _snap, rows = backend.store().load("s")
    assert rows == [
        JournalEntry(
            1, "handle", 1712345678.123456, raw, '{"bound":"agent:a","lookups":{"x.py":null}}'
        ),
        JournalEntry(2, "tick", 1712345679.5, None, None),
        JournalEntry(3, "recover", 1712345680.0, None, '{"epoch":2}'),
    ]


def test_snapshot_truncates_and_load_returns_only_later_rows(backend: Backend) -> None:
    store = backend.claimed("s")
    for n in range(3):
        store.append("s", "tick", float(n))
    store.snapshot("s", store.last_seq("s"), {"epoch": 1, "intents": ["a"], "text": "ünïcode"})
    store.append("s", "handle", 9.0, "late", '{"bound":"agent:a"}')
    snap, rows = store.load("s")
    assert snap == {"epoch": 1, "intents": ["a"], "text": "ünïcode"}
    assert [(r.seq, r.kind, r.raw) for r in rows] == [(4, "handle", "late")]
    assert backend.rows(store, "s") == 1  # older rows are gone: storage does not grow with history
    store.snapshot("s", 4, {"epoch": 1, "later": True})  # a later snapshot replaces the earlier one
    assert store.load("s") == ({"epoch": 1, "later": True}, [])


def test_sessions_are_independent_and_survive_reopen(backend: Backend) -> None:
    store = backend.claimed("a", "b")
    store.append("a", "handle", 1.0, "a1")
    store.snapshot("b", 0, {"b": True})
    store.append("b", "handle", 2.0, "b1")
    store.release("a")
    store.release("b")
    store.close()
    backend.opened.remove(store)
    again = backend.claimed("a", "b")
    assert again.sessions() == ["a", "b"]
    assert again.load("a") == (None, [JournalEntry(1, "handle", 1.0, "a1", None)])
    snap, rows = again.load("b")
    assert snap == {"b": True} and [r.raw for r in rows] == ["b1"]
    assert again.append("a", "tick", 3.0) == 2  # numbering continues after a reopen
    assert again.load("missing") == (None, [])


def test_a_released_session_can_be_claimed_by_the_next_writer_with_a_larger_epoch(
    backend: Backend,
) -> None:
    first = backend.claimed()
    e1 = first.claim("s")
    first.append("s", "handle", 1.0, "one")
    first.release("s")
    second = backend.store()
    e2 = second.claim("s")
    if e1 is None:  # no leases (SQLite): the epoch comes from the journal's recover entries
        assert e2 is None
    else:
        assert e2 is not None and e2 > e1
    assert second.append("s", "handle", 2.0, "two") == 2
    assert [r.raw for r in second.load("s")[1]] == ["one", "two"]


def test_ping_and_describe(backend: Backend) -> None:
    store = backend.store()
    store.ping()
    assert store.describe().startswith("sqlite:" if backend.name == "sqlite" else "postgresql://")


def _writer(backend_name: str, where: str, ready: Any) -> None:
    store: Any
    if backend_name == "sqlite":
        store = SqliteStore(where)
    else:
        from bridge.store.postgres import NodeIdentity, PostgresStore

        store = PostgresStore(where, NodeIdentity("child", "c1", "/node/child"), lease_ttl=5.0)
    store.claim("s")
    for n in range(50):
        store.append("s", "handle", float(n), f"row{n}")
    ready.set()
    signal.pause()


def test_appended_rows_survive_kill9(
    backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """append() returns only once the row is committed: a killed writer loses nothing it returned,
    and its session can be claimed afterwards (PostgreSQL: at once, its database session is gone)."""
    where = (
        str(tmp_path / "j.sqlite3")
        if backend.name == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_writer, args=(backend.name, where, ready))
    proc.start()
    try:
        assert ready.wait(60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(60)
    store = backend.claimed("s")
    _snap, rows = store.load("s")
    assert [r.raw for r in rows] == [f"row{n}" for n in range(50)]
    assert store.append("s", "tick", 99.0) == 51

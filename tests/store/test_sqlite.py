"""SqliteStore: the journal and snapshots survive reopening; a snapshot truncates older rows."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

from bridge.store import JournalEntry, SqliteStore


def test_append_and_load_in_order(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.sqlite3")
    seqs = [store.append("s", "handle", 1.0 + n, f'{{"n":{n}}}', None) for n in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    snap, rows = store.load("s")
    assert snap is None
    assert [r.raw for r in rows] == [f'{{"n":{n}}}' for n in range(5)]
    assert rows[0] == JournalEntry(1, "handle", 1.0, '{"n":0}', None)
    store.close()


def test_snapshot_truncates_and_load_returns_only_later_rows(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.sqlite3")
    for n in range(3):
        store.append("s", "tick", float(n))
    store.snapshot("s", store.last_seq("s"), {"epoch": 1, "intents": ["a"]})
    store.append("s", "handle", 9.0, "late", '{"bound":"agent:a"}')
    snap, rows = store.load("s")
    assert snap == {"epoch": 1, "intents": ["a"]}
    assert [(r.seq, r.kind, r.raw) for r in rows] == [(4, "handle", "late")]
    count = store._db.execute("SELECT COUNT(*) FROM journal WHERE session_id='s'").fetchone()[0]
    assert count == 1  # older rows are gone: the file does not grow with history
    store.close()


def test_sessions_are_independent_and_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    store = SqliteStore(path)
    store.append("a", "handle", 1.0, "a1")
    store.snapshot("b", 0, {"b": True})
    store.append("b", "handle", 2.0, "b1")
    store.close()
    again = SqliteStore(path)
    assert again.sessions() == ["a", "b"]
    assert again.load("a") == (None, [JournalEntry(1, "handle", 1.0, "a1", None)])
    snap, rows = again.load("b")
    assert snap == {"b": True} and [r.raw for r in rows] == ["b1"]
    assert again.append("a", "tick", 3.0) == 2  # numbering continues after a reopen
    assert again.load("missing") == (None, [])
    again.close()


def _writer(path: str, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    store = SqliteStore(path)
    for n in range(50):
        store.append("s", "handle", float(n), f"row{n}")
    ready.set()
    signal.pause()


def test_appended_rows_survive_kill9(tmp_path: Path) -> None:
    """append() returns only once the row is committed: a killed writer loses nothing it returned."""
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_writer, args=(str(tmp_path / "j.sqlite3"), ready))
    proc.start()
    try:
        assert ready.wait(60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(60)
    store = SqliteStore(tmp_path / "j.sqlite3")
    _snap, rows = store.load("s")
    assert [r.raw for r in rows] == [f"row{n}" for n in range(50)]
    store.close()

"""The group commit's store side (issue 17): several journal entries go to SQLite in one
transaction, all or none (the loop's side is tests/server/test_turnjournal.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.store.base import StoreUnavailable
from bridge.store.sqlite import SqliteStore


def test_append_many_commits_every_entry_in_order(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.db")
    store.append("s1", "handle", 1.0, "a")
    store.append_many(
        [
            ("s1", "handle", 2.0, "b", None),
            ("s2", "tick", 2.5, None, None),
            ("s1", "tick", 3.0, None, "{}"),
        ]
    )
    _, entries = store.load("s1")
    assert [(e.seq, e.kind, e.raw) for e in entries] == [
        (1, "handle", "a"),
        (2, "handle", "b"),
        (3, "tick", None),
    ]
    assert store.last_seq("s2") == 1
    store.close()
    again = SqliteStore(tmp_path / "j.db")  # durable: another connection reads them
    assert [e.seq for e in again.load("s1")[1]] == [1, 2, 3]
    again.close()


def test_a_refused_group_writes_nothing_and_keeps_the_sequence(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.db")
    store.append("s1", "handle", 1.0, "a")
    store._db.execute("DROP TABLE journal")  # every insert now fails inside the transaction
    store._db.execute(
        "CREATE TABLE journal (session_id TEXT, seq INTEGER, kind TEXT, now REAL, raw TEXT,"
        " bound TEXT, PRIMARY KEY (session_id, seq), CHECK (raw IS NULL OR raw != 'bad'))"
    )
    with pytest.raises(StoreUnavailable):
        store.append_many([("s1", "handle", 2.0, "good", None), ("s1", "handle", 3.0, "bad", None)])
    assert store.load("s1")[1] == []  # the good entry went with the bad one
    assert store.last_seq("s1") == 1
    store.append_many([("s1", "handle", 4.0, "next", None)])
    assert [(e.seq, e.raw) for e in store.load("s1")[1]] == [(2, "next")]
    store.close()


def test_the_journal_connection_keeps_a_small_page_cache(tmp_path: Path) -> None:
    """Appends need only the newest pages: SQLite's 2 MiB default cache was RSS for nothing."""
    from bridge.store.sqlite import CACHE_KIB

    store = SqliteStore(tmp_path / "j.sqlite3")
    try:
        assert store._db.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB
        for _ in range(200):
            store.append_many([("s", "k", 1.0, "x" * 500, None)])
        assert store.load("s")[1][-1].seq == 200  # appends and a read still work with it
    finally:
        store.close()

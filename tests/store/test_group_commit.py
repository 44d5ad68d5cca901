"""The group commit (issue 17): a turn's journal entries go to SQLite in one transaction, all or
none, and a refused group fails exactly the hosts that had entries in it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.server.turnjournal import TurnJournal
from bridge.store.base import StoreError, StoreUnavailable
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


class Host:
    def __init__(self) -> None:
        self.committed = 0
        self.failed: list[tuple[StoreError, int]] = []

    def group_committed(self) -> None:
        self.committed += 1

    def group_failed(self, exc: StoreError, lost: list[Callable[[], Any]]) -> None:
        for refuse in lost:
            refuse()
        self.failed.append((exc, len(lost)))


def test_the_turn_journal_commits_once_and_fails_only_hosts_with_entries(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.db")
    wakes: list[int] = []
    group = TurnJournal(store, lambda: wakes.append(1))
    a, b, idle = Host(), Host(), Host()
    group.add(a, ("s1", "handle", 1.0, "x", None))
    group.add(b, ("s2", "handle", 1.0, "y", None))
    group.touch(idle)
    group.commit()
    assert len(wakes) == 1 and (a.committed, b.committed, idle.committed) == (1, 1, 1)
    assert (group.turns, group.grouped) == (1, 2)
    group.commit()  # nothing touched since: nothing to do
    assert a.committed == 1

    told: list[str] = []
    store._db.close()  # the store now refuses everything
    group.add(a, ("s1", "handle", 2.0, "x2", None), lambda: told.append("a"))
    group.touch(idle)
    group.commit()
    assert [n for _, n in a.failed] == [1] and told == ["a"]
    assert idle.committed == 2 and not idle.failed  # no entry of its own was lost
    assert isinstance(a.failed[0][0], StoreUnavailable)


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

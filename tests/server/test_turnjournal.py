"""The group commit's loop side (issue 17): each turn's entries are committed by the journal's
thread, the turn's frames are written only after that and in the order the turns were sealed, a
refused commit fails exactly the hosts with entries in it (and every turn sealed on top of it),
and a snapshot's mark is the journal position of the entries sealed before it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.server import journalwriter
from bridge.server.turnjournal import TurnJournal
from bridge.store.base import StoreError, StoreUnavailable
from bridge.store.sqlite import SqliteStore
from bridge.store.transcript import TranscriptWriter


class Conn:
    """A connection as the journal sees it: frames written, frames dropped."""

    def __init__(self) -> None:
        self.written: list[Any] = []
        self.forgotten = 0

    def write(self, frames: list[Any], size: int) -> None:
        self.written.extend(frames)

    def forget(self, size: int) -> None:
        self.forgotten += size


class Host:
    def __init__(self, transcript: TranscriptWriter | None = None) -> None:
        self.conns: dict[str, list[Conn]] = {"p": [Conn()]}
        self.transcript = transcript
        self.failed: list[tuple[StoreError, int]] = []

    @property
    def conn(self) -> Conn:
        return self.conns["p"][0]

    def take_lines(self) -> tuple[TranscriptWriter, list[str]] | None:
        if self.transcript is None:
            return None
        lines = self.transcript.take()
        return (self.transcript, lines) if lines else None

    def group_failed(self, exc: StoreError, lost: list[Callable[[], Any]]) -> None:
        for refuse in lost:
            refuse()
        self.failed.append((exc, len(lost)))


@pytest.fixture
def store(tmp_path: Path):
    store = SqliteStore(tmp_path / "j.db")
    yield store
    store.close()


def test_a_turn_commits_once_before_its_frames_are_written(store: SqliteStore) -> None:
    wakes: list[int] = []
    group = TurnJournal(store, lambda: wakes.append(1))
    a, b, idle = Host(), Host(), Host()
    group.add(a, ("s1", "handle", 1.0, "x", None))
    group.add(b, ("s2", "handle", 1.0, "y", None))
    group.touch(idle)
    group.seal([(a.conn, [b"a1"], 2), (b.conn, [b"b1"], 2)])
    assert len(wakes) == 1
    group.drain()
    assert a.conn.written == [b"a1"] and b.conn.written == [b"b1"]
    assert (group.writer.commits, group.writer.entries) == (1, 2)
    assert [e.raw for e in store.load("s1")[1]] == ["x"]
    group.close()


def test_the_writer_notes_its_slowest_batch_for_the_loop_watch(store: SqliteStore) -> None:
    journalwriter.take_slowest()
    group = TurnJournal(store, lambda: None)
    a = Host()
    group.add(a, ("s1", "handle", 1.0, "x", None))
    group.add(a, ("s1", "handle", 1.0, "y", None))
    group.seal([(a.conn, [b"a1"], 2)])
    group.drain()
    took, in_store, in_lines, entries = journalwriter.take_slowest()
    assert entries == 2 and took >= in_store + in_lines and in_store > 0
    group.close()


def test_frames_wait_for_the_turns_sealed_before_them(store: SqliteStore) -> None:
    """A turn with nothing to commit still waits behind a turn being committed: a connection never
    gets a later turn's frame before an earlier one's."""
    group = TurnJournal(store, lambda: None)
    host = Host()
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock: the commit has to wait
    try:
        group.add(host, ("s1", "handle", 1.0, "x", None))
        group.seal([(host.conn, [b"first"], 5)])  # returns at once: the thread waits, not we
        group.seal([(host.conn, [b"second"], 6)])  # nothing to commit, but behind the first
        group.advance()
        assert host.conn.written == []
    finally:
        other.execute("ROLLBACK")
        other.close()
    group.drain()
    assert host.conn.written == [b"first", b"second"]
    group.close()


def test_a_refused_commit_fails_its_hosts_and_the_turns_sealed_on_top(
    store: SqliteStore, tmp_path: Path
) -> None:
    group = TurnJournal(store, lambda: None)
    a = Host(TranscriptWriter(tmp_path / "a.jsonl"))
    idle = Host(TranscriptWriter(tmp_path / "idle.jsonl"))
    store._db.execute("PRAGMA busy_timeout=0")
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # every commit is refused (the database is locked)
    told: list[str] = []
    try:
        group.add(a, ("s1", "handle", 2.0, "lost", None), lambda: told.append("a"))
        a.transcript("a-line")
        group.touch(idle)
        idle.transcript("idle-line")
        group.seal([(a.conn, [b"lost"], 4), (idle.conn, [b"kept"], 4)])
        # sealed before the loop heard of the refusal: computed on the refused state
        group.add(a, ("s1", "handle", 3.0, "also-lost", None), lambda: told.append("a2"))
        group.seal([(a.conn, [b"lost-too"], 8)])
        group.drain()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert told == ["a", "a2"] and [n for _, n in a.failed] == [1, 1]
    assert isinstance(a.failed[0][0], StoreUnavailable)
    assert a.conn.written == [] and a.conn.forgotten == 12
    assert idle.conn.written == [b"kept"] and not idle.failed  # no entry of its own was lost
    assert store.load("s1")[1] == []
    assert (tmp_path / "a.jsonl").read_text() == ""  # the undone calls' audit lines are void
    assert (tmp_path / "idle.jsonl").read_text() == "idle-line\n"
    # the loop has heard: turns sealed from now on commit again
    group.add(a, ("s1", "handle", 4.0, "next", None))
    group.seal([(a.conn, [b"next"], 4)])
    group.drain()
    assert [e.raw for e in store.load("s1")[1]] == ["next"] and a.conn.written == [b"next"]
    group.close()


def test_a_mark_is_the_position_after_the_entries_sealed_before_it(store: SqliteStore) -> None:
    group = TurnJournal(store, lambda: None)
    host = Host()
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # everything below queues up in the writer thread
    try:
        for n in range(3):
            group.add(host, ("s1", "handle", float(n), f"e{n}", None))
        mark = group.seal([], mark="s1")
        group.add(host, ("s1", "handle", 9.0, "after", None))
        group.seal([])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert mark is not None and mark.result(timeout=30) == 3
    group.drain()
    assert store.last_seq("s1") == 4
    group.close()


def test_in_loop_a_turn_is_committed_and_written_before_seal_returns(store: SqliteStore) -> None:
    """--commit-in-loop: no thread; the frames go out as soon as the entries are in."""
    group = TurnJournal(store, lambda: None, in_loop=True)
    host = Host()
    group.add(host, ("s1", "handle", 1.0, "x", None))
    group.seal([(host.conn, [b"f"], 1)])
    assert host.conn.written == [b"f"] and store.last_seq("s1") == 1
    assert not group.writer._thread.is_alive()
    group.close()

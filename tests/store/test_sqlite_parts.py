"""SQLite snapshots in parts (issue 17): the same text as one `json.dumps`, switched in only when
complete, and a snapshot cut off half-way leaves the previous one and the journal as they were."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.store.chunks import parts
from bridge.store.sqlite import SqliteStore


def test_parts_join_to_exactly_json_dumps() -> None:
    value = {
        "intents": [
            {"id": i, "objective": "é" * i, "scope": {"r": [f"{i}.py"]}} for i in range(300)
        ],
        "mpac_bridge": {"used_ids": [("intent:a", "agent:a")] * 3, "counters": {}, "n": None},
        "ints": {1: 2},
        "empty": [],
    }
    text = "".join(parts(value, 64))
    assert text == json.dumps(value, separators=(",", ":"))
    assert len(list(parts(value, 64))) > 10


def test_a_snapshot_cut_off_half_way_changes_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.sqlite3")
    store.append("s", "handle", 1.0, "a")
    store.snapshot("s", 1, {"state": "first", "big": ["x" * 1000] * 600})
    store.append("s", "handle", 2.0, "b")

    def broken() -> Iterator[str]:
        yield '{"state":"second"'
        raise OSError("the snapshot process ended before its snapshot was complete")

    with pytest.raises(OSError):
        store.write_parts("s", 2, broken())
    snap, entries = store.load("s")
    assert snap is not None and snap["state"] == "first" and len(snap["big"]) == 600
    assert [e.raw for e in entries] == ["b"]
    store.close()
    reopened = SqliteStore(tmp_path / "j.sqlite3")  # and nothing of it is left behind
    count = reopened._db.execute("SELECT COUNT(DISTINCT gen) FROM snapshot_parts").fetchone()[0]
    assert count == 1 and reopened.load("s")[0] == snap
    reopened.close()


def test_an_older_snapshot_finishing_late_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.sqlite3")
    for n in range(3):
        store.append("s", "handle", float(n), str(n))
    store.snapshot("s", 3, {"at": 3})
    store.snapshot("s", 2, {"at": 2})  # a snapshot of entry 2 that was slower to write
    snap, entries = store.load("s")
    assert snap == {"at": 3} and not entries
    store.close()


def test_a_snapshot_written_whole_by_an_older_sidecar_still_loads(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "j.sqlite3")
    store._db.execute(
        "INSERT INTO snapshots (session_id, seq, state) VALUES ('s', 0, ?)", ('{"old":true}',)
    )
    assert store.load("s") == ({"old": True}, [])
    store.snapshot("s", 0, {"new": True})
    assert store.load("s") == ({"new": True}, [])
    store.close()


def test_a_background_snapshot_is_paced_and_one_in_the_loop_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.store import sqlite

    slept: list[float] = []
    monkeypatch.setattr(sqlite.time, "sleep", slept.append)
    store = SqliteStore(tmp_path / "j.sqlite3")
    texts = ['{"a":"' + "x" * 65530, "y" * 65536, '"}']
    store.write_parts("s", 0, iter(texts), paced=True)
    per_part = [len(t) / sqlite.SNAPSHOT_BYTES_PER_SEC for t in texts]
    assert slept[:3] == [max(sqlite.BACKGROUND_PAUSE_SEC, p) for p in per_part]
    slept.clear()
    store.write_parts("s", 0, iter(texts))  # a clean stop's: only the short pause
    assert slept[:3] == [sqlite.BACKGROUND_PAUSE_SEC] * 3
    snap = store.load("s")[0]
    assert snap is not None and len(snap["a"]) == 65530 + 65536
    store.close()

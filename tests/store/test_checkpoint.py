"""WAL checkpoints off the event loop (bridge/store/checkpoint.py): under a steady stream of
appends the log must still start again from its beginning, or it grows without end."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bridge.store.sqlite import SqliteStore

RAW = "x" * 420  # about one announce


def _frames_in_log(path: Path) -> int:
    """Frames in the write-ahead log now (a PASSIVE checkpoint reports them and changes nothing
    a reader can see)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        return int(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
    finally:
        db.close()


def test_the_log_restarts_under_steady_appends(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    store = SqliteStore(path)
    checkpointer = store._checkpointer
    commits = 0
    deadline = time.monotonic() + 60
    # appends without a pause, as the sidecar commits once per busy event-loop turn
    while checkpointer.locked < 2:
        assert time.monotonic() < deadline, "no checkpoint finished under the store's lock"
        store.append_many([("s", "handle", 1.0, RAW, None)] * 5)
        commits += 1
    store.append_many([("s", "handle", 1.0, RAW, None)] * 5)
    commits += 1
    # every commit adds at least one frame: a log that never restarted holds one per commit
    assert _frames_in_log(path) < commits / 2
    assert store.last_seq("s") == 5 * commits  # nothing lost on the way
    assert len(store.load("s")[1]) == 5 * commits
    store.close()

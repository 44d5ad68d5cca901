"""WAL checkpoints off the event loop (issue 17).

With SQLite's automatic checkpoints, the commit that takes the write-ahead log past 1,000 pages
copies it into the database file and syncs it, inside that commit: a journal append on the event
loop then took 10-180 ms now and then (more after a snapshot had added its megabytes to the log).
The store turns automatic checkpoints off on its own connection and this thread checkpoints from a
second connection every `interval` seconds (and when nudged). A PASSIVE checkpoint never blocks
the writer; what it cannot copy yet is copied by the next one. Durability is unchanged: a commit
is in the log (synced as before) whether or not it was checkpointed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

INTERVAL = 0.5  # seconds between checkpoints


class Checkpointer:
    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self.path, self.interval = path, interval
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="mpac-wal-checkpoint", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=1)
        with contextlib.suppress(sqlite3.Error):
            db.execute("PRAGMA cache_size=-256")  # copying WAL frames needs no large cache
        try:
            while not self._stop:
                self._wake.wait(self.interval)
                self._wake.clear()
                with contextlib.suppress(sqlite3.Error):  # busy or gone: the next one retries
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            db.close()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(5)

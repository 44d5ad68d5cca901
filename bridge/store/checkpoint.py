"""WAL checkpoints off the event loop (issue 17).

With SQLite's automatic checkpoints, the commit that takes the write-ahead log past 1,000 pages
copies it into the database file and syncs it, inside that commit: a journal append on the event
loop then took 10-180 ms now and then (more after a snapshot had added its megabytes to the log).
The store turns automatic checkpoints off on its own connection and this thread checkpoints from a
second connection every `interval` seconds (and when nudged). A PASSIVE checkpoint never blocks
the writer; what it cannot copy yet is copied by the next one. Durability is unchanged: a commit
is in the log (synced as before) whether or not it was checkpointed.

SQLite starts writing the log from its beginning again only when a write transaction begins after
a checkpoint has copied every frame in it. Under a steady stream of appends a PASSIVE checkpoint
never gets there (the loop commits new frames while it copies), so the log grew without end: 156
MB after 12 s of the closed-loop benchmark, every commit extending the file, and the file kept
that size afterwards. So a checkpoint runs PASSIVE passes while each finds many new frames; when
the log has grown without starting again since the previous round, one more pass holds the store's
lock (`lock`, the one every append takes) and copies the few frames left: 1-6 ms in a
microbenchmark of steady appends, during which an append waits, then the next append starts the
log afresh. Under light load the log starts again by itself (a checkpoint copies all of it between
two appends), so the lock is taken only under a steady stream of appends. Letting the log grow
longer before taking the lock made that pass slower, not rarer in effect: 6-17 ms with 32 MiB of
log, as the sync then waits for more of the file system's dirty pages.

Why bother: a log that grows takes new blocks from the file system with every commit, and on
ext4 a commit then waits now and then for the checkpointer's sync, which allocates blocks with
the log's pages locked and reads block bitmaps from the disk (`bench stall`: the journal's thread
in `ext4_da_get_block_prep` on the log for 90-550 ms while the checkpointer was in
`ext4_wait_block_bitmap`; no answer left meanwhile). A log written from its start again reuses
blocks it already has. The appends are the journal's writer thread's (bridge/server/
journalwriter.py), so the pass under the lock delays answers by its few milliseconds but never
holds the event loop; only `--commit-in-loop` puts it back in the loop.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

INTERVAL = 0.5  # seconds between checkpoints
UNLOCKED_PASSES = 4  # at most, before the one under the lock
FEW_FRAMES = 64  # new frames since the previous pass that are left to the pass under the lock


class Checkpointer:
    def __init__(
        self, path: Path, interval: float = INTERVAL, lock: threading.Lock | None = None
    ) -> None:
        self.path, self.interval = path, interval
        self._lock = lock  # the writer's: held, no frame can be added (see the module's docstring)
        self.locked = 0  # checkpoints finished under the lock
        self._frames = 0  # frames in the log at the last round's last pass
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
                    self._checkpoint(db)
        finally:
            db.close()

    def _checkpoint(self, db: sqlite3.Connection) -> None:
        """PASSIVE checkpoints without the lock while each one finds many new frames; then, if the
        log has not started again since the previous round by itself and has grown, one with the
        lock (when the store gave it), which copies the few frames left so that it can."""
        seen = first = -1
        for _ in range(UNLOCKED_PASSES):
            # (busy, frames in the log when it started, frames copied); -1s when not in WAL mode
            _busy, frames, _copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            first = frames if first < 0 else first
            if frames < 0 or frames - seen <= FEW_FRAMES:
                break
            seen = frames
        else:  # still many new frames each time (a snapshot being written): never under the lock
            return
        restarted_or_idle = first <= self._frames  # fewer frames than last time, or no new ones
        self._frames = frames
        if self._lock is not None and not restarted_or_idle:
            with self._lock:  # no append can add frames meanwhile
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.locked += 1

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(5)

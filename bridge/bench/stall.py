"""`bench stall`: the longest event-loop stall of the sidecar under load with a large state.

A fresh sidecar with its loop watch on (MPAC_LOOP_WATCH, see bridge/server/loopwatch.py); 10
clients join, then one more announces N intents with objectives of B bytes (default 10,000 and
8 KiB, about 80 MiB of objectives: the case where snapshots took 0.8-1.3 s), then the 10 clients
run the closed loop for D seconds with objectives of the same size, so the history fills with
large intents and snapshots are taken while everyone waits for answers. Reported: the loop watch's longest stall in
the loading phase and in the loop (with the CPU the sidecar used meanwhile: near the stall when
it was busy, much less when it was blocked or not scheduled), how many 10 ms ticks were more than
20 ms and 100 ms late, the longest gap in which no client got an answer (which a sidecar without
the watch, an older checkout, also shows) and how many snapshots were written in each phase
(snapshots are spaced by their cost, so a 60 s loop after an expensive one may hold none).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.bench import hiccup
from bridge.bench.ab import alternate
from bridge.bench.launch import THIS, Target, start
from bridge.bench.loop import announce_many, closed_loop, join_all, load, objective_text
from bridge.bench.wire import SIDECAR_ARGS


class SnapshotWatch:
    """When the sidecar wrote snapshots: polls the store's `snapshots` row (read-only) twice a second
    and notes the wall-clock time its sequence number moved. A store without that table (a future
    format) gives no times instead of an error."""

    def __init__(self, db: Path) -> None:
        self.db, self.broken = db, False
        self.times: list[float] = []
        self.task = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        last = None
        while True:
            try:
                with contextlib.closing(
                    sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=0.2)
                ) as con:
                    row = con.execute("SELECT MAX(seq) FROM snapshots").fetchone()
                seq = row[0] if row else None
                if seq is not None and seq != last:
                    if last is not None:
                        self.times.append(time.time())
                    last = seq
            except sqlite3.Error:
                self.broken = not self.db.exists()
            await asyncio.sleep(0.5)

    def between(self, since: float, until: float) -> int | None:
        return None if self.broken else sum(1 for t in self.times if since <= t <= until)

    def stop(self) -> None:
        self.task.cancel()


async def one(
    target: Target,
    active: int,
    objective_bytes: int,
    duration: float,
    clients: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = await start(Path(tmp), *SIDECAR_ARGS, target=target, watch=True)
        try:
            # The loop's clients join first, so that older sidecars can be measured too: before
            # issue 17 a client joining later was cut off as a slow consumer when the live state it
            # is sent at once exceeded 8 MiB (about 1,000 intents of 8 KiB).
            peers = await join_all(proc.url, [f"agent:s{n}" for n in range(clients)])
            (loader,) = await join_all(proc.url, ["agent:loader"])
            snaps = SnapshotWatch(Path(tmp) / "journal.sqlite3")
            load0 = load()
            wall0, t0 = time.time(), time.perf_counter()
            await announce_many(
                loader, active, "big", objective=objective_text(objective_bytes), progress=progress
            )
            setup_sec = time.perf_counter() - t0
            wall_loaded = time.time()
            rss_loaded = proc.rss_kb()
            if progress:
                progress(
                    f"stall: {active:,} intents loaded in {setup_sec:.1f} s; closed loop, {clients} clients, {duration:g} s"
                )
            loop_start = time.time()
            loop = await closed_loop(
                proc,
                clients,
                duration,
                warmup=0,
                objective_bytes=objective_bytes,
                progress=progress,
                peers=peers,
            )
            snaps.stop()
            await loader.close()
            setup_stalls = proc.stalls(
                wall0, wall_loaded
            )  # read now: the last window is written a second later
            return {
                "active": active,
                "objective_bytes": objective_bytes,
                "duration_sec": duration,
                "clients": clients,
                "setup_sec": setup_sec,
                "setup_stall": setup_stalls,
                "snapshots_loading": snaps.between(wall0, wall_loaded),
                "snapshots_loop": snaps.between(loop_start, time.time()),
                "rss_loaded_kb": rss_loaded,
                "rss_end_kb": loop["rss_end_kb"],
                "hwm_kb": proc.hwm_kb(),
                "loop_stall": loop["loop_stall"],
                "max_gap_ms": loop["max_gap_ms"],
                "msgs_per_sec": loop["msgs_per_sec"],
                "messages": loop["messages"],
                "errors": loop["errors"],
                "load": load0,
                "load_end": load(),
            }
        finally:
            await proc.stop()


async def run_async(
    active: int,
    objective_bytes: int,
    duration: float,
    clients: int,
    repeat: int,
    targets: list[Target],
    progress: Callable[[str], None] | None,
    floor: bool = False,
) -> dict[str, Any]:
    rows = await alternate(
        targets,
        repeat,
        lambda t: one(t, active, objective_bytes, duration, clients, progress),
        progress,
        f"stall: {active:,} intents of {objective_bytes:,} B",
    )
    out: dict[str, Any] = {"targets": [t.label for t in targets], "runs": rows}
    if floor:  # what any loop here sees with nothing of ours running (bridge/bench/hiccup.py)
        if progress:
            progress(f"stall: floor, a bare busy loop alone for {duration:g} s")
        out["floor"] = await hiccup.run(duration)
    return out


def run(
    active: int = 10_000,
    objective_bytes: int = 8192,
    duration: float = 60.0,
    clients: int = 10,
    repeat: int = 1,
    targets: list[Target] | None = None,
    progress: Callable[[str], None] | None = None,
    floor: bool = False,
) -> dict[str, Any]:
    return asyncio.run(
        run_async(
            active, objective_bytes, duration, clients, repeat, targets or [THIS], progress, floor
        )
    )

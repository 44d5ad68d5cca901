"""`bench memory`: sidecar memory per active intent.

For each N, a fresh sidecar and one client that announces N disjoint intents (a short objective,
one file each, a long TTL). The figure is the sidecar's VmRSS after minus before, divided by N,
read one second after the last announce was answered. Where snapshots cost memory: VmHWM (the
process's peak RSS) minus the final VmRSS, and, since the allocator keeps what a snapshot freed,
also the RSS curve (20 samples) and its steps above the steady per-intent trend.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bridge.bench.ab import alternate, medians
from bridge.bench.launch import THIS, Target, start
from bridge.bench.loop import announce_many, join_all, load
from bridge.bench.wire import SIDECAR_ARGS

KEYS = (
    "bytes_per_intent",
    "rss_after_kb",
    "hwm_above_rss_kb",
    "rss_steps_above_trend_kb",
    "announce_sec",
)


async def one(
    target: Target, count: int, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = await start(Path(tmp), *SIDECAR_ARGS, target=target)
        try:
            (client,) = await join_all(proc.url, ["agent:loader"])
            await asyncio.sleep(0.5)  # let the join's work settle before the baseline
            load0 = load()
            before, hwm_before = proc.rss_kb(), proc.hwm_kb()
            curve: list[tuple[int, int]] = [(0, before)]
            t0 = time.perf_counter()
            await announce_many(
                client,
                count,
                "m",
                progress=progress,
                every=(max(1, count // 20), lambda n: curve.append((n, proc.rss_kb()))),
            )
            elapsed = time.perf_counter() - t0
            at_ack = proc.rss_kb()
            await asyncio.sleep(1.0)
            after, hwm = proc.rss_kb(), proc.hwm_kb()
            await client.close()
            return {
                "intents": count,
                "rss_before_kb": before,
                "rss_at_last_ack_kb": at_ack,
                "rss_after_kb": after,
                "bytes_per_intent": (after - before) * 1024 / count,
                "hwm_before_kb": hwm_before,
                "hwm_kb": hwm,
                "hwm_above_rss_kb": hwm - after,
                "announce_sec": elapsed,
                "load": load0,
                "rss_curve_kb": curve,
                "rss_steps_above_trend_kb": steps_above_trend(curve),
            }
        finally:
            await proc.stop()


def steps_above_trend(curve: list[tuple[int, int]]) -> float:
    """RSS growth beyond the steady per-intent trend: the sum of the increments between samples that
    exceed the median increment by half or more. Snapshots (built every 5,000 journal entries)
    leave such steps: memory freed after a snapshot stays with the allocator, so VmHWM alone does
    not show it."""
    steps = [b[1] - a[1] for a, b in itertools.pairwise(curve)]
    if len(steps) < 3:
        return 0
    typical = statistics.median(steps)
    return sum(s - typical for s in steps if s > 1.5 * typical)


async def run_async(
    counts: tuple[int, ...],
    repeat: int,
    targets: list[Target],
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"targets": [t.label for t in targets], "rows": []}
    for n in counts:
        rows = await alternate(
            targets,
            repeat,
            partial(one, count=n, progress=progress),
            progress,
            f"memory: {n:,} active intents",
        )
        out["rows"].append({"intents": n, **medians(rows, KEYS, targets), "runs": rows})
    return out


def run(
    counts: tuple[int, ...] = (1000, 10000),
    repeat: int = 1,
    targets: list[Target] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    return asyncio.run(run_async(counts, repeat, targets or [THIS], progress))

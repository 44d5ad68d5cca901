"""`bench relay`: announce → relay latency at N active intents with idle clients connected, for our
sidecar and, in the same run, the public reference coordinator (`mpac==0.2.13`).

For each N a fresh coordinator, 20 idle clients, a loader that announces N disjoint intents, a
sender and an observer (23 connections). Each sample: the sender announces an intent on a fresh
file, the time until the observer receives the relay is recorded, then the sender withdraws it
(and waits for that), so the active count stays at N. The same lean client drives both
coordinators; the reference relays the sender's own frame, ours its accepted copy. With
`--floor` the floor server (bridge/bench/floorserver.py) is measured the same way: it relays every
frame and keeps nothing, so "active" there only means the loader's messages went through it, and
its latency is what the transport alone (websockets reading, one write per connection, two
processes on loopback) takes.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bridge.bench.ab import alternate
from bridge.bench.client import frame
from bridge.bench.launch import REFERENCE, THIS, Target, reference_available, start
from bridge.bench.loop import announce_many, close_all, join_all, load
from bridge.bench.machine import percentile
from bridge.bench.wire import SIDECAR_ARGS


async def one(
    target: Target,
    active: int,
    samples: int,
    idle: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = await start(Path(tmp), *SIDECAR_ARGS, target=target)
        try:
            idlers = await join_all(proc.url, [f"agent:idle{n}" for n in range(idle)])
            loader, sender, observer = await join_all(
                proc.url, ["agent:loader", "agent:sender", "agent:observer"]
            )
            t0 = time.perf_counter()
            await announce_many(loader, active, "a", progress=progress)
            setup = time.perf_counter() - t0
            load0 = load()
            lat = []
            warm = max(
                3, samples // 10
            )  # first uses (schema builds, caches) are not what we measure
            for n in range(-warm, samples):
                iid = f"s{n}"
                mid, text = frame(
                    "INTENT_ANNOUNCE",
                    sender.pid,
                    {
                        "intent_id": iid,
                        "objective": "relay probe",
                        "scope": {"kind": "file_set", "resources": [f"probe/{n}.py"]},
                        "ttl_sec": 3600,
                    },
                )
                seen = observer.expect(mid)
                echo = sender.expect(mid)
                t0 = time.perf_counter()
                sender.send_text(text)
                elapsed = (await asyncio.wait_for(seen, 120) - t0) * 1000
                if n >= 0:
                    lat.append(elapsed)
                await asyncio.wait_for(echo, 120)
                await sender.request("INTENT_WITHDRAW", {"intent_id": iid}, timeout=120)
            errors = sender.errors + loader.errors
            await close_all([*idlers, loader, sender, observer])
            return {
                "target": target.label,
                "active": active,
                "idle_clients": idle,
                "connections": idle + 3,
                "samples": samples,
                "p50_ms": percentile(lat, 50),
                "p99_ms": percentile(lat, 99),
                "max_ms": max(lat),
                "setup_sec": setup,
                "errors": errors,
                "load": load0,
                "load_end": load(),
            }
        finally:
            await proc.stop()


async def run_async(
    sizes: tuple[int, ...],
    ref_sizes: tuple[int, ...],
    samples: int,
    idle: int,
    targets: list[Target],
    progress: Callable[[str], None] | None,
    repeat: int = 1,
) -> dict[str, Any]:
    why_not = reference_available()
    out: dict[str, Any] = {
        "targets": [t.label for t in targets],
        "samples": samples,
        "idle_clients": idle,
        "repeat": repeat,
        "rows": [],
        "reference": why_not or REFERENCE.label,
    }
    for n in sorted(set(sizes) | set(ref_sizes)):
        plan = [t for t in targets if n in sizes] + (
            [REFERENCE] if n in ref_sizes and why_not is None else []
        )
        runs = await alternate(
            plan,
            repeat,
            partial(one, active=n, samples=samples, idle=idle, progress=progress),
            progress,
            f"relay: {n:,} active intents, {idle} idle clients, {samples} samples",
        )
        out["rows"] += [combine([r for r in runs if r["target"] == t.label]) for t in plan]
    out["ratios"] = ratios(out["rows"], targets)
    return out


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row for a target's runs at one size: the median p50 and p99, the largest max, every run's figures."""
    row = dict(runs[0])
    for key in ("p50_ms", "p99_ms", "setup_sec"):
        row[key] = statistics.median(r[key] for r in runs)
        row[f"{key}_runs"] = [round(r[key], 3) for r in runs]
    row["max_ms"] = max(r["max_ms"] for r in runs)
    row["errors"] = sum(r["errors"] for r in runs)
    row["loads"] = [r["load"] for r in runs]
    row["runs"] = len(runs)
    return row


def ratios(rows: list[dict[str, Any]], targets: list[Target]) -> list[dict[str, Any]]:
    """How many times the reference's latency each target's is, per active count both measured."""
    out = []
    for ref in (r for r in rows if r["target"] == REFERENCE.label):
        for t in targets:
            ours = next(
                (r for r in rows if r["target"] == t.label and r["active"] == ref["active"]), None
            )
            if ours is not None:
                out.append(
                    {
                        "active": ref["active"],
                        "target": t.label,
                        "p50_times_faster": ref["p50_ms"] / ours["p50_ms"],
                        "p99_times_faster": ref["p99_ms"] / ours["p99_ms"],
                    }
                )
    return out


def run(
    sizes: tuple[int, ...] = (10, 1000, 10000),
    ref_sizes: tuple[int, ...] = (10, 1000),
    samples: int = 300,
    idle: int = 20,
    targets: list[Target] | None = None,
    progress: Callable[[str], None] | None = None,
    repeat: int = 1,
) -> dict[str, Any]:
    """With `repeat` > 1 the coordinators measured at one size alternate (ours, the reference, the
    reference, ours, ...) and each row is the median of its runs."""
    return asyncio.run(
        run_async(sizes, ref_sizes, samples, idle, targets or [THIS], progress, repeat)
    )

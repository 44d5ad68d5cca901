"""Alternating runs of several targets (old and new code) on the same machine, and their medians.

A shared machine's speed drifts by more than the differences we want to see, so `--ab DIR`
runs the targets in the order A B, B A, A B, ... (each one as often, and each equally often first)
and reports each target's median next to its single runs and the load average of each run.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.bench.launch import Target


async def alternate(
    targets: list[Target],
    repeat: int,
    run: Callable[[Target], Awaitable[dict[str, Any]]],
    progress: Callable[[str], None] | None = None,
    what: str = "",
) -> list[dict[str, Any]]:
    """`repeat` runs of each target, alternating; each row gets the target's label."""
    rows = []
    for r in range(repeat):
        order = targets if r % 2 == 0 else list(reversed(targets))
        for t in order:
            if progress:
                progress(f"{what} [{t.label}] run {r + 1}/{repeat}")
            row = await run(t)
            row["target"] = t.label
            rows.append(row)
    return rows


def medians(
    rows: list[dict[str, Any]], keys: tuple[str, ...], targets: list[Target]
) -> dict[str, Any]:
    """Per target: the median of each key over its runs, the runs themselves and their loads. With two
    targets also `ratio` = second / first for each key (this checkout against the other: < 1 is less)."""
    out: dict[str, Any] = {}
    for t in targets:
        mine = [r for r in rows if r["target"] == t.label]
        if not mine:
            continue
        summary: dict[str, Any] = {"runs": len(mine), "loads": [r.get("load") for r in mine]}
        for k in keys:
            values = [r[k] for r in mine if r.get(k) is not None]
            summary[k] = statistics.median(values) if values else None
            summary[f"{k}_runs"] = [round(v, 3) for v in values]
        out[t.label] = summary
    if len(targets) == 2 and all(t.label in out for t in targets):
        a, b = out[targets[0].label], out[targets[1].label]
        out["ratio"] = {
            k: (b[k] / a[k] if a.get(k) and b.get(k) is not None else None) for k in keys
        }
    return out

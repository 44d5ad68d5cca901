"""What every benchmark figure is measured on."""

from __future__ import annotations

import os
import platform
import statistics
from typing import Any


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def median_of(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run whose `key` is the median of all runs (all samples kept)."""
    ordered = sorted(runs, key=lambda r: r[key])
    best = dict(ordered[len(ordered) // 2])
    best["runs"] = [round(r[key], 3) for r in runs]
    best["median"] = statistics.median(r[key] for r in runs)
    return best

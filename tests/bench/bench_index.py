"""Benchmark: ScopeIndex.overlapping with 10, 1,000 and 10,000 stored disjoint scopes.

Run: `.venv/bin/python tests/bench/bench_index.py`. The stored scopes mix file sets, globs,
entity sets and task sets, each under its own package; queries of each kind probe one package.
With the index the cost per query should stay about flat as the store grows (no timing is
asserted anywhere: speed is for this script, not for tests).
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bridge.core.index import ScopeIndex
from bridge.protocol.scope import NormScope, normalize_scope

SIZES = (10, 1_000, 10_000)


def stored_scope(n: int) -> NormScope:
    kind = n % 4
    if kind == 0:
        return normalize_scope({"kind": "file_set", "resources": [f"pkg{n}/a.py", f"pkg{n}/b.py"]})
    if kind == 1:
        return normalize_scope({"kind": "resource_path", "pattern": f"pkg{n}/**/*.py"})
    if kind == 2:
        return normalize_scope({"kind": "entity_set", "entities": [f"db.table{n}"]})
    return normalize_scope({"kind": "task_set", "task_ids": [f"T-{n}"]})


def queries(size: int) -> dict[str, list[NormScope]]:
    """Per query kind, probes that hit one stored scope (or none) whatever the size."""
    picks = [size // 3, size // 2, size - 1]
    return {
        "file_set": [
            normalize_scope({"kind": "file_set", "resources": [f"pkg{k}/a.py"]}) for k in picks
        ],
        "glob": [
            normalize_scope({"kind": "resource_path", "pattern": f"pkg{k}/*.py"}) for k in picks
        ],
        "entity_set": [
            normalize_scope({"kind": "entity_set", "entities": [f"db.table{k}"]}) for k in picks
        ],
        "miss": [
            normalize_scope({"kind": "file_set", "resources": [f"other/{k}.py"]}) for k in picks
        ],
    }


def measure(index: ScopeIndex, probes: list[NormScope], rounds: int = 2000) -> float:
    """Best of 5 runs, microseconds per query."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for r in range(rounds):
            index.overlapping(probes[r % len(probes)])
        best = min(best, (time.perf_counter() - start) / rounds)
    return best * 1e6


def main() -> int:
    gc.disable()
    print(
        f"{'stored':>8}  "
        + "  ".join(f"{k:>12}" for k in ("file_set", "glob", "entity_set", "miss"))
        + "   (us/query)"
    )
    for size in SIZES:
        index = ScopeIndex()
        for n in range(size):
            index.add(f"i{n}", stored_scope(n))
        row = [measure(index, probes) for probes in queries(size).values()]
        print(f"{size:>8}  " + "  ".join(f"{v:>12.2f}" for v in row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

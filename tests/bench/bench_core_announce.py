"""Benchmark: in-process INTENT_ANNOUNCE handling at 10, 1,000 and 10,000 active intents.

Run: `.venv/bin/python tests/bench/bench_core_announce.py` (also used by `mpac-bridge bench core`).
Each announce is a raw envelope dict going through parsing, the race lock, conflict detection and
registration; the cost is measured per message, with the active count held constant.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from bridge.core import Coordinator, CoordinatorConfig
from bridge.protocol.envelope import build_envelope

T0 = 1_800_000_000.0
AGENTS = [f"agent:{n}" for n in range(8)]


def _env(mtype: str, pid: str, payload: dict[str, Any], n: int) -> dict[str, Any]:
    return build_envelope(
        mtype,
        payload,
        session_id="bench",
        sender={"principal_id": pid, "principal_type": "agent", "sender_instance_id": f"{pid}#1"},
        now=T0,
        message_id=f"{pid}-{n}",
        lamport=n,
    )


def _announce(pid: str, iid: str, path: str, n: int) -> dict[str, Any]:
    scope = {"kind": "file_set", "resources": [path]}
    return _env(
        "INTENT_ANNOUNCE",
        pid,
        {"intent_id": iid, "objective": "bench", "scope": scope, "ttl_sec": 3600},
        n,
    )


def session(active: int, withdrawn: int = 0) -> Coordinator:
    coord = Coordinator(CoordinatorConfig(unavailability_timeout_sec=10**9), "bench", T0)
    for pid in AGENTS:
        coord.handle(
            _env(
                "HELLO", pid, {"display_name": pid, "roles": ["contributor"], "capabilities": []}, 1
            ),
            T0,
        )
    for n in range(withdrawn):
        pid = AGENTS[n % len(AGENTS)]
        coord.handle(_announce(pid, f"w{n}", f"old/{n}.py", 10 + n), T0)
        coord.handle(_env("INTENT_WITHDRAW", pid, {"intent_id": f"w{n}"}, 10 + n), T0)
    for n in range(active):
        pid = AGENTS[n % len(AGENTS)]
        coord.handle(_announce(pid, f"a{n}", f"pkg{n % 97}/mod{n}.py", 10 + n), T0)
    return coord


def measure(active: int, count: int = 2000, withdrawn: int = 0) -> dict[str, Any]:
    coord = session(active, withdrawn)
    batch = [
        _announce(AGENTS[n % len(AGENTS)], f"new{n}", f"fresh/{n}.py", 10**6 + n)
        for n in range(count)
    ]
    withdraws = [
        _env("INTENT_WITHDRAW", AGENTS[n % len(AGENTS)], {"intent_id": f"new{n}"}, 2 * 10**6 + n)
        for n in range(count)
    ]
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for raw in batch:
            coord.handle(raw, T0)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    for raw in withdraws:
        coord.handle(raw, T0)
    assert len(coord.state.intents) == active
    per = elapsed / count
    return {
        "active": active,
        "withdrawn": withdrawn,
        "count": count,
        "us_per_announce": per * 1e6,
        "announces_per_sec": 1 / per,
    }


def run(
    sizes: tuple[int, ...] = (10, 1000, 10000), repeat: int = 3, count: int = 2000
) -> list[dict[str, Any]]:
    """Median of `repeat` runs for each size, then one run after 20,000 withdrawn intents."""
    rows = []
    cases = [(n, 0) for n in sizes] + [(sizes[0], 20_000)]
    for active, withdrawn in cases:
        samples = [measure(active, count, withdrawn) for _ in range(repeat)]
        best = sorted(samples, key=lambda r: r["us_per_announce"])[len(samples) // 2]
        best["samples_us"] = [round(s["us_per_announce"], 2) for s in samples]
        rows.append(best)
    return rows


def main() -> None:
    rows = run()
    print(f"{'active':>8} {'withdrawn':>10} {'us/announce':>12} {'announces/s':>12}")
    for r in rows:
        print(
            f"{r['active']:>8} {r['withdrawn']:>10} {r['us_per_announce']:>12.1f} {r['announces_per_sec']:>12.0f}"
        )
    base = rows[0]["us_per_announce"]
    print(f"ratio 10k/10: {rows[2]['us_per_announce'] / base:.2f}  (target < 2)")
    print(f"median of samples at 1k: {statistics.median(rows[1]['samples_us']):.1f} us")


if __name__ == "__main__":
    main()

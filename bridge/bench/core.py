"""`bench core`: the in-process coordinator at N active intents, per message kind."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from bridge.bench.machine import median_of
from bridge.core import Coordinator, CoordinatorConfig
from bridge.protocol.stamps import build_envelope

T0 = 1_800_000_000.0
AGENTS = [f"agent:{n}" for n in range(8)]


def env(mtype: str, pid: str, payload: dict[str, Any], n: int) -> dict[str, Any]:
    out = build_envelope(
        mtype,
        {},
        session_id="bench",
        now=T0,
        message_id=f"{pid}-{mtype}-{n}",
        lamport=n,
        sender={"principal_id": pid, "principal_type": "agent", "sender_instance_id": f"{pid}#1"},
    )
    out["payload"] = payload
    return out


def announce(pid: str, iid: str, scope: dict[str, Any], n: int) -> dict[str, Any]:
    return env(
        "INTENT_ANNOUNCE",
        pid,
        {"intent_id": iid, "objective": "bench", "scope": scope, "ttl_sec": 36000},
        n,
    )


def files(*paths: str) -> dict[str, Any]:
    return {"kind": "file_set", "resources": list(paths)}


def session(active: int, withdrawn: int = 0) -> Coordinator:
    coord = Coordinator(
        CoordinatorConfig(unavailability_timeout_sec=10**9, resolution_timeout_sec=0), "bench", T0
    )
    for pid in AGENTS:
        coord.handle(
            env(
                "HELLO", pid, {"display_name": pid, "roles": ["contributor"], "capabilities": []}, 1
            ),
            T0,
        )
    for n in range(withdrawn):
        pid = AGENTS[n % len(AGENTS)]
        coord.handle(announce(pid, f"w{n}", files(f"old/{n}.py"), 10 + n), T0)
        coord.handle(env("INTENT_WITHDRAW", pid, {"intent_id": f"w{n}"}, 10 + n), T0)
    for n in range(active):
        pid = AGENTS[n % len(AGENTS)]
        coord.handle(announce(pid, f"a{n}", files(f"pkg{n % 97}/mod{n}.py"), 10 + n), T0)
    return coord


def _timed(coord: Coordinator, frames: list[dict[str, Any]]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for raw in frames:
            coord.handle(raw, T0)
        return time.perf_counter() - start
    finally:
        gc.enable()


def case(kind: str, active: int, count: int, withdrawn: int = 0) -> dict[str, Any]:
    coord = session(active, withdrawn)
    pid = AGENTS[0]
    other = AGENTS[1]
    base = 10**7
    if kind == "announce_disjoint":
        frames = [
            announce(AGENTS[n % 8], f"n{n}", files(f"fresh/{n}.py"), base + n) for n in range(count)
        ]
        cleanup = [
            env("INTENT_WITHDRAW", AGENTS[n % 8], {"intent_id": f"n{n}"}, 2 * base + n)
            for n in range(count)
        ]
    elif (
        kind == "announce_overlapping"
    ):  # a file under another principal's glob: accepted, with a CONFLICT_REPORT
        coord.handle(
            announce(other, "held", {"kind": "resource_path", "pattern": "hot/**"}, base - 1), T0
        )
        frames = [announce(pid, f"n{n}", files(f"hot/{n}.py"), base + n) for n in range(count)]
        cleanup = [
            env("INTENT_WITHDRAW", pid, {"intent_id": f"n{n}"}, 2 * base + n) for n in range(count)
        ]
    elif kind == "announce_race_locked":  # refused with STALE_INTENT
        coord.handle(announce(other, "held", files("hot/locked.py"), base - 1), T0)
        frames = [announce(pid, f"n{n}", files("./hot/locked.py"), base + n) for n in range(count)]
        cleanup = []
    elif kind == "commit":
        coord.handle(announce(pid, "mine", files("c.py"), base - 1), T0)
        frames = [
            env(
                "OP_COMMIT",
                pid,
                {
                    "op_id": f"o{n}",
                    "intent_id": "mine",
                    "target": "c.py",
                    "op_kind": "replace",
                    "state_ref_before": f"sha256:{n}" if n else None,
                    "state_ref_after": f"sha256:{n + 1}",
                },
                base + n,
            )
            for n in range(count)
        ]
        cleanup = []
    elif kind == "heartbeat":
        frames = [
            env("HEARTBEAT", AGENTS[n % 8], {"status": "working"}, base + n) for n in range(count)
        ]
        cleanup = []
    elif kind == "withdraw":
        for n in range(count):
            coord.handle(announce(AGENTS[n % 8], f"n{n}", files(f"fresh/{n}.py"), base + n), T0)
        frames = [
            env("INTENT_WITHDRAW", AGENTS[n % 8], {"intent_id": f"n{n}"}, 2 * base + n)
            for n in range(count)
        ]
        cleanup = []
    else:
        raise ValueError(kind)
    elapsed = _timed(coord, frames)
    for raw in cleanup:
        coord.handle(raw, T0)
    per = elapsed / count
    return {
        "kind": kind,
        "active": active,
        "withdrawn": withdrawn,
        "count": count,
        "us_per_msg": per * 1e6,
        "msgs_per_sec": 1 / per,
    }


KINDS = (
    "announce_disjoint",
    "announce_overlapping",
    "announce_race_locked",
    "commit",
    "heartbeat",
    "withdraw",
)


def run(
    sizes: tuple[int, ...] = (10, 1000, 10000),
    repeat: int = 3,
    count: int = 2000,
    kinds: tuple[str, ...] = KINDS,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    rows = []
    plan = [(k, n, 0) for k in kinds for n in sizes] + [("announce_disjoint", sizes[0], 20_000)]
    for i, (kind, active, withdrawn) in enumerate(plan, 1):
        if progress:
            progress(
                f"core {i}/{len(plan)}: {kind} at {active} active"
                + (f" after {withdrawn} withdrawn" if withdrawn else "")
            )
        rows.append(
            median_of([case(kind, active, count, withdrawn) for _ in range(repeat)], "us_per_msg")
        )
    return rows

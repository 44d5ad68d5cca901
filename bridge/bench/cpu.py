"""`bench cpu` and `bench rate`: the closed loop against a fresh sidecar per run.

`cpu`: sidecar CPU per message at fan-out 2, 10 and 50 (K clients, every message broadcast to all
K), from /proc/<pid>/stat of the sidecar divided by the messages it handled, after a warm-up.
`rate`: messages/s over one long run (first and last 5 s), and RSS per message after the warm-up
(which should be about zero once the history caps are full: the sidecar runs with
--history-limit 1000 by default so they are full within the warm-up).
Both alternate between targets with `--ab DIR` (see bridge/bench/ab.py).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bridge.bench.ab import alternate, medians
from bridge.bench.launch import THIS, Target, start
from bridge.bench.loop import closed_loop, load
from bridge.bench.wire import SIDECAR_ARGS

CPU_KEYS = (
    "sidecar_cpu_us_per_msg",
    "sidecar_sys_us_per_msg",
    "one_core_msgs_per_sec",
    "msgs_per_sec_after_warmup",
    "bench_cpu_us_per_msg",
)
RATE_KEYS = (
    "msgs_per_sec",
    "first_5s_per_sec",
    "last_5s_per_sec",
    "sidecar_cpu_us_per_msg",
    "one_core_msgs_per_sec",
    "rss_bytes_per_msg_after_warmup",
    "max_gap_ms",
)


async def one_loop(
    target: Target,
    clients: int,
    duration: float,
    warmup: float,
    *,
    watch: bool = False,
    progress: Callable[[str], None] | None = None,
    extra_args: tuple[str, ...] = (),
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = await start(Path(tmp), *SIDECAR_ARGS, *extra_args, target=target, watch=watch)
        try:
            load0 = load()
            row = await closed_loop(proc, clients, duration, warmup=warmup, progress=progress)
            row["load"] = load0
            row["load_end"] = load()
            return row
        finally:
            await proc.stop()


async def cpu_async(
    fanouts: tuple[int, ...],
    duration: float,
    warmup: float,
    repeat: int,
    targets: list[Target],
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "duration_sec": duration,
        "warmup_sec": warmup,
        "repeat": repeat,
        "targets": [t.label for t in targets],
        "fanout": [],
    }
    for k in fanouts:
        rows = await alternate(
            targets,
            repeat,
            partial(one_loop, clients=k, duration=duration, warmup=warmup),
            progress,
            f"cpu: fan-out {k}, {duration:g} s",
        )
        out["fanout"].append(
            {
                "clients": k,
                **medians(rows, CPU_KEYS, targets),
                "errors": sum(r["errors"] for r in rows),
            }
        )
    return out


def cpu(
    fanouts: tuple[int, ...] = (2, 10, 50),
    duration: float = 10.0,
    warmup: float = 2.0,
    repeat: int = 3,
    targets: list[Target] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    return asyncio.run(cpu_async(fanouts, duration, warmup, repeat, targets or [THIS], progress))


async def rate_async(
    clients: int,
    duration: float,
    warmup: float,
    repeat: int,
    targets: list[Target],
    progress: Callable[[str], None] | None,
    history_limit: int | None,
) -> dict[str, Any]:
    extra = ("--history-limit", str(history_limit)) if history_limit else ()
    rows = await alternate(
        targets,
        repeat,
        lambda t: one_loop(
            t, clients, duration, warmup, watch=True, progress=progress, extra_args=extra
        ),
        progress,
        f"rate: {clients} clients, {duration:g} s",
    )
    return {
        "clients": clients,
        "duration_sec": duration,
        "warmup_sec": warmup,
        "repeat": repeat,
        "history_limit": history_limit,
        "targets": [t.label for t in targets],
        **medians(rows, RATE_KEYS, targets),
        "runs": rows,
    }


def rate(
    clients: int = 10,
    duration: float = 60.0,
    warmup: float = 20.0,
    repeat: int = 1,
    targets: list[Target] | None = None,
    progress: Callable[[str], None] | None = None,
    history_limit: int | None = 1000,
) -> dict[str, Any]:
    """`history_limit` (the sidecar's --history-limit; None for its default of 10,000) is small by
    default so that the history caps are full well within the warm-up: RSS per message after it then
    says whether anything is kept beyond the caps, which a default sidecar reaches only after about
    40,000 messages (10,000 ended intents, 20,000 used ids)."""
    return asyncio.run(
        rate_async(clients, duration, warmup, repeat, targets or [THIS], progress, history_limit)
    )

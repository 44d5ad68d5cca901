"""`bench wire`: a real sidecar process with K raw WebSocket clients on loopback."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.bench.client import SID, frame, join
from bridge.bench.launch import THIS, Proc, Target, start
from bridge.bench.loop import Probe, close_all, closed_loop, join_all, load
from bridge.bench.machine import percentile

# Options every benchmark sidecar runs with: no rate limit, room for many clients and deep send
# queues, nobody suspended for silence, intents that outlive the run.
SIDECAR_ARGS = (
    "--session-id",
    SID,
    "--rate",
    "1000000",
    "--max-connections",
    "1000",
    "--send-queue",
    "100000",
    "--unavailability-timeout",
    "1000000",
    "--intent-ttl",
    "36000",
)


async def latency(url: str, clients: int, samples: int) -> dict[str, Any]:
    tag = f"c{clients}"
    peers = await join_all(url, [f"agent:{tag}-{n}" for n in range(clients)])
    holder, sender = peers[0], peers[1]
    await holder.request(
        "INTENT_ANNOUNCE",
        {
            "intent_id": f"{tag}-glob",
            "objective": "hold",
            "scope": {"kind": "resource_path", "pattern": f"{tag}/**"},
            "ttl_sec": 3600,
        },
    )
    lat = []
    load0 = load()
    for n in range(samples):
        mid, text = frame(
            "INTENT_ANNOUNCE",
            sender.pid,
            {
                "intent_id": f"{tag}-l{n}",
                "objective": "o",
                "scope": {"kind": "file_set", "resources": [f"{tag}/{n}.py"]},
            },
        )
        seen = holder.expect(mid)
        t0 = time.perf_counter()
        sender.send_text(text)
        lat.append((await asyncio.wait_for(seen, 30) - t0) * 1000)
        await sender.request("INTENT_WITHDRAW", {"intent_id": f"{tag}-l{n}"})
    await close_all(peers)
    return {
        "clients": clients,
        "samples": samples,
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "max_ms": max(lat),
        "load": load0,
    }


async def throughput(
    url: str,
    clients: int,
    duration: float,
    proc_rss: Callable[[], int],
    proc_cpu: Callable[[], float] | None = None,
    tag: str = "t",
) -> dict[str, Any]:
    """The closed loop against a coordinator this module did not start (a fleet node): its RSS and
    CPU come from the callables given."""
    return await closed_loop(Probe(url, proc_rss, proc_cpu), clients, duration, warmup=0, tag=tag)


def _legacy_memory(run: dict[str, Any]) -> dict[str, Any]:
    """The memory figures under the names `bench wire` has always printed."""
    return {
        **run,
        "rss_before_kb": run["rss_start_kb"],
        "rss_after_kb": run["rss_end_kb"],
        "rss_bytes_per_msg": (run["rss_end_kb"] - run["rss_start_kb"])
        * 1024
        / max(1, run["messages"]),
    }


async def run_async(
    clients: tuple[int, ...],
    samples: int,
    duration: float,
    rss_msgs: int,
    progress: Callable[[str], None] | None,
    target: Target = THIS,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        proc: Proc = await start(Path(tmp), *SIDECAR_ARGS, target=target, watch=True)
        try:
            out: dict[str, Any] = {"startup_ms": (proc.ready - proc.started) * 1000, "latency": []}
            for k in clients:
                if progress:
                    progress(f"wire: latency with {k} clients")
                out["latency"].append(await latency(proc.url, max(2, k), samples))
            if progress:
                progress(f"wire: closed-loop throughput, 10 clients, {duration:.0f} s")
            out["throughput"] = await closed_loop(proc, 10, duration, warmup=min(1.0, duration / 4))
            out["throughput"]["load"] = load()
            if progress:
                progress(f"wire: memory over {rss_msgs} messages")
            out["memory"] = _legacy_memory(
                await closed_loop(proc, 10, 3600, target_msgs=rss_msgs, tag="m", warmup=0)
            )
            out["rss_final_kb"] = proc.rss_kb()
            out["loop_stall"] = proc.stalls()  # the whole run: latency, throughput and RSS phases
            return out
        finally:
            await proc.stop()


def run(
    clients: tuple[int, ...] = (2, 10, 50),
    samples: int = 300,
    duration: float = 30.0,
    rss_msgs: int = 100_000,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    return asyncio.run(run_async(clients, samples, duration, rss_msgs, progress))


__all__ = ["SIDECAR_ARGS", "join", "latency", "run", "throughput"]

"""The closed loop: K clients, each announcing then withdrawing an intent on a fresh file with fresh
ids, as fast as the coordinator answers; every message is broadcast to all K.

One run samples the coordinator process once a second (RSS and CPU from /proc) and records when
each message completed, so a run gives the rate (overall, first and last 5 s), the coordinator's
CPU per message and RSS per message after a warm-up, the longest gap in which no client got an
answer (what every user would have felt as a stall) and, when the coordinator has one, its loop
watch's longest stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

from bridge.bench.client import LeanClient, join
from bridge.bench.launch import Proc

SILENT_SAMPLES = 121  # samples (about seconds) without an answer before the loop gives up


class Probe:
    """What the closed loop reads of a coordinator that `launch.start` did not start (a fleet node):
    its URL, and RSS and CPU from callables; no loop watch."""

    def __init__(
        self, url: str, rss_kb: Callable[[], int], cpu_sec: Callable[[], float] | None = None
    ) -> None:
        self.url, self._rss, self._cpu = url, rss_kb, cpu_sec

    def rss_kb(self) -> int:
        return self._rss()

    def cpu_times(self) -> tuple[float, float]:
        return (self._cpu() if self._cpu else 0.0), 0.0

    def stalls(self, since: float = 0.0, until: float = float("inf")) -> None:
        return None

    def stderr_text(self) -> str:
        return ""


def objective_text(size: int) -> str:
    """An objective of about `size` characters (prose-like, so nothing compresses it away)."""
    if size <= 16:
        return "churn"
    words = "refactor the session handler so the journal append and the audit record share one pass over "
    return (words * (size // len(words) + 1))[:size]


def load() -> float:
    """The 1-minute load average: the shared machine's business, printed next to every figure."""
    return round(os.getloadavg()[0], 2)


async def join_all(url: str, pids: list[str], session_id: str = "bench") -> list[LeanClient]:
    return list(await asyncio.gather(*(join(url, pid, session_id) for pid in pids)))


async def close_all(clients: list[LeanClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def closed_loop(
    proc: Proc | Probe,
    clients: int,
    duration: float,
    *,
    tag: str = "t",
    warmup: float = 1.0,
    target_msgs: int | None = None,
    objective_bytes: int = 0,
    ttl_sec: float = 3600,
    progress: Callable[[str], None] | None = None,
    on_warm: Callable[[], None] | None = None,
    peers: list[LeanClient] | None = None,
) -> dict[str, Any]:
    """Run the loop for `duration` seconds (or until `target_msgs` messages) and measure. Figures
    named `*_after_warmup` leave out the first `warmup` seconds (first-use costs: schema builds,
    caches, the first snapshot); `on_warm` is called when that point is reached. `peers` are
    clients that joined earlier (else `clients` join now); they are closed at the end."""
    peers = peers or await join_all(proc.url, [f"agent:{tag}{n}" for n in range(clients)])
    clients = len(peers)
    objective = objective_text(objective_bytes)
    stamps: list[float] = []
    samples: list[dict[str, Any]] = []
    done = asyncio.Event()
    start_t = time.perf_counter()
    stop_t = start_t + duration
    wall0 = time.time()
    bench_cpu0 = time.process_time()

    async def one(peer: LeanClient) -> None:
        n = 0
        while time.perf_counter() < stop_t and (target_msgs is None or len(stamps) < target_msgs):
            iid = f"{peer.pid}-{n}"
            n += 1
            await peer.request(
                "INTENT_ANNOUNCE",
                {
                    "intent_id": iid,
                    "objective": objective,
                    "scope": {"kind": "file_set", "resources": [f"{iid}.py"]},
                    "ttl_sec": ttl_sec,
                },
                timeout=None,
            )
            stamps.append(time.perf_counter())
            await peer.request("INTENT_WITHDRAW", {"intent_id": iid}, timeout=None)
            stamps.append(time.perf_counter())

    def sample() -> None:
        t = time.perf_counter() - start_t
        if on_warm is not None and t >= warmup and all(s["t"] < warmup for s in samples[-1:]):
            on_warm()
        user, system = proc.cpu_times()
        samples.append(
            {
                "t": round(t, 3),
                "messages": len(stamps),
                "rss_kb": proc.rss_kb(),
                "cpu_sec": user + system,
                "sys_sec": system,
                "bench_cpu_sec": time.process_time() - bench_cpu0,
            }
        )

    async def sampler() -> None:
        # at 0, at the end of the warm-up, then once a second
        due = 0.0  # seconds after the start of the next sample
        while not done.is_set():
            sample()
            if len(samples) > SILENT_SAMPLES and samples[-SILENT_SAMPLES]["messages"] == len(
                stamps
            ):
                looping.cancel()  # nobody got an answer for a long time: the coordinator is stuck or gone
                child = getattr(proc, "proc", None)
                state = (
                    "unknown"
                    if child is None
                    else "running"
                    if child.returncode is None
                    else f"exited {child.returncode}"
                )
                raise RuntimeError(
                    f"no answer from the coordinator for {SILENT_SAMPLES - 1} s (after {len(stamps):,} messages; "
                    f"process {state}; frames received per client "
                    f"{[p.received for p in peers]}; waiting for {[len(p.waiting) for p in peers]}): "
                    f"{proc.stderr_text()[-1500:]}"
                )
            due = warmup if due < warmup else due + 1.0
            if progress and len(samples) % 10 == 0:
                progress(
                    f"  {len(samples) - 1} s: {len(stamps):,} messages, RSS {samples[-1]['rss_kb'] / 1024:.1f} MiB"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), max(0.0, start_t + due - time.perf_counter()))

    looping = asyncio.gather(*(one(p) for p in peers))
    sampling = asyncio.get_running_loop().create_task(sampler())
    try:
        await looping
    except asyncio.CancelledError:
        await sampling  # raises why it cancelled the loop
        raise
    finally:
        done.set()
        if not sampling.done():
            await sampling
    end_t = time.perf_counter()
    sample()
    wall1 = time.time()
    errors = sum(p.errors for p in peers)
    last_error = next((p.last_error for p in peers if p.last_error), "")
    await close_all(peers)
    return summarise(
        stamps,
        samples,
        start_t,
        end_t,
        warmup,
        clients,
        proc.stalls(wall0, wall1),
        errors,
        last_error,
    )


def summarise(
    stamps: list[float],
    samples: list[dict[str, Any]],
    start_t: float,
    end_t: float,
    warmup: float,
    clients: int,
    stalls: dict[str, Any] | None,
    errors: int = 0,
    last_error: str = "",
) -> dict[str, Any]:
    seconds = end_t - start_t
    total = len(stamps)
    window = min(5.0, seconds)
    warm = next((s for s in samples if s["t"] >= warmup), samples[0])
    end = samples[-1]
    warm_msgs = end["messages"] - warm["messages"]
    gaps = [b - a for a, b in zip([start_t, *stamps], stamps, strict=False)]
    return {
        "clients": clients,
        "messages": total,
        "seconds": round(seconds, 3),
        "msgs_per_sec": total / seconds,
        "first_5s_per_sec": sum(1 for s in stamps if s - start_t < 5) / window,
        "last_5s_per_sec": sum(1 for s in stamps if end_t - s <= 5) / window,
        "warmup_sec": warm["t"],
        "messages_after_warmup": warm_msgs,
        "msgs_per_sec_after_warmup": warm_msgs / max(1e-9, end["t"] - warm["t"]),
        # CPU the coordinator spent per message: steadier than msg/s on a shared machine
        "sidecar_cpu_us_per_msg": (end["cpu_sec"] - warm["cpu_sec"]) * 1e6 / max(1, warm_msgs),
        # of which in the kernel (socket writes and reads, epoll, the journal's file writes)
        "sidecar_sys_us_per_msg": (end["sys_sec"] - warm["sys_sec"]) * 1e6 / max(1, warm_msgs),
        "bench_cpu_us_per_msg": (end["bench_cpu_sec"] - warm["bench_cpu_sec"])
        * 1e6
        / max(1, warm_msgs),
        # what one core could sustain at that cost, whoever else shares the machine (the clients need CPU too)
        "one_core_msgs_per_sec": 1e6
        * max(1, warm_msgs)
        / max(1e-9, (end["cpu_sec"] - warm["cpu_sec"]) * 1e6),
        "rss_start_kb": samples[0]["rss_kb"],
        "rss_warm_kb": warm["rss_kb"],
        "rss_end_kb": end["rss_kb"],
        "rss_bytes_per_msg_after_warmup": (end["rss_kb"] - warm["rss_kb"])
        * 1024
        / max(1, warm_msgs),
        "max_gap_ms": max(gaps, default=0.0) * 1000,
        "loop_stall": stalls,
        "errors": errors,
        **({"last_error": last_error} if last_error else {}),
        "rss_curve_kb": [
            (s["t"], s["messages"], s["rss_kb"]) for s in samples[:: max(1, len(samples) // 60)]
        ],
    }


async def announce_many(
    client: LeanClient,
    count: int,
    prefix: str,
    *,
    objective: str = "bench",
    window: int = 64,
    ttl_sec: float = 36000,
    progress: Callable[[str], None] | None = None,
    every: tuple[int, Callable[[int], None]] | None = None,
) -> None:
    """`count` disjoint announces from one client, `window` of them in flight; returns once all were
    answered (the relay of each comes back to its sender). `every` = (k, f) calls f(n) after each k
    answered announces."""
    pending: list[asyncio.Future[float]] = []
    for n in range(count):
        _mid, fut = client.send(
            "INTENT_ANNOUNCE",
            {
                "intent_id": f"{prefix}{n}",
                "objective": objective,
                "scope": {"kind": "file_set", "resources": [f"{prefix}/{n}.py"]},
                "ttl_sec": ttl_sec,
            },
        )
        pending.append(fut)
        if len(pending) >= window:
            await asyncio.wait_for(pending.pop(0), 300)
            answered = n + 1 - len(pending)
            if every is not None and answered % every[0] == 0:
                every[1](answered)
        if progress and n and n % 2000 == 0:
            progress(f"  {n:,} of {count:,} intents announced")
    for i, fut in enumerate(pending):
        await asyncio.wait_for(fut, 300)
        answered = count - len(pending) + i + 1
        if every is not None and answered % every[0] == 0:
            every[1](answered)
    if client.errors:
        raise RuntimeError(f"{client.errors} announces were refused: {client.last_error}")

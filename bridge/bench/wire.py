"""`bench wire`: a real sidecar process with K raw WebSocket clients on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bridge.bench.launch import start
from bridge.bench.machine import percentile
from bridge.protocol.constants import PROTOCOL, PROTOCOL_VERSION
from bridge.protocol.envelope import format_ts

SID = "bench"
_ids = itertools.count(1)


def frame(mtype: str, pid: str, payload: dict[str, Any], sid: str = SID) -> tuple[str, str]:
    mid = f"{pid}-{next(_ids)}"
    env = {"protocol": PROTOCOL, "version": PROTOCOL_VERSION, "message_type": mtype, "message_id": mid, "session_id": sid,
           "sender": {"principal_id": pid, "principal_type": "agent", "sender_instance_id": f"{pid}#1"},
           "ts": format_ts(time.time()), "payload": payload}
    return mid, json.dumps(env)


class Peer:
    """A raw client that records when each message id arrived."""

    def __init__(self, ws: ClientConnection, pid: str, sid: str = SID) -> None:
        self.ws, self.pid, self.sid = ws, pid, sid
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.received = 0
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                self.received += 1
                # Parse only a frame that may answer a request of ours (every client gets every
                # broadcast; parsing all of them made this process as busy as the sidecar).
                if not any(mid in raw for mid in self.waiting):
                    continue
                m = json.loads(raw)
                for key in (m.get("message_id"), (m.get("payload") or {}).get("refers_to")):
                    fut = self.waiting.pop(key, None) if key else None
                    if fut is not None and not fut.done():
                        fut.set_result(time.perf_counter())

    def expect(self, mid: str) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[mid] = fut
        return fut

    async def request(self, mtype: str, payload: dict[str, Any]) -> None:
        mid, text = frame(mtype, self.pid, payload, self.sid)
        fut = self.expect(mid)
        await self.ws.send(text)
        await asyncio.wait_for(fut, 30)


async def join(url: str, pid: str, sid: str = SID) -> Peer:
    ws = await connect(url, max_size=None, max_queue=None)
    _mid, text = frame("HELLO", pid, {"display_name": pid, "roles": ["contributor"], "capabilities": []}, sid)
    await ws.send(text)
    while json.loads(await ws.recv()).get("message_type") != "SESSION_INFO":
        pass
    return Peer(ws, pid, sid)


async def latency(url: str, clients: int, samples: int) -> dict[str, Any]:
    tag = f"c{clients}"
    peers = [await join(url, f"agent:{tag}-{n}") for n in range(clients)]
    holder, sender = peers[0], peers[1]
    await holder.request("INTENT_ANNOUNCE", {"intent_id": f"{tag}-glob", "objective": "hold", "scope": {"kind": "resource_path", "pattern": f"{tag}/**"}, "ttl_sec": 3600})
    lat = []
    for n in range(samples):
        mid, text = frame("INTENT_ANNOUNCE", sender.pid, {"intent_id": f"{tag}-l{n}", "objective": "o", "scope": {"kind": "file_set", "resources": [f"{tag}/{n}.py"]}})
        seen = holder.expect(mid)
        t0 = time.perf_counter()
        await sender.ws.send(text)
        lat.append((await asyncio.wait_for(seen, 30) - t0) * 1000)
        await sender.request("INTENT_WITHDRAW", {"intent_id": f"{tag}-l{n}"})
    for p in peers:
        await p.request("GOODBYE", {"reason": "session_complete"})
        await p.ws.close()
    return {"clients": clients, "samples": samples, "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": max(lat)}


async def throughput(url: str, clients: int, duration: float, proc_rss: Callable[[], int], target_msgs: int | None = None,
                     tag: str = "t", proc_cpu: Callable[[], float] | None = None) -> dict[str, Any]:
    peers = [await join(url, f"agent:{tag}{n}") for n in range(clients)]
    stamps: list[float] = []
    stop = time.perf_counter() + duration
    rss_before = proc_rss()
    cpu_before = proc_cpu() if proc_cpu else 0.0

    async def loop(peer: Peer) -> None:
        n = 0
        while time.perf_counter() < stop and (target_msgs is None or len(stamps) < target_msgs):
            iid = f"{peer.pid}-{n}"
            n += 1
            await peer.request("INTENT_ANNOUNCE", {"intent_id": iid, "objective": "churn", "scope": {"kind": "file_set", "resources": [f"{iid}.py"]}})
            stamps.append(time.perf_counter())
            await peer.request("INTENT_WITHDRAW", {"intent_id": iid})
            stamps.append(time.perf_counter())

    start_t = time.perf_counter()
    await asyncio.gather(*(loop(p) for p in peers))
    end_t = time.perf_counter()
    rss_after = proc_rss()
    cpu_used = proc_cpu() - cpu_before if proc_cpu else 0.0
    for p in peers:
        await p.ws.close()
    total = len(stamps)
    first = sum(1 for s in stamps if s - start_t < 5) / min(5, end_t - start_t)
    last = sum(1 for s in stamps if end_t - s <= 5) / min(5, end_t - start_t)
    return {"clients": clients, "messages": total, "seconds": end_t - start_t, "msgs_per_sec": total / (end_t - start_t),
            "first_5s_per_sec": first, "last_5s_per_sec": last, "rss_before_kb": rss_before, "rss_after_kb": rss_after,
            "rss_bytes_per_msg": (rss_after - rss_before) * 1024 / max(1, total),
            # CPU the sidecar spent per message: steadier than msg/s on a shared machine
            "sidecar_cpu_us_per_msg": cpu_used * 1e6 / max(1, total) if proc_cpu else None}


async def run_async(clients: tuple[int, ...], samples: int, duration: float, rss_msgs: int, progress: Callable[[str], None] | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = await start(Path(tmp), "--session-id", SID, "--rate", "1000000", "--max-connections", "1000", "--send-queue", "100000")
        try:
            out: dict[str, Any] = {"startup_ms": (proc.ready - proc.started) * 1000, "latency": []}
            for k in clients:
                if progress:
                    progress(f"wire: latency with {k} clients")
                out["latency"].append(await latency(proc.url, max(2, k), samples))
            if progress:
                progress(f"wire: closed-loop throughput, 10 clients, {duration:.0f} s")
            out["throughput"] = await throughput(proc.url, 10, duration, proc.rss_kb, proc_cpu=proc.cpu_sec)
            if progress:
                progress(f"wire: memory over {rss_msgs} messages")
            out["memory"] = await throughput(proc.url, 10, 3600, proc.rss_kb, target_msgs=rss_msgs, tag="m")
            out["rss_final_kb"] = proc.rss_kb()
            return out
        finally:
            await proc.stop()


def run(clients: tuple[int, ...] = (2, 10, 50), samples: int = 300, duration: float = 30.0, rss_msgs: int = 100_000,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    return asyncio.run(run_async(clients, samples, duration, rss_msgs, progress))

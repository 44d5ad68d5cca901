"""`bench fleet`: what a fleet of nodes on PostgreSQL costs and gives on this machine.

Needs PostgreSQL server binaries (a throwaway cluster with PostgreSQL's default durability: fsync
and synchronous_commit on) and nginx (for the failover runs). Four figures:

- journal append cost per message: SQLite (WAL, synchronous=NORMAL) vs PostgreSQL (synchronous
  commit on, and off for comparison), in-process, one append after another;
- one session on one PostgreSQL node in the closed loop of `bench wire` (10 clients), next to the
  same loop on a SQLite sidecar;
- aggregate throughput of many sessions on 3 nodes against 1 node (clients reach the holders
  through redirects, no proxy in the path), with synchronous_commit on (bound by the disk's WAL
  flushes, which nodes wait for in parallel) and off (bound by the machine's cores);
- failover (kill -9 -> first client served again): the chaos run's p50 and max.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.bench import chaos
from bridge.bench.fleetrig import FleetRig
from bridge.bench.launch import start
from bridge.bench.wire import join, throughput
from bridge.protocol.constants import PROTOCOL, PROTOCOL_VERSION

Say = Callable[[str], None]
RAW = json.dumps(
    {
        "protocol": PROTOCOL,
        "version": PROTOCOL_VERSION,
        "message_type": "INTENT_ANNOUNCE",
        "message_id": "agent:bench#1:42",
        "session_id": "bench",
        "ts": "2026-12-02T12:00:00.000Z",
        "sender": {
            "principal_id": "agent:bench",
            "principal_type": "agent",
            "sender_instance_id": "agent:bench#1",
        },
        "payload": {
            "intent_id": "intent-42",
            "objective": "refactor the payment retry loop",
            "scope": {
                "kind": "file_set",
                "resources": ["src/payments/retry.py", "tests/test_retry.py"],
            },
        },
        "watermark": {"kind": "lamport_clock", "value": 42},
    },
    separators=(",", ":"),
)
BOUND = '{"bound":"agent:bench"}'


def _append_us(store: Any, sid: str, count: int) -> float:
    store.claim(sid)
    for _ in range(20):  # warm up: prepared statements, caches
        store.append(sid, "handle", time.time(), RAW, BOUND)
    started = time.perf_counter()
    for _ in range(count):
        store.append(sid, "handle", time.time(), RAW, BOUND)
    return (time.perf_counter() - started) / count * 1e6


def append_cost(store_url: str, count: int, repeat: int) -> dict[str, Any]:
    from bridge.store import SqliteStore
    from bridge.store.postgres import NodeIdentity, PostgresStore

    out: dict[str, list[float]] = {"sqlite": [], "postgresql": [], "postgresql_async_commit": []}
    for n in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            lite = SqliteStore(Path(tmp) / "j.sqlite3")
            out["sqlite"].append(_append_us(lite, "bench", count))
            lite.close()
        pg = PostgresStore(store_url, NodeIdentity("bench", uuid.uuid4().hex[:8], "/"))
        out["postgresql"].append(_append_us(pg, f"bench-{n}", count))
        pg.main.run(lambda c: c.execute("SET synchronous_commit = off"))
        out["postgresql_async_commit"].append(_append_us(pg, f"bench-async-{n}", count))
        pg.close()
    return {
        k: {"us_per_append": statistics.median(v), "runs": [round(x, 1) for x in v]}
        for k, v in out.items()
    } | {"appends": count}


async def one_session(store_url: str, root: Path, duration: float) -> dict[str, Any]:
    async with FleetRig(store_url, root / "one", ["n1"], proxy=False) as rig:
        node = rig.nodes["n1"]
        pg = await throughput(
            rig.session_url("bench", "n1"), 10, duration, lambda: 0, proc_cpu=node.cpu_sec
        )
    lite_proc = await start(
        root / "sqlite", "--session-id", "bench", "--rate", "1000000", "--max-connections", "1000"
    )
    try:
        lite = await throughput(
            lite_proc.url, 10, duration, lite_proc.rss_kb, proc_cpu=lite_proc.cpu_sec
        )
    finally:
        await lite_proc.stop()
    keep = ("msgs_per_sec", "sidecar_cpu_us_per_msg", "messages", "seconds")
    return {
        "postgresql": {k: pg[k] for k in keep},
        "sqlite": {k: lite[k] for k in keep},
        "clients": 10,
    }


async def aggregate(
    store_url: str, root: Path, nodes: int, sessions: int, clients: int, duration: float
) -> dict[str, Any]:
    names = [f"n{k + 1}" for k in range(nodes)]
    async with FleetRig(store_url, root / f"agg{nodes}", names, proxy=False) as rig:
        peers = []
        for k in range(sessions):  # each session created on the next node; later clients redirected
            sid = f"agg{nodes}-{k}"
            for c in range(clients):
                peers.append(
                    await join(
                        rig.session_url(sid, names[(k + c) % nodes]), f"agent:{sid}-{c}", sid
                    )
                )
        cpu_before = {n: node.cpu_sec() for n, node in rig.nodes.items()}
        count = 0
        stop = time.perf_counter() + duration

        async def loop(peer: Any) -> None:
            nonlocal count
            n = 0
            while time.perf_counter() < stop:
                n += 1
                iid = f"{peer.pid}-{n}"
                await peer.request(
                    "INTENT_ANNOUNCE",
                    {
                        "intent_id": iid,
                        "objective": "churn",
                        "scope": {"kind": "file_set", "resources": [f"{iid}.py"]},
                    },
                )
                await peer.request("INTENT_WITHDRAW", {"intent_id": iid})
                count += 2

        started = time.perf_counter()
        await asyncio.gather(*(loop(p) for p in peers))
        seconds = time.perf_counter() - started
        cpu = {n: node.cpu_sec() - cpu_before[n] for n, node in rig.nodes.items()}
        held = {n: sum(1 for h, _e in rig.holders().values() if h == n) for n in names}
        for p in peers:
            await p.close()
    return {
        "nodes": nodes,
        "sessions": sessions,
        "clients_per_session": clients,
        "msgs_per_sec": count / seconds,
        "node_cpu_sec": {n: round(v, 2) for n, v in cpu.items()},
        "sessions_per_node": held,
        "node_cpu_us_per_msg": sum(cpu.values()) * 1e6 / max(1, count),
    }


async def failover(store_url: str, root: Path, quick: bool, say: Say) -> dict[str, Any]:
    report = await chaos.run(
        store_url,
        root / "chaos",
        sessions=8 if quick else 20,
        clients=3,
        kills=2 if quick else 5,
        progress=say,
    )
    fo = report.failovers_ms
    return {
        "kills": report.kills,
        "takeovers": len(fo),
        "p50_ms": statistics.median(fo),
        "max_ms": max(fo),
        "all_back_p50_ms": statistics.median(report.all_back_ms),
        "ok": report.ok,
        "acked_intents": report.acked_intents,
        "acked_commits": report.acked_commits,
    }


async def run_async(quick: bool, duration: float, say: Say) -> dict[str, Any]:
    from bridge.bench.pgcluster import make_cluster

    say(
        "fleet: starting a throwaway PostgreSQL cluster (default durability: fsync and synchronous_commit on)"
    )
    cluster = await asyncio.to_thread(make_cluster, {"max_connections": "300"})
    try:

        def db(name: str) -> str:
            return cluster.create_database(name)

        out: dict[str, Any] = {"postgresql": cluster.psql("SHOW server_version")}
        say("fleet: journal append cost, SQLite vs PostgreSQL")
        out["append"] = await asyncio.to_thread(
            append_cost, db("appends"), 300 if quick else 2000, 1 if quick else 3
        )
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            say(
                f"fleet: one session, 10 clients, closed loop, {duration:.0f} s on PostgreSQL then on SQLite"
            )
            out["one_session"] = await one_session(db("one"), root, duration)
            sessions = 6 if quick else 12
            out["aggregate"] = []
            for commit in ("on", "off"):  # bound by the disk's flushes, then by the 2 cores
                for nodes in (1, 3):
                    say(
                        f"fleet: {sessions} sessions x 3 clients on {nodes} node(s), synchronous_commit {commit}, {duration:.0f} s"
                    )
                    url = db(f"agg{nodes}_{commit}")
                    cluster.psql(
                        f"ALTER DATABASE agg{nodes}_{commit} SET synchronous_commit = {commit}"
                    )
                    run = await aggregate(url, root, nodes, sessions, 3, duration)
                    out["aggregate"].append(run | {"synchronous_commit": commit})
            say("fleet: failover, kill -9 behind nginx")
            out["failover"] = await failover(db("chaos"), root, quick, say)
        return out
    finally:
        await asyncio.to_thread(cluster.destroy)


def run(
    quick: bool = False, duration: float | None = None, progress: Say | None = None
) -> dict[str, Any]:
    return asyncio.run(
        run_async(quick, duration or (3.0 if quick else 15.0), progress or (lambda _t: None))
    )

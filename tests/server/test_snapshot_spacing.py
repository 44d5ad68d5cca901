"""Snapshots are spaced by their cost: a snapshot blocks every connection while it is written, so an
expensive one (a large state) is taken less often, within a bound that keeps crash replay short."""

from __future__ import annotations

from pathlib import Path

from bridge.client import SessionClient
from bridge.core import CoordinatorConfig
from bridge.core.records import Intent
from bridge.server.config import ServerConfig
from bridge.server.embed import serve_sidecar
from bridge.server.host import SNAPSHOT_MAX_SPREAD, snapshot_interval


def test_interval_grows_with_the_cost_of_the_last_snapshot() -> None:
    assert snapshot_interval(0.0, 5000) == 5000
    assert snapshot_interval(0.05, 5000) == 5000  # 50 ms over 5,000 entries is within budget
    assert snapshot_interval(0.3, 5000) == 15_000
    assert snapshot_interval(60.0, 5000) == 5000 * SNAPSHOT_MAX_SPREAD  # crash replay stays bounded


def test_records_encode_as_shallow_dicts_of_their_public_fields() -> None:
    intent = Intent(
        "i1", "agent:a", "obj", {"kind": "file_set", "resources": ["a.py"]}, "ACTIVE", 1.0, 2.0, 1.0
    )
    data = intent.to_json()
    assert data["scope"] == intent.scope and data["deferred_by"] == () and "intent_id" in data
    back = Intent.from_json(data)  # restored with the scope frozen: the same JSON
    assert back.public() == intent.public() and type(back.scope) is tuple


async def test_sidecar_stretches_the_interval_after_an_expensive_snapshot(tmp_path: Path) -> None:
    running = await serve_sidecar(
        ServerConfig(session_id="snap", data_dir=tmp_path, snapshot_every=10), CoordinatorConfig()
    )
    try:
        host = running.sidecar.hosts["snap"]
        client = SessionClient(running.url, "agent:a", session_id="snap")
        await client.connect()
        try:
            n = 0
            while n == 0 or host.since_snapshot != 0:  # until a snapshot at the base interval
                host.snapshot_cost = 0.0  # cheap snapshots (a real one here takes a few ms)
                n += 1
                assert (await client.announce(f"task {n}", [f"f{n}.py"], intent_id=f"i{n}")).ok
                assert n <= 10
            if host.writing is not None:  # written by a forked child: wait until it is stored
                await host.writing
            host.snapshot_cost = (
                0.0005  # as if the last snapshot had taken 0.5 ms: 25 entries apart
            )
            peak, last = 0, ""
            for k in range(40):
                last = f"g{k}"
                assert (await client.announce(f"more {k}", [f"{last}.py"], intent_id=last)).ok
                if host.since_snapshot == 0:
                    break
                peak = host.since_snapshot
            # the base interval (10) passed without a snapshot; it came at the stretched one (a
            # heartbeat of the client, also journaled, may have taken one of the 25 places)
            assert peak >= 23 and host.since_snapshot == 0
            if host.writing is not None:
                await host.writing
            snap, after = host.store.load("snap")
            assert (
                snap is not None
                and not after
                and any(i["intent_id"] == last for i in snap["intents"])
            )
        finally:
            await client.close()
    finally:
        await running.stop()

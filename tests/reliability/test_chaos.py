"""Chaos: kill -9 the sidecar during churn and restart it; clients reconnect by themselves and no
acknowledged intent or commit is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bridge.client import SessionClient
from tests.support.sidecar import start_sidecar

SID = "chaos"


async def chaos(tmp_path: Path, kills: int, clients: int = 4) -> dict:
    sc = await start_sidecar("--session-id", SID, "--rate", "100000", data_dir=tmp_path)
    port = sc.port
    peers = [SessionClient(sc.url, f"agent:ch{n}", session_id=SID) for n in range(clients)]
    for p in peers:
        await p.connect()
    acked: dict[str, str] = {}  # intent -> owner
    committed: dict[str, str] = {}  # target -> state ref
    lost_in_flight = 0
    try:
        for k in range(kills):

            async def burst(p: SessionClient, k: int = k) -> None:
                nonlocal lost_in_flight
                for j in range(6):
                    iid = f"{p.principal_id}-{k}-{j}"
                    r = await p.announce("chaos", [f"{iid}.py"], intent_id=iid, ttl_sec=3600)
                    if r.ok:
                        acked[iid] = p.principal_id
                        c = await p.commit(iid, f"{iid}.py", None, f"sha256:{k}{j}")
                        if c.ok:
                            committed[f"{iid}.py"] = f"sha256:{k}{j}"
                    else:
                        lost_in_flight += 1
                        return

            acked_before = len(acked)
            first_ack = asyncio.Event()
            watch = peers[0].wait_for(lambda m: m.get("message_type") == "OP_COMMIT", 30)
            watch.add_done_callback(lambda _f, ev=first_ack: ev.set())
            tasks = [asyncio.create_task(burst(p)) for p in peers]
            await first_ack.wait()  # kill mid-traffic: right after the first commit went out
            assert watch.exception() is None, (
                f"kill {k + 1}: no commit went out in 30 s (was every request refused?)"
            )
            await sc.kill9()
            await asyncio.gather(*tasks)
            # The round did real work before the kill (else the checks below would hold vacuously).
            assert len(acked) > acked_before, (
                f"kill {k + 1}: no intent was acknowledged before the kill"
            )
            sc = await start_sidecar(
                "--session-id", SID, "--port", str(port), "--rate", "100000", data_dir=tmp_path
            )
            for p in peers:
                await asyncio.wait_for(p.connected.wait(), 30)
            for p in peers:
                ok = await p.wait_until(lambda v: set(acked) <= set(v.intents), 10)
                assert ok, (
                    f"after kill {k + 1}: acknowledged intents missing: {sorted(set(acked) - set(p.view.intents))[:5]}"
                )
                for target, ref in committed.items():
                    assert p.view.targets.get(target, {}).get("state_ref") == ref
        return {
            "kills": kills,
            "acked": len(acked),
            "commits": len(committed),
            "in_flight_refused": lost_in_flight,
        }
    finally:
        for p in peers:
            await p.close()
        await sc.stop()


async def test_chaos_short(tmp_path: Path) -> None:
    r = await chaos(tmp_path, kills=3)
    assert (
        r["acked"] >= 3 and r["commits"] >= 1
    )  # something to lose was acknowledged in every round
    print(
        f"\nchaos (short): {r['kills']} kill -9, {r['acked']} acknowledged intents and {r['commits']} commits, losses 0"
    )


@pytest.mark.slow
async def test_chaos_soak(tmp_path: Path) -> None:
    r = await chaos(tmp_path, kills=20)
    assert r["acked"] >= 20 and r["commits"] >= 1
    print(
        f"\nchaos (soak): {r['kills']} kill -9, {r['acked']} acknowledged intents and {r['commits']} commits, losses 0"
    )

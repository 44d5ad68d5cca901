"""kill -9 mid-traffic, restart on the same data dir: nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bridge.client import SessionClient
from tests.support.sidecar import start_sidecar

pytestmark = pytest.mark.e2e
SID = "dur"


async def test_kill9_then_restart_restores_every_acknowledged_intent_and_commit(tmp_path: Path) -> None:
    sc = await start_sidecar("--session-id", SID, data_dir=tmp_path)
    port = sc.port
    a = SessionClient(sc.url, "agent:a", session_id=SID)
    b = SessionClient(sc.url, "agent:b", session_id=SID)
    await a.connect()
    await b.connect()
    acked: list[str] = []
    for n in range(40):
        client = a if n % 2 else b
        reply = await client.announce(f"task {n}", [f"f{n}.py"], intent_id=f"i{n}")
        assert reply.ok
        acked.append(f"i{n}")
    commit = await a.commit("i1", "f1.py", None, "sha256:one")
    assert commit.ok
    await sc.kill9()
    sc2 = await start_sidecar("--session-id", SID, "--port", str(port), data_dir=tmp_path)
    try:
        await asyncio.wait_for(a.connected.wait(), 30)  # the client reconnects by itself
        await asyncio.wait_for(b.connected.wait(), 30)
        assert set(acked) <= set(a.view.intents)
        assert all(a.view.intents[i]["state"] == "ACTIVE" for i in acked)
        assert a.view.targets["f1.py"]["state_ref"] == "sha256:one"
        assert a.session_info["coordinator_epoch"] == 2
        stale = await b.announce("steal", ["f1.py"])
        assert stale.error_code == "STALE_INTENT"
        stale_commit = await a.commit("i1", "f1.py", None, "sha256:two")
        assert stale_commit.error_code == "STALE_STATE_REF"
        await a.close()
        await b.close()
    finally:
        await sc2.stop()


async def test_transcript_survives_a_restart_and_verifies(tmp_path: Path) -> None:
    from bridge.store.transcript import verify_file

    sc = await start_sidecar("--session-id", SID, data_dir=tmp_path)
    a = SessionClient(sc.url, "agent:a", session_id=SID)
    await a.connect()
    assert (await a.announce("one", ["x.py"])).ok
    await sc.kill9()
    sc2 = await start_sidecar("--session-id", SID, "--port", str(sc.port), data_dir=tmp_path)
    try:
        await asyncio.wait_for(a.connected.wait(), 30)
        assert (await a.announce("two", ["y.py"])).ok
        await a.close()
    finally:
        await sc2.stop()
    result = verify_file(tmp_path / "transcripts" / f"{SID}.jsonl")
    assert result.ok, result
    assert result.records > 5

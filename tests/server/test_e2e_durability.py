"""kill -9 mid-traffic, restart on the same data dir: nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bridge.client import SessionClient
from tests.support.sidecar import start_sidecar

pytestmark = pytest.mark.e2e
SID = "dur"


async def test_kill9_then_restart_restores_every_acknowledged_intent_and_commit(
    tmp_path: Path,
) -> None:
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
    # the transcript is flushed before any output of a message is sent: acknowledged means recorded
    records = [
        json.loads(line)
        for line in (tmp_path / "transcripts" / f"{SID}.jsonl").read_text().splitlines()
    ]
    assert any(
        r["kind"] == "in" and r["message"]["payload"].get("objective") == "one" for r in records
    )
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


async def test_kill9_while_requests_are_in_flight_loses_no_acknowledged_intent(
    tmp_path: Path,
) -> None:
    import time

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from tests.core.helpers import msg

    sc = await start_sidecar("--session-id", SID, "--max-msgs-per-sec", "100000", data_dir=tmp_path)
    acked: list[str] = []
    enough = asyncio.Event()
    async with connect(sc.url) as ws:
        await ws.send(
            json.dumps(msg("HELLO", "agent:w", {"display_name": "w"}, session=SID, now=time.time()))
        )

        async def read() -> None:
            try:
                async for raw in ws:
                    m = json.loads(raw)
                    if (
                        m["message_type"] == "INTENT_ANNOUNCE"
                        and m["sender"]["principal_id"] == "agent:w"
                    ):
                        acked.append(m["payload"]["intent_id"])
                        if len(acked) >= 30:
                            enough.set()
            except ConnectionClosed:
                pass

        reader = asyncio.get_running_loop().create_task(read())
        try:
            for n in range(5000):  # keeps sending until the kill; never waits for a reply
                scope = {"kind": "file_set", "resources": [f"f{n}.py"]}
                payload = {"intent_id": f"w{n}", "objective": f"task {n}", "scope": scope}
                await ws.send(
                    json.dumps(
                        msg(
                            "INTENT_ANNOUNCE",
                            "agent:w",
                            payload,
                            session=SID,
                            now=time.time(),
                            lamport=n + 2,
                            mid=f"w-{n}",
                        )
                    )
                )
                if enough.is_set():
                    break
                await asyncio.sleep(0)  # let the reader run
            # on a loaded machine every frame may be sent before the 30th acknowledgement is read
            await asyncio.wait_for(enough.wait(), 30)
            await sc.kill9()
        except ConnectionClosed:
            pass
        await asyncio.wait_for(reader, 30)
    assert len(acked) >= 30
    sc2 = await start_sidecar("--session-id", SID, "--port", str(sc.port), data_dir=tmp_path)
    try:
        check = SessionClient(sc2.url, "agent:check", session_id=SID)
        await check.connect()
        assert check.session_info["coordinator_epoch"] == 2
        assert await check.wait_until(lambda v: set(acked) <= set(v.intents), 30)
        await check.close()
    finally:
        await sc2.stop()

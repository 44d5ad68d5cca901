"""End to end against a real sidecar process: admission, binding, broadcast, errors, limits."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bridge.client import JoinRefused, SessionClient
from tests.core.helpers import msg
from tests.server.wsread import recv_json
from tests.support.sidecar import sidecar

pytestmark = pytest.mark.e2e
SID = "e2e"


async def test_broadcast_reaches_every_client_and_acks_match(tmp_path: Path) -> None:
    async with sidecar("--session-id", SID, data_dir=tmp_path) as sc:
        clients = [SessionClient(sc.url, f"agent:c{n}", session_id=SID) for n in range(8)]
        for c in clients:
            await c.connect()
        queues = [c.subscribe() for c in clients[1:]]
        reply = await clients[0].announce("edit a", ["a.py"], intent_id="i-a")
        assert reply.ok and reply.message["message_id"] == reply.request_id
        for q in queues:
            while True:
                m = await asyncio.wait_for(q.get(), 10)
                if m.get("message_type") == "INTENT_ANNOUNCE":
                    assert m["payload"]["intent_id"] == "i-a"
                    break
        blocked = await clients[1].announce("edit a too", ["./a.py"])
        assert not blocked.ok and blocked.error_code == "STALE_INTENT"
        assert blocked.extensions["holders"][0]["principal_id"] == "agent:c0"
        for c in clients:
            await c.close()


async def test_impersonation_is_refused_and_not_applied(tmp_path: Path) -> None:
    async with sidecar("--session-id", SID, data_dir=tmp_path) as sc:
        victim = SessionClient(sc.url, "agent:victim", session_id=SID)
        await victim.connect()
        async with connect(sc.url) as ws:
            await ws.send(
                json.dumps(
                    msg(
                        "HELLO",
                        "agent:evil",
                        {"display_name": "e", "roles": ["contributor"]},
                        session=SID,
                    )
                )
            )
            assert (await recv_json(ws))["message_type"] == "SESSION_INFO"
            forged = msg(
                "INTENT_ANNOUNCE",
                "agent:victim",
                {
                    "intent_id": "forged",
                    "objective": "x",
                    "scope": {"kind": "file_set", "resources": ["z"]},
                },
                session=SID,
            )
            await ws.send(json.dumps(forged))
            while True:
                m = await recv_json(ws)
                if m["message_type"] == "PROTOCOL_ERROR":
                    break
            assert m["payload"]["error_code"] == "AUTHORIZATION_FAILED"
        assert "forged" not in victim.view.intents
        await victim.close()


async def test_unadmitted_socket_gets_only_its_errors_and_garbage_keeps_it_usable(
    tmp_path: Path,
) -> None:
    async with sidecar("--session-id", SID, data_dir=tmp_path) as sc:  # noqa: SIM117 - the inner one needs sc
        async with connect(sc.url) as ws:
            await ws.send("{not json")
            assert (await recv_json(ws))["payload"]["error_code"] == "MALFORMED_MESSAGE"
            await ws.send(
                json.dumps(
                    msg(
                        "INTENT_ANNOUNCE",
                        "agent:x",
                        {
                            "intent_id": "i",
                            "objective": "o",
                            "scope": {"kind": "file_set", "resources": ["a"]},
                        },
                        session=SID,
                    )
                )
            )
            assert (await recv_json(ws))["payload"]["error_code"] == "INVALID_REFERENCE"
            await ws.send(json.dumps(msg("HELLO", "agent:x", {"display_name": "x"}, session=SID)))
            assert (await recv_json(ws))["message_type"] == "SESSION_INFO"
            await ws.send("[1,2,3]")
            assert (await recv_json(ws))["payload"]["error_code"] == "MALFORMED_MESSAGE"
            await ws.send(json.dumps(msg("HEARTBEAT", "agent:x", {"status": "idle"}, session=SID)))


async def test_unknown_path_and_evil_origin_are_refused(tmp_path: Path) -> None:
    async with sidecar("--session-id", SID, data_dir=tmp_path) as sc:
        with pytest.raises(InvalidStatus) as exc:
            async with connect(sc.url + "/session/other"):
                pass
        assert exc.value.response.status_code == 404
        with pytest.raises(InvalidStatus) as exc:
            async with connect(sc.url, additional_headers={"Origin": "https://evil.example"}):
                pass
        assert exc.value.response.status_code == 403
        async with connect(sc.session_url(SID)) as ws:
            await ws.send(json.dumps(msg("HELLO", "agent:x", {"display_name": "x"}, session=SID)))
            assert (await recv_json(ws))["message_type"] == "SESSION_INFO"


async def test_far_oversized_frame_closes_with_a_reason(tmp_path: Path) -> None:
    async with sidecar("--session-id", SID, "--max-frame-bytes", "65536", data_dir=tmp_path) as sc:  # noqa: SIM117
        async with connect(sc.url, max_size=None) as ws:
            await ws.send("x" * 300_000)  # over 4 x the limit: not even read
            with pytest.raises(ConnectionClosed) as exc:
                await recv_json(ws)
            assert exc.value.rcvd is not None and exc.value.rcvd.code == 1009
            assert "exceeds limit" in exc.value.rcvd.reason


async def test_oversized_request_is_refused_by_name_and_the_client_knows_the_limit(
    tmp_path: Path,
) -> None:
    """One limit (--max-frame-bytes): SESSION_INFO announces it, the client refuses a bigger request
    without sending it, and a peer that sends one anyway gets a PROTOCOL_ERROR naming its message
    (not a silent drop that ends in a timeout); the connection stays usable."""
    async with sidecar("--session-id", SID, "--max-frame-bytes", "65536", data_dir=tmp_path) as sc:
        client = SessionClient(sc.url, "agent:big", session_id=SID)
        await client.connect()
        assert client.frame_limit == 65536
        local = await client.announce("x" * 100_000, ["a.py"])
        assert (
            not local.ok and local.error_code == "FRAME_TOO_LARGE" and "65,536" in local.description
        )
        async with connect(sc.url, max_size=None) as ws:
            await ws.send(
                json.dumps(msg("HELLO", "agent:raw", {"display_name": "raw"}, session=SID))
            )
            assert (await recv_json(ws))["message_type"] == "SESSION_INFO"
            big = msg(
                "INTENT_ANNOUNCE",
                "agent:raw",
                {
                    "intent_id": "i-big",
                    "objective": "x" * 100_000,
                    "scope": {"kind": "file_set", "resources": ["a.py"]},
                },
                session=SID,
            )
            await ws.send(json.dumps(big))
            while (m := await recv_json(ws))["message_type"] != "PROTOCOL_ERROR":
                pass
            assert (
                m["payload"]["refers_to"] == big["message_id"]
                and m["in_reply_to"] == big["message_id"]
            )
            assert "over the limit of 65,536 bytes" in m["payload"]["description"]
        assert (
            await client.announce("small", ["a.py"])
        ).ok  # nothing of the refused one was applied
        await client.close()


async def test_open_profile_refuses_non_loopback(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "sidecar",
        "--host",
        "0.0.0.0",
        "--data-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"only binds loopback" in err


async def test_rejoin_after_client_restart_keeps_intents(tmp_path: Path) -> None:
    async with sidecar("--session-id", SID, data_dir=tmp_path) as sc:
        a = SessionClient(sc.url, "agent:a", session_id=SID)
        await a.connect()
        assert (await a.announce("keep", ["k.py"], intent_id="keep")).ok
        await a.abort()
        b = SessionClient(sc.url, "agent:a", session_id=SID)
        info = await b.connect()
        assert info["payload"]["extensions"]["mpac-bridge"]["rejoined"] is True
        assert b.view.intents["keep"]["state"] == "ACTIVE"
        await b.close()
        with pytest.raises(JoinRefused):
            await SessionClient(sc.url + "/session/nope", "agent:z").connect()

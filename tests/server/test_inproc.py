"""The sidecar served in-process with `serve_sidecar`: paths, session creation, connection limit,
replay protection, token precedence, clean shutdown and resume."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bridge.client import SessionClient
from bridge.core import CoordinatorConfig
from bridge.server.config import ServerConfig
from bridge.server.embed import RunningServer, serve_sidecar
from bridge.server.tokens import TokenTable
from bridge.store import SqliteStore
from tests.core.helpers import msg
from tests.server.wsread import recv_json, until

TOKENS = TokenTable.parse(
    {
        "alice-token-123": {"allowed_sessions": ["alpha"], "roles": ["contributor"]},
        "bob-token-4567": {"allowed_sessions": ["beta"], "roles": ["contributor"]},
        "carol-token-999": {"allowed_sessions": ["alpha"], "roles": ["contributor"]},
    }
)


def hello(principal: str, session: str, token: str | None = None) -> str:
    payload: dict = {"display_name": principal, "roles": ["contributor"]}
    if token:
        payload["credential"] = {"type": "bearer_token", "value": token}
    return json.dumps(msg("HELLO", principal, payload, session=session, now=time.time()))


@pytest.fixture
async def hosted(tmp_path: Path) -> AsyncIterator[RunningServer]:
    cfg = ServerConfig(
        multi_session=True, security_profile="authenticated", data_dir=tmp_path, max_connections=2
    )
    running = await serve_sidecar(
        cfg, CoordinatorConfig(security_profile="authenticated"), tokens=TOKENS
    )
    yield running
    await running.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/session/",
        "/session/a%20b",
        "/session/..",
        "/session/a/b",
        "/session/" + "a" * 129,
        "/other",
        "/session/-x",
    ],
)
async def test_multi_session_paths_are_validated(hosted: RunningServer, path: str) -> None:
    with pytest.raises(InvalidStatus) as exc:
        async with connect(hosted.url + path):
            pass
    assert exc.value.response.status_code == 404
    assert b"/session/<id>" in exc.value.response.body
    assert hosted.sidecar.hosts == {}


async def test_a_session_is_created_only_by_an_admitted_hello(
    hosted: RunningServer, tmp_path: Path
) -> None:
    async with connect(hosted.session_url("alpha")) as ws:
        assert hosted.sidecar.hosts == {}  # connecting creates nothing
        await ws.send(hello("agent:bob", "alpha", "bob-token-4567"))
        assert (await recv_json(ws))["payload"]["error_code"] == "CREDENTIAL_REJECTED"
    async with connect(hosted.session_url("alpha")) as ws:
        await ws.send(hello("agent:x", "alpha", None))
        assert (await recv_json(ws))["payload"]["error_code"] == "CREDENTIAL_REJECTED"
    async with connect(
        hosted.session_url("alpha")
    ) as ws:  # a valid token, but the core refuses the HELLO
        bad = msg(
            "HELLO",
            "agent:alice",
            {
                "roles": "not-a-list",
                "credential": {"type": "bearer_token", "value": "alice-token-123"},
            },
            session="alpha",
            now=time.time(),
        )
        await ws.send(json.dumps(bad))
        assert (await recv_json(ws))["message_type"] == "PROTOCOL_ERROR"
        with pytest.raises(ConnectionClosed):
            await recv_json(ws)
    assert hosted.sidecar.hosts == {}
    assert hosted.sidecar.store.sessions() == []
    async with connect(hosted.session_url("alpha")) as ws:
        await ws.send(hello("agent:alice", "alpha", "alice-token-123"))
        info = await until(ws, "SESSION_INFO")
        assert info["payload"]["granted_roles"] == ["contributor"]
        assert list(hosted.sidecar.hosts) == ["alpha"]


async def test_the_authorization_header_wins_over_the_hello_credential(
    hosted: RunningServer,
) -> None:
    bad_header = {"Authorization": "Bearer bob-token-4567"}
    async with connect(hosted.session_url("alpha"), additional_headers=bad_header) as ws:
        await ws.send(hello("agent:alice", "alpha", "alice-token-123"))
        assert (await recv_json(ws))["payload"]["error_code"] == "CREDENTIAL_REJECTED"
        with pytest.raises(ConnectionClosed):
            await recv_json(ws)
    good_header = {"Authorization": "Bearer alice-token-123"}
    async with connect(hosted.session_url("alpha"), additional_headers=good_header) as ws:
        await ws.send(hello("agent:alice", "alpha", "not-a-real-token"))
        assert (await until(ws, "SESSION_INFO"))["message_type"] == "SESSION_INFO"


async def test_replayed_message_id_and_old_ts_are_refused(hosted: RunningServer) -> None:
    async with connect(hosted.session_url("alpha")) as ws:
        await ws.send(hello("agent:alice", "alpha", "alice-token-123"))
        await until(ws, "SESSION_INFO")
        beat = msg(
            "HEARTBEAT",
            "agent:alice",
            {"status": "idle"},
            session="alpha",
            now=time.time(),
            mid="beat-1",
        )
        await ws.send(json.dumps(beat))
        await ws.send(json.dumps(beat))
        err = await until(ws, "PROTOCOL_ERROR")
        assert (
            err["payload"]["error_code"] == "REPLAY_DETECTED"
            and err["payload"]["refers_to"] == "beat-1"
        )
        old = msg(
            "HEARTBEAT",
            "agent:alice",
            {"status": "idle"},
            session="alpha",
            now=time.time() - 3600,
            mid="beat-old",
        )
        await ws.send(json.dumps(old))
        err = await until(ws, "PROTOCOL_ERROR")
        assert (
            err["payload"]["error_code"] == "REPLAY_DETECTED"
            and err["payload"]["refers_to"] == "beat-old"
        )


async def test_connections_per_session_are_limited(hosted: RunningServer) -> None:
    async with (
        connect(hosted.session_url("alpha")) as one,
        connect(hosted.session_url("alpha")) as two,
    ):
        for n, ws in enumerate((one, two)):
            await ws.send(hello(f"agent:a{n}", "alpha", "alice-token-123"))
            await until(ws, "SESSION_INFO")
        with pytest.raises(InvalidStatus) as exc:
            async with connect(hosted.session_url("alpha")):
                pass
        assert exc.value.response.status_code == 503
        assert b"connection limit" in exc.value.response.body
        async with connect(hosted.session_url("beta")) as other:  # another session is not affected
            await other.send(hello("agent:bob", "beta", "bob-token-4567"))
            await until(other, "SESSION_INFO")


async def test_clean_stop_closes_with_a_reason_and_the_session_resumes(tmp_path: Path) -> None:
    cfg = ServerConfig(session_id="local", data_dir=tmp_path)
    running = await serve_sidecar(cfg)
    client = SessionClient(running.url, "agent:a", session_id="local")
    await client.connect()
    epoch = client.session_info["coordinator_epoch"]
    assert (await client.announce("keep me", ["k.py"], intent_id="keep")).ok
    await client.abort()
    async with connect(running.url) as raw:
        await raw.send(hello("agent:raw", "local"))
        await until(raw, "SESSION_INFO")
        await running.stop()
        with pytest.raises(ConnectionClosed) as exc:
            while True:
                m = await recv_json(raw)
                assert m["message_type"] != "SESSION_CLOSE"  # the session stays resumable
        assert exc.value.rcvd is not None
        assert (exc.value.rcvd.code, exc.value.rcvd.reason) == (1001, "sidecar shutting down")
    store = SqliteStore(tmp_path / "journal.sqlite3")
    snap, rows = store.load("local")
    store.close()
    assert snap is not None and rows == []  # the final snapshot covers everything
    again = await serve_sidecar(cfg)
    try:
        b = SessionClient(again.url, "agent:b", session_id="local")
        await b.connect()
        assert b.session_info["coordinator_epoch"] == epoch + 1
        assert await b.wait_until(lambda v: "keep" in v.intents, 10)
        await b.close()
    finally:
        await again.stop()


async def test_open_profile_refuses_a_public_address(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="only binds loopback"):
        await serve_sidecar(ServerConfig(host="0.0.0.0", data_dir=tmp_path))
    running = await serve_sidecar(ServerConfig(host="127.0.0.1", data_dir=tmp_path / "ok"))
    await running.stop()
    await running.stop()  # stopping twice is harmless


async def test_listed_origin_is_accepted_and_others_refused(tmp_path: Path) -> None:
    running = await serve_sidecar(
        ServerConfig(session_id="o", data_dir=tmp_path, allow_origins=["https://ok.example"])
    )
    try:
        async with connect(running.url, additional_headers={"Origin": "https://ok.example"}) as ws:
            await ws.send(hello("agent:o", "o"))
            await until(ws, "SESSION_INFO")
        with pytest.raises(InvalidStatus) as exc:
            async with connect(
                running.url, additional_headers={"Origin": "https://ok.example.evil"}
            ):
                pass
        assert (
            exc.value.response.status_code == 403 and b"--allow-origin" in exc.value.response.body
        )
    finally:
        await running.stop()


async def test_another_token_cannot_take_over_a_known_principal(hosted: RunningServer) -> None:
    async with connect(hosted.session_url("alpha")) as alice:
        await alice.send(hello("agent:alice", "alpha", "alice-token-123"))
        await until(alice, "SESSION_INFO")
        async with connect(hosted.session_url("alpha")) as thief:
            await thief.send(hello("agent:alice", "alpha", "carol-token-999"))
            err = await recv_json(thief)
            assert err["payload"]["error_code"] == "CREDENTIAL_REJECTED"
            with pytest.raises(ConnectionClosed):
                await recv_json(thief)
        async with connect(hosted.session_url("alpha")) as carol:  # carol's token works for carol
            await carol.send(hello("agent:carol", "alpha", "carol-token-999"))
            await until(carol, "SESSION_INFO")


async def test_a_connection_without_hello_is_closed_with_a_reason(tmp_path: Path) -> None:
    running = await serve_sidecar(
        ServerConfig(session_id="h", data_dir=tmp_path, hello_timeout=0.5)
    )
    try:
        async with connect(running.url) as ws:
            with pytest.raises(ConnectionClosed) as exc:
                await asyncio.wait_for(ws.recv(), 30)
            assert exc.value.rcvd is not None and "no admitted HELLO" in exc.value.rcvd.reason
    finally:
        await running.stop()


async def test_a_second_hello_on_one_socket_does_not_double_deliveries(tmp_path: Path) -> None:
    running = await serve_sidecar(ServerConfig(session_id="d", data_dir=tmp_path))
    try:
        async with connect(running.url) as ws:
            for _ in range(2):
                await ws.send(hello("agent:twice", "d"))
                await until(ws, "SESSION_INFO")
            other = SessionClient(running.url, "agent:other", session_id="d")
            await other.connect()
            assert (await other.announce("one", ["one.py"], intent_id="one")).ok
            assert (await other.announce("two", ["two.py"], intent_id="two")).ok
            seen = []
            while "two" not in seen:
                m = await recv_json(ws)
                if m["message_type"] == "INTENT_ANNOUNCE":
                    seen.append(m["payload"]["intent_id"])
            assert seen == ["one", "two"]
            await other.close()
    finally:
        await running.stop()


async def test_idle_timeout_waits_for_the_last_participant_to_leave(tmp_path: Path) -> None:
    cfg = ServerConfig(session_id="i", data_dir=tmp_path, idle_timeout=2.0)
    running = await serve_sidecar(cfg, CoordinatorConfig(heartbeat_interval_sec=1.0))
    try:
        async with connect(running.url) as ws:
            await ws.send(hello("agent:stay", "i"))
            await until(ws, "SESSION_INFO")
            beats = 0
            while beats < 4:  # four coordinator heartbeats: well past the idle timeout
                m = await until(ws, "COORDINATOR_STATUS")
                beats += m["payload"].get("event") == "heartbeat"
            assert not running.sidecar.stopping.is_set()
        await asyncio.wait_for(running.wait_stopping(), 30)
    finally:
        await running.stop()

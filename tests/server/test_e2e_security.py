"""Authenticated profile, multi-session isolation and TLS against a real sidecar."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from bridge.client import JoinRefused, SessionClient
from tests.core.helpers import msg
from tests.support.sidecar import sidecar
from tests.support.tls import tls_files, token_table

pytestmark = pytest.mark.e2e
TABLE = {
    "alice-token-123": {"allowed_sessions": ["alpha"], "roles": ["contributor"]},
    "bob-token-4567": {"allowed_sessions": ["beta"], "roles": ["owner"]},
    "lead-token-890": {"allowed_sessions": ["*"], "roles": ["arbiter"]},
}


def table_file(tmp_path: Path) -> Path:
    return token_table(tmp_path, TABLE)


async def test_tokens_bind_sessions_and_roles(tmp_path: Path) -> None:
    async with sidecar(
        "--multi-session", "--token-table", str(table_file(tmp_path)), data_dir=tmp_path / "d"
    ) as sc:
        alice = SessionClient(
            sc.session_url("alpha"),
            "agent:alice",
            token="alice-token-123",
            roles=["owner", "arbiter"],
        )
        info = await alice.connect()
        assert info["payload"]["granted_roles"] == [
            "contributor"
        ]  # from the token, not the request
        assert info["payload"]["security_profile"] == "authenticated"
        with pytest.raises(JoinRefused) as exc:
            await SessionClient(
                sc.session_url("alpha"), "agent:bob", token="bob-token-4567"
            ).connect()
        assert exc.value.code == "CREDENTIAL_REJECTED"
        with pytest.raises(JoinRefused) as exc:
            await SessionClient(
                sc.session_url("gamma"), "agent:nobody", token="wrong-token-000"
            ).connect()
        assert exc.value.code == "CREDENTIAL_REJECTED"
        lead = SessionClient(sc.session_url("beta"), "human:lead", token="lead-token-890")
        await lead.connect()
        await alice.close()
        await lead.close()


async def test_header_token_and_rejected_hello_receives_nothing(tmp_path: Path) -> None:
    async with sidecar(
        "--multi-session", "--token-table", str(table_file(tmp_path)), data_dir=tmp_path / "d"
    ) as sc:
        member = SessionClient(sc.session_url("alpha"), "agent:alice", token="alice-token-123")
        await member.connect()
        async with connect(
            sc.session_url("alpha"), additional_headers={"Authorization": "Bearer bob-token-4567"}
        ) as ws:
            await ws.send(
                json.dumps(
                    msg(
                        "HELLO",
                        "agent:alice",
                        {"display_name": "thief"},
                        session="alpha",
                        now=time.time(),
                    )
                )
            )
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["payload"]["error_code"] == "CREDENTIAL_REJECTED"
            await member.announce("after the thief", ["x.py"])
            received = []
            try:
                async for raw in ws:
                    received.append(raw)
            except Exception:
                pass
            assert received == []
        reply = await member.announce("still routed to the real alice", ["y.py"])
        assert reply.ok
        await member.close()


async def test_tls_round_trip_and_plain_ws_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = tls_files(tmp_path)
    async with sidecar("--session-id", "tls", *tls.sidecar_args(), data_dir=tmp_path / "d") as sc:
        assert sc.url.startswith("wss://")
        client = SessionClient(
            sc.url, "agent:t", session_id="tls", ssl_context=tls.client_context()
        )
        await client.connect()
        assert (await client.announce("over tls", ["t.py"])).ok
        await client.close()
        # only a url, as the MCP server and the dashboard pass: the CA comes from SSL_CERT_FILE
        untrusted = SessionClient(sc.url, "agent:u", session_id="tls")
        with pytest.raises(
            JoinRefused, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"
        ):
            await untrusted.connect()
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
        with pytest.raises(JoinRefused, match="check SSL_CERT_FILE"):
            await SessionClient(sc.url, "agent:u", session_id="tls").connect()
        monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_pem))
        by_url = SessionClient(sc.url, "agent:u", session_id="tls")
        await by_url.connect()
        assert (await by_url.announce("url only", ["u.py"])).ok
        await by_url.close()
        with pytest.raises(Exception):  # noqa: B017 - any failure: plain ws must not work on a TLS port
            async with connect(sc.url.replace("wss://", "ws://"), open_timeout=5):
                pass

"""Routing through a real nginx with the config shipped in docs/hosted.md: sessions spread over
the nodes, a connection that reaches the wrong node is redirected to the holder, and every node
applies the same security."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.bench.nginxproc import Nginx, nginx_for
from bridge.client import JoinRefused, SessionClient
from tests.support.fleet import lease, query, start_node
from tests.support.sidecar import RunningSidecar
from tests.support.tls import tls_files, token_table

pytestmark = pytest.mark.e2e


@contextlib.asynccontextmanager
async def fleet(
    pg_url: str, root: Path, names: list[str], *args: str
) -> AsyncIterator[tuple[list[RunningSidecar], Nginx]]:
    nodes = [await start_node(pg_url, name, root, *args, proxied=True) for name in names]
    try:
        with nginx_for({name: node.port for name, node in zip(names, nodes, strict=True)}) as proxy:
            yield nodes, proxy
    finally:
        for node in nodes:
            await node.stop()


async def test_sessions_spread_over_every_node_and_any_node_sends_a_client_to_the_holder(
    pg_url: str, tmp_path: Path, nginx_ok: None
) -> None:
    async with fleet(pg_url, tmp_path, ["n1", "n2", "n3"]) as (_nodes, proxy):
        sids = [f"s{n:02d}" for n in range(20)]
        first = [SessionClient(proxy.session_url(sid), f"agent:first-{sid}") for sid in sids]
        for client, sid in zip(first, sids, strict=True):
            await client.connect()
            assert (await client.announce("hold", [f"{sid}.py"], intent_id=f"{sid}-i")).ok
        holders = {sid: lease(pg_url, sid)[0] for sid in sids}
        per_node = collections.Counter(holders.values())
        print(f"sessions per node: {dict(sorted(per_node.items()))}")
        assert set(per_node) == {"n1", "n2", "n3"}, (
            per_node
        )  # every node serves some: a fleet uses every core
        # a second and third client per session land on whichever node nginx picks: all reach the holder
        others = [
            SessionClient(proxy.session_url(sid), f"agent:{k}-{sid}")
            for sid in sids
            for k in ("b", "c")
        ]
        await asyncio.gather(*(c.connect() for c in others))
        for c in others:
            assert f"{c.session_id}-i" in c.view.intents  # the same coordinator as the first client
            assert c.session_info["coordinator_epoch"] == 1
        assert {sid: lease(pg_url, sid)[0] for sid in sids} == holders  # nobody stole a live lease
        # the redirect itself: a node that does not hold s00 answers 307 to /node/<holder>/session/s00
        holder = holders["s00"]
        other = next(n for n in ("n1", "n2", "n3") if n != holder)
        status, headers = await handshake(proxy.port, f"/node/{other}/session/s00?x=1")
        assert status == 307
        assert headers["location"] == f"/node/{holder}/session/s00?x=1"
        # the hooks' and `status`'s minimal client follows the redirect too (any node nginx picks)
        for sid in sids[:3]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bridge",
                "status",
                "--url",
                proxy.session_url(sid),
                "--json",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            assert f"{sid}-i" in out.decode()
        for c in first + others:
            await c.close()


async def handshake(
    port: int, path: str, extra: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    """One WebSocket upgrade request, redirects not followed: (status, lower-cased headers)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in (extra or {}).items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    writer.close()
    status_line, *rest = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in rest if h)}
    return int(status_line.split()[1]), headers


TABLE = {
    "alice-token-123": {"allowed_sessions": ["alpha"], "roles": ["contributor"]},
    "bob-token-4567": {"allowed_sessions": ["beta"], "roles": ["owner"]},
}


async def test_every_node_applies_the_token_table_and_the_origin_check(
    pg_url: str, tmp_path: Path, nginx_ok: None
) -> None:
    table = token_table(tmp_path, TABLE)
    async with fleet(pg_url, tmp_path, ["n1", "n2"], "--token-table", str(table)) as (
        _nodes,
        proxy,
    ):
        alice = SessionClient(proxy.session_url("alpha"), "agent:alice", token="alice-token-123")
        await alice.connect()
        for _ in range(4):  # round robin: each node answers at least once
            with pytest.raises(JoinRefused) as refused:
                await SessionClient(
                    proxy.session_url("alpha"), "agent:bob", token="bob-token-4567"
                ).connect()
            assert refused.value.code == "CREDENTIAL_REJECTED"
            with pytest.raises(JoinRefused) as unknown:
                await SessionClient(
                    proxy.session_url("gamma"), "agent:eve", token="forged-token-000"
                ).connect()
            assert unknown.value.code == "CREDENTIAL_REJECTED"
            status, _ = await handshake(
                proxy.port, "/session/alpha", {"Origin": "https://evil.example"}
            )
            assert status == 403
        assert lease(pg_url, "gamma") is None  # a refused principal creates nothing, on any node
        assert query(pg_url, "SELECT count(*) FROM mpac_journal WHERE session_id = 'gamma'") == [
            (0,)
        ]
        again = SessionClient(proxy.session_url("alpha"), "agent:alice", token="alice-token-123")
        await again.connect()
        assert again.session_info["payload"]["granted_roles"] == ["contributor"]
        await alice.close()
        await again.close()


async def test_tls_nodes_send_a_client_to_the_holders_wss_address(
    pg_url: str, tmp_path: Path
) -> None:
    tls = tls_files(tmp_path)
    table = token_table(tmp_path, TABLE)
    a = await start_node(pg_url, "a", tmp_path, *tls.sidecar_args(), "--token-table", str(table))
    b = await start_node(pg_url, "b", tmp_path, *tls.sidecar_args(), "--token-table", str(table))
    try:
        assert a.url.startswith("wss://") and b.url.startswith("wss://")
        first = SessionClient(
            a.session_url("alpha"),
            "agent:alice",
            token="alice-token-123",
            ssl_context=tls.client_context(),
        )
        await first.connect()
        assert (await first.announce("over tls", ["t.py"], intent_id="t")).ok
        # b redirects to a's wss:// address (another origin: websockets drops the Authorization
        # header, the HELLO credential still carries the token)
        second = SessionClient(
            b.session_url("alpha"),
            "agent:alice2",
            token="alice-token-123",
            ssl_context=tls.client_context(),
        )
        await second.connect()
        assert "t" in second.view.intents and lease(pg_url, "alpha")[0] == "a"
        with pytest.raises(JoinRefused) as refused:
            await SessionClient(
                b.session_url("alpha"),
                "agent:bob",
                token="bob-token-4567",
                ssl_context=tls.client_context(),
            ).connect()
        assert refused.value.code == "CREDENTIAL_REJECTED"
        await first.close()
        await second.close()
    finally:
        await a.stop()
        await b.stop()

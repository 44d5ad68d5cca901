"""Outbound frames against a real sidecar: a broadcast is framed once and written at the end of the
event-loop turn for plain connections, and sent through a per-connection writer for compressed ones.
Both kinds must get every message once, whole and in order, also in a burst."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.core.helpers import fs, msg
from tests.support.sidecar import sidecar

pytestmark = pytest.mark.e2e
SID = "outbox"
BURST = 60


async def join(ws: ClientConnection, pid: str) -> None:
    await ws.send(
        json.dumps(msg("HELLO", pid, {"display_name": pid}, session=SID, now=time.time()))
    )
    while json.loads(await asyncio.wait_for(ws.recv(), 10))["message_type"] != "SESSION_INFO":
        pass


async def announced(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while len(seen) < count:
        m = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if m["message_type"] == "INTENT_ANNOUNCE":
            seen.append(m)
    return seen


async def test_plain_and_compressed_clients_get_a_burst_whole_and_in_order(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, "--compress", "--rate", "100000", data_dir=tmp_path) as sc,
        connect(sc.url, compression=None) as plain,
        connect(sc.url) as packed,
        connect(sc.url, compression=None) as sender,
    ):
        assert (
            plain.response is not None and "Sec-WebSocket-Extensions" not in plain.response.headers
        )
        assert packed.response is not None and "permessage-deflate" in packed.response.headers.get(
            "Sec-WebSocket-Extensions", ""
        )
        await join(plain, "agent:plain")
        await join(packed, "agent:packed")
        await join(sender, "agent:sender")
        objective = "x" * 300 + "é✓"  # multi-byte text and a 2-byte length header
        for n in range(BURST):  # sent without waiting, so many land in one turn of the sidecar
            payload = {
                "intent_id": f"i{n}",
                "objective": f"{objective} {n}",
                "scope": fs(f"f{n}.py"),
                "ttl_sec": 600,
            }
            await sender.send(
                json.dumps(
                    msg(
                        "INTENT_ANNOUNCE",
                        "agent:sender",
                        payload,
                        session=SID,
                        now=time.time(),
                        mid=f"m{n}",
                        lamport=n + 2,
                    )
                )
            )
        for ws in (plain, packed, sender):
            seen = await announced(ws, BURST)
            assert [m["payload"]["intent_id"] for m in seen] == [f"i{n}" for n in range(BURST)]
            assert all(m["payload"]["objective"] == f"{objective} {n}" for n, m in enumerate(seen))

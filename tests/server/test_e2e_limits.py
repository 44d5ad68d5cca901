"""Limits against a real sidecar: a slow consumer is cut off with a reason, others are unaffected;
the per-connection rate limit answers with a reason."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bridge.client import SessionClient
from tests.core.helpers import msg
from tests.support.sidecar import sidecar

pytestmark = pytest.mark.e2e
SID = "limits"


def raw_client(port: int, hello: dict, compress: bool = False) -> socket.socket:
    """A WebSocket client by hand that joins and then never reads: a truly slow consumer."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if compress else ""
    sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n", 1)[0]
    assert (b"permessage-deflate" in head) == compress
    data = json.dumps(hello).encode()
    mask = os.urandom(4)
    frame = bytes([0x81, 0x80 | 126]) + struct.pack("!H", len(data)) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    sock.sendall(frame)
    return sock


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "compressed"])
async def test_slow_consumer_is_cut_off_and_others_are_unaffected(tmp_path: Path, compress: bool) -> None:
    """A plain connection is cut off at 8 MiB of unread frames; a compressed one (its own writer
    task) when --send-queue-limit messages wait for that writer."""
    flags = ("--compress",) if compress else ()
    async with sidecar("--session-id", SID, "--send-queue", "16", "--rate", "100000", *flags, data_dir=tmp_path) as sc:
        slow = raw_client(sc.port, msg("HELLO", "agent:slow", {"display_name": "slow"}, session=SID, now=time.time()), compress)
        fast = SessionClient(sc.url, "agent:fast", session_id=SID)
        await fast.connect()
        assert await fast.wait_until(lambda v: "agent:slow" in v.participants, 10)
        big = base64.b64encode(os.urandom(45_000)).decode()  # 60 kB that deflate cannot shrink much
        log = sc.stderr_path
        for n in range(2000):
            reply = await fast.announce(big, [f"f{n}.py"], intent_id=f"big{n}")
            assert reply.ok  # the fast client never waits on the slow one
            await fast.withdraw(f"big{n}")
            if n % 20 == 0 and "slow consumer" in log.read_text():
                break
        assert ("send queue full (slow consumer)" if compress else "bytes unsent (slow consumer)") in log.read_text()
        assert (await fast.announce("still fine", ["ok.py"])).ok
        await fast.close()
        slow.close()


async def test_rate_limit_is_reported(tmp_path: Path) -> None:
    async with sidecar("--session-id", SID, "--rate", "5", data_dir=tmp_path) as sc, connect(sc.url) as ws:
        await ws.send(json.dumps(msg("HELLO", "agent:r", {"display_name": "r"}, session=SID, now=time.time())))
        await ws.recv()
        for n in range(30):
            try:
                await ws.send(json.dumps(msg("HEARTBEAT", "agent:r", {"status": "idle"}, session=SID, now=time.time(), mid=f"h{n}")))
            except ConnectionClosed:
                break
        seen = []
        with pytest.raises(ConnectionClosed) as exc:
            while True:
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
        assert any("rate limit" in m["payload"].get("description", "") for m in seen)
        assert exc.value.rcvd is not None and "rate limit" in exc.value.rcvd.reason


async def test_compression_is_off_unless_asked_for(tmp_path: Path) -> None:
    """Frames are small and broadcast to every client: deflating each one per client costs CPU (and
    mixes attacker text with secrets under TLS), so the sidecar declines it by default."""
    async with sidecar("--session-id", SID, data_dir=tmp_path / "a") as sc, connect(sc.url) as ws:
        assert ws.response is not None and "Sec-WebSocket-Extensions" not in ws.response.headers
    async with sidecar("--session-id", SID, "--compress", data_dir=tmp_path / "b") as sc, connect(sc.url) as ws:
        assert ws.response is not None and "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")

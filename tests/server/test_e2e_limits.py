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


def raw_client(
    port: int, hello: dict, compress: bool = False, rcvbuf: int | None = 4096
) -> socket.socket:
    """A WebSocket client by hand that joins and then never reads: a truly slow consumer."""
    sock = socket.create_connection(("127.0.0.1", port))
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    key = base64.b64encode(os.urandom(16)).decode()
    ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if compress else ""
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n", 1)[0]
    assert (b"permessage-deflate" in head) == compress
    data = json.dumps(hello).encode()
    mask = os.urandom(4)
    frame = (
        bytes([0x81, 0x80 | 126])
        + struct.pack("!H", len(data))
        + mask
        + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    )
    sock.sendall(frame)
    return sock


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "compressed"])
async def test_slow_consumer_is_cut_off_and_others_are_unaffected(
    tmp_path: Path, compress: bool
) -> None:
    """A plain connection is cut off at 8 MiB of unread frames; a compressed one (its own writer
    task) when --send-queue-limit messages wait for that writer."""
    flags = ("--compress",) if compress else ()
    async with sidecar(
        "--session-id", SID, "--send-queue", "16", "--rate", "100000", *flags, data_dir=tmp_path
    ) as sc:
        slow = raw_client(
            sc.port,
            msg("HELLO", "agent:slow", {"display_name": "slow"}, session=SID, now=time.time()),
            compress,
        )
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
        assert (
            "send queue full (slow consumer)" if compress else "bytes unsent (slow consumer)"
        ) in log.read_text()
        assert (await fast.announce("still fine", ["ok.py"])).ok
        await fast.close()
        slow.close()


def read_to_eof(sock: socket.socket, timeout: float) -> tuple[list[tuple[int, bytes]], str]:
    """Read server frames until the TCP connection ends: the control frames seen (opcode, payload)
    and how it ended ("eof", "reset" or "timeout")."""
    deadline = time.monotonic() + timeout
    buf = b""
    controls: list[tuple[int, bytes]] = []

    def need(n: int) -> bytes | None:
        nonlocal buf
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            chunk = sock.recv(1 << 20)
            if not chunk:
                return None
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out

    try:
        while True:
            head = need(2)
            if head is None:
                return controls, "eof"
            opcode, size = head[0] & 0x0F, head[1] & 0x7F
            if size == 126:
                size = struct.unpack("!H", need(2) or b"\0\0")[0]
            elif size == 127:
                size = struct.unpack("!Q", need(8) or b"\0" * 8)[0]
            body = need(size) if size else b""
            if body is None:
                return controls, "eof"
            if opcode >= 0x8:
                controls.append((opcode, body))
    except ConnectionResetError:
        return controls, "reset"
    except TimeoutError:
        return controls, "timeout"


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "compressed"])
async def test_a_cut_off_slow_consumer_gets_the_close_frame_and_leaves_the_session_at_once(
    tmp_path: Path, compress: bool
) -> None:
    """Issue 13: the close frame (1008, the reason) reaches the client right after what was already
    on its way, the server closes the TCP connection without waiting for a closing handshake, and
    every view shows the client disconnected at once."""
    from bridge.workspace.cli_status import fetch_state

    flags = ("--compress",) if compress else ()
    async with sidecar(
        "--session-id", SID, "--send-queue", "16", "--rate", "100000", *flags, data_dir=tmp_path
    ) as sc:
        # reads nothing until it is cut off, then everything as fast as it can (default socket buffers,
        # so that reading what the kernels hold takes milliseconds, not minutes)
        slow = raw_client(
            sc.port,
            msg("HELLO", "agent:slow", {"display_name": "slow"}, session=SID, now=time.time()),
            compress,
            None,
        )
        fast = SessionClient(sc.url, "agent:fast", session_id=SID)
        await fast.connect()
        assert await fast.wait_until(
            lambda v: v.participants.get("agent:slow", {}).get("connected") is True, 10
        )
        big = base64.b64encode(os.urandom(45_000)).decode()
        for n in range(2000):
            await fast.announce(big, [f"f{n}.py"], intent_id=f"big{n}")
            await fast.withdraw(f"big{n}")
            if n % 20 == 0 and "slow consumer" in sc.stderr_path.read_text():
                break
        assert "slow consumer" in sc.stderr_path.read_text()
        assert await fast.wait_until(
            lambda v: v.participants["agent:slow"]["connected"] is False, 5
        )
        status = await asyncio.to_thread(fetch_state, sc.url, SID)
        assert {p["principal_id"]: p["connected"] for p in status["participants"]} == {
            "agent:slow": False,
            "agent:fast": True,
        }
        started = time.monotonic()
        controls, ending = await asyncio.to_thread(read_to_eof, slow, 8.0)
        took = time.monotonic() - started
        slow.close()
        assert ending == "eof", (ending, controls, took)
        closes = [body for opcode, body in controls if opcode == 0x8]
        assert len(closes) == 1 and struct.unpack("!H", closes[0][:2])[0] == 1008, controls
        assert "reads too slowly" in closes[0][2:].decode()
        assert took < 5.0  # no closing handshake awaited (websockets would wait 10 s for one)
        await fast.close()


async def test_rate_limit_is_reported(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, "--rate", "5", data_dir=tmp_path) as sc,
        connect(sc.url) as ws,
    ):
        await ws.send(
            json.dumps(msg("HELLO", "agent:r", {"display_name": "r"}, session=SID, now=time.time()))
        )
        await ws.recv()
        for n in range(30):
            try:
                await ws.send(
                    json.dumps(
                        msg(
                            "HEARTBEAT",
                            "agent:r",
                            {"status": "idle"},
                            session=SID,
                            now=time.time(),
                            mid=f"h{n}",
                        )
                    )
                )
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
    async with (
        sidecar("--session-id", SID, "--compress", data_dir=tmp_path / "b") as sc,
        connect(sc.url) as ws,
    ):
        assert ws.response is not None and "permessage-deflate" in ws.response.headers.get(
            "Sec-WebSocket-Extensions", ""
        )

"""The benchmarks' load client: a lean raw WebSocket client on asyncio's Protocol API.

Every client of a closed loop receives every broadcast, so at 10 clients and 10,000 messages/s the
benchmark process reads 100,000 frames a second. A general-purpose client (the `websockets`
library) spends about as much CPU per frame as the sidecar spends per message, which made the
benchmark, not the sidecar, the limit. This client splits frames by their header and never
decodes a payload: a request is matched by searching the frame for its quoted message id (the
relay of an announce keeps the id; a reply names it in `refers_to`). Pings are answered.

Outgoing frames are masked with the all-zero key: RFC 6455 requires a mask, not a random one
(the randomness protects caching proxies, and there are none on loopback), and a zero key leaves
the payload as it is. The same client drives our sidecar and the reference server, so their
figures compare like for like.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import struct
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from bridge.client.wire import CLOSE, MAX_REDIRECTS, PING, PONG, TEXT, Redirected, encode_frame
from bridge.protocol.constants import PROTOCOL, PROTOCOL_VERSION
from bridge.protocol.stamps import format_ts

SID = "bench"
ZERO_KEY = b"\0\0\0\0"
_ids = itertools.count(1)


def frame(mtype: str, pid: str, payload: dict[str, Any], session_id: str = SID) -> tuple[str, str]:
    """(message id, JSON text) of a fresh envelope from `pid`."""
    mid = f"{pid}-{next(_ids)}"
    env = {
        "protocol": PROTOCOL,
        "version": PROTOCOL_VERSION,
        "message_type": mtype,
        "message_id": mid,
        "session_id": session_id,
        "sender": {
            "principal_id": pid,
            "principal_type": "agent",
            "sender_instance_id": f"{pid}#1",
        },
        "ts": format_ts(time.time()),
        "payload": payload,
    }
    return mid, json.dumps(env)


def _key(mid: str) -> bytes:
    return json.dumps(mid).encode()


class LeanClient(asyncio.Protocol):
    """One connection. `expect(mid)` gives a future resolved (with `time.perf_counter()`) by the first
    frame that contains the quoted id; `errors` counts matched frames that were PROTOCOL_ERRORs."""

    def __init__(self, pid: str, session_id: str = SID) -> None:
        self.pid, self.session_id = pid, session_id
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.open = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting: dict[bytes, asyncio.Future[float]] = {}
        self.received = 0
        self.errors = 0
        self.last_error = ""

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        err = ConnectionError(f"{self.pid}: the server closed the connection")
        futures: list[asyncio.Future[Any]] = [self.opened, self.closed, *self.waiting.values()]
        for fut in futures:
            if not fut.done():
                if fut is self.closed:
                    fut.set_result(None)
                else:
                    fut.set_exception(err)
        self.waiting.clear()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.open:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            del self.buf[: end + 4]
            code = head[0].split(" ")[1:2]
            if code != ["101"]:
                fields = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in head[1:])
                }
                if (
                    code
                    and code[0] in ("301", "302", "303", "307", "308")
                    and fields.get("location")
                ):
                    self.opened.set_exception(
                        Redirected(code[0], fields["location"])
                    )  # a fleet node names the holder
                else:
                    self.opened.set_exception(ConnectionError(f"upgrade refused: {head[0]}"))
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            self.opened.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buf, pos, size = self.buf, 0, len(self.buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n, head = b1 & 0x7F, 2
            if n == 126:
                if size - pos < 4:
                    break
                n, head = struct.unpack_from("!H", buf, pos + 2)[0], 4
            elif n == 127:
                if size - pos < 10:
                    break
                n, head = struct.unpack_from("!Q", buf, pos + 2)[0], 10
            if size - pos < head + n:
                break
            start = pos + head
            pos = start + n
            opcode = b0 & 0x0F
            if opcode == TEXT or opcode == 0:
                self.received += 1
                if self.waiting:
                    self._match(buf, start, pos)
            elif opcode == PING:
                self._write(PONG, bytes(buf[start:pos]))
            elif opcode == CLOSE:
                self._write(CLOSE, bytes(buf[start:pos])[:2])
                assert self.transport is not None
                self.transport.close()
        del buf[:pos]

    def _match(self, buf: bytearray, start: int, end: int) -> None:
        """Resolve the futures whose key occurs in buf[start:end] (searched in place, not copied)."""
        hits = [k for k in self.waiting if buf.find(k, start, end) >= 0]
        if not hits:
            return
        if buf.find(b'"PROTOCOL_ERROR"', start, end) >= 0:
            self.errors += 1
            self.last_error = bytes(buf[start : min(end, start + 300)]).decode(errors="replace")
        now = time.perf_counter()
        for key in hits:
            fut = self.waiting.pop(key)
            if not fut.done():
                fut.set_result(now)

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload, ZERO_KEY))

    # --- use -------------------------------------------------------------------------------------

    def expect_key(self, key: bytes) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[key] = fut
        return fut

    def expect(self, mid: str) -> asyncio.Future[float]:
        return self.expect_key(_key(mid))

    def send_text(self, text: str) -> None:
        self._write(TEXT, text.encode())

    def send(self, mtype: str, payload: dict[str, Any]) -> tuple[str, asyncio.Future[float]]:
        """Send a fresh message; the future resolves when a frame naming it comes back."""
        mid, text = frame(mtype, self.pid, payload, self.session_id)
        fut = self.expect(mid)
        self.send_text(text)
        return mid, fut

    async def request(
        self, mtype: str, payload: dict[str, Any], timeout: float | None = 60
    ) -> float:
        """Send and wait for the answer. `timeout=None` waits without a timer (cheaper, for the closed
        loop, whose sampler notices a coordinator that stopped answering)."""
        _mid, fut = self.send(mtype, payload)
        return await (fut if timeout is None else asyncio.wait_for(fut, timeout))

    async def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self._write(CLOSE, struct.pack("!H", 1000))
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), 5)
        except TimeoutError:
            self.transport.close()


async def connect(url: str, pid: str, session_id: str = SID) -> LeanClient:
    """Connect and upgrade, following redirects (a fleet node sends a client to its session's node)."""
    for _ in range(MAX_REDIRECTS + 1):
        try:
            return await _connect_once(url, pid, session_id)
        except Redirected as redirect:
            url = urljoin(url, redirect.location)
    raise ConnectionError(f"more than {MAX_REDIRECTS} redirects")


async def _connect_once(url: str, pid: str, session_id: str) -> LeanClient:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    loop = asyncio.get_running_loop()
    _transport, client = await loop.create_connection(
        lambda: LeanClient(pid, session_id), host, port
    )
    key = base64.b64encode(os.urandom(16)).decode()
    assert client.transport is not None
    client.transport.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await asyncio.wait_for(client.opened, 30)
    return client


async def join(url: str, pid: str, session_id: str = SID) -> LeanClient:
    """Connect and HELLO; returns once SESSION_INFO arrived."""
    client = await connect(url, pid, session_id)
    welcome = client.expect_key(b'"SESSION_INFO"')
    _mid, text = frame(
        "HELLO",
        pid,
        {"display_name": pid, "roles": ["contributor"], "capabilities": []},
        session_id,
    )
    client.send_text(text)
    await asyncio.wait_for(welcome, 30)
    return client

"""One WebSocket connection: bounded send queue, rate limit, principal binding."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("mpac.sidecar")
MAX_BACKLOG = 8 * 1024 * 1024  # unsent bytes per connection before a slow client is cut off


class Conn:
    def __init__(self, ws: ServerConnection, queue_size: int, rate: float, burst: float, now: float) -> None:
        self.ws = ws
        self.principal: str | None = None
        self.session_id: str | None = None
        self.header_token: str | None = None
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, now
        self.closing = False
        self.strikes = 0  # consecutive messages dropped by the rate limit
        self.writer = asyncio.get_running_loop().create_task(self._write())

    def allow(self, now: float) -> bool:
        """Token bucket: `rate` messages per second with bursts up to `burst`."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def send(self, message: dict[str, Any] | str) -> None:
        if self.closing:
            return
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        transport = getattr(self.ws, "transport", None)
        backlog = transport.get_write_buffer_size() if transport is not None else 0
        if backlog > MAX_BACKLOG:  # bytes the kernel would not take: the client is not reading
            log.warning("closing %s: %d bytes unsent (slow consumer)", self.principal or "connection", backlog)
            self.close(1008, "send queue overflow: this client reads too slowly")
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("closing %s: send queue full (slow consumer)", self.principal or "connection")
            self.close(1008, "send queue overflow: this client reads too slowly")

    def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason[:120])

    async def flush_and_close(self, code: int, reason: str) -> None:
        """Send what is queued, then close (used for a rejected HELLO)."""
        self.closing = True
        await self.queue.put(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer, 5)
        await self._close(code, reason)

    async def _write(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                if text is None:
                    return
                await self.ws.send(text)
        except ConnectionClosed:
            pass
        except asyncio.CancelledError:
            raise

    def stop(self) -> None:
        self.writer.cancel()

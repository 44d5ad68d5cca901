"""One WebSocket connection: outbound frames, slow-consumer limits, rate limit, principal binding.

Frames are collected in `pending` and written by the sidecar's Outbox at the end of the event-loop
turn. A connection that negotiated no extension (the default: compression is off unless
`--compress`) gets the broadcast's shared pre-built frame written straight to its transport, in one
write per turn. A compressed connection needs per-connection framing, so its
messages go through a bounded queue drained by a writer task with `ws.send`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from bridge.server.outbox import Outbox

log = logging.getLogger("mpac.sidecar")
MAX_BACKLOG = 8 * 1024 * 1024  # unsent bytes per connection before a slow client is cut off


def text_frame(text: str) -> bytes:
    """One unmasked, unfragmented server text frame: the same bytes for every plain recipient."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class Conn:
    def __init__(self, ws: ServerConnection, outbox: Outbox, queue_size: int, rate: float, burst: float, now: float) -> None:
        self.ws = ws
        self.outbox = outbox
        self.direct = not getattr(getattr(ws, "protocol", None), "extensions", None)
        self.pending: list[Any] = []  # frames (direct) or texts (queued) not yet handed on
        self.pending_bytes = 0
        self.principal: str | None = None
        self.session_id: str | None = None
        self.header_token: str | None = None
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, now
        self.closing = False
        self.strikes = 0  # consecutive messages dropped by the rate limit
        self.writer: asyncio.Task[None] | None = None if self.direct else asyncio.get_running_loop().create_task(self._write())

    def allow(self, now: float) -> bool:
        """Token bucket: `rate` messages per second with bursts up to `burst`."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def send(self, message: dict[str, Any] | str, frame: bytes | None = None) -> None:
        """Queue one message for the end of this turn; `frame` is its pre-built text frame, when the
        caller shares one among recipients."""
        if self.closing:
            return
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        if self.direct:
            data = frame if frame is not None else text_frame(text)
            self.pending.append(data)
            self.pending_bytes += len(data)
        elif self.queue.qsize() + len(self.pending) >= self.queue.maxsize:
            log.warning("closing %s: send queue full (slow consumer)", self.principal or "connection")
            self.abort(1008, "send queue overflow: this client reads too slowly")
            return
        else:
            self.pending.append(text)
        transport = getattr(self.ws, "transport", None)
        backlog = self.pending_bytes + (transport.get_write_buffer_size() if transport is not None else 0)
        if backlog > MAX_BACKLOG:  # bytes the kernel would not take: the client is not reading
            log.warning("closing %s: %d bytes unsent (slow consumer)", self.principal or "connection", backlog)
            self.abort(1008, "send queue overflow: this client reads too slowly")
            return
        self.outbox.mark(self)

    def flush(self) -> None:
        """Hand this turn's messages on (called by the Outbox at the end of the turn)."""
        pending, self.pending, self.pending_bytes = self.pending, [], 0
        if not pending:
            return
        if not self.direct:
            for text in pending:
                self.queue.put_nowait(text)  # room was checked in send()
            return
        transport = getattr(self.ws, "transport", None)
        if transport is None or transport.is_closing() or self.ws.protocol.state is not State.OPEN:
            return  # closing or closed: the peer gets the close frame's reason instead
        transport.writelines(pending)

    def abort(self, code: int, reason: str) -> None:
        """Close without sending what is pending."""
        self.pending, self.pending_bytes = [], 0
        self.close(code, reason)

    def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        if self.pending:  # what was sent before the close goes out before the close frame
            self.outbox.flush()
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason[:120])

    async def flush_and_close(self, code: int, reason: str) -> None:
        """Send what is queued, then close (used for a rejected HELLO)."""
        self.closing = True
        if self.pending:
            self.outbox.flush()
        if self.writer is not None:
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
        if self.writer is not None:
            self.writer.cancel()

"""One WebSocket connection: outbound frames, slow-consumer limits, rate limit, principal binding.

Frames are collected in `pending`; at the end of the event-loop turn the sidecar's Outbox takes
them (`take`) and, once the turn's journal entries have committed, writes them (`write`). A connection that negotiated no extension (the default: compression is off unless
`--compress`) gets the broadcast's shared pre-built frame written straight to its transport, in one
write per turn. While the transport holds more than WRITE_HIGH unsent bytes (the client reads
slower than we write), further frames wait in our own `backlog`, whole frames only, and a pump
task hands them on as the transport drains. A compressed connection needs per-connection framing,
so its messages go through a bounded queue drained by a writer task with `ws.send`.

Both ways, what waits in user space stays small and frame-aligned, so a slow consumer that is cut
off gets its close frame right after the few frames already handed to the transport: the rest is
dropped, the close frame (1008, with the reason) and the end of the TCP stream follow at once, and
no closing handshake is awaited (`cut_off`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from bridge.protocol.codec import encode
from bridge.protocol.constants import CloseCode
from bridge.protocol.dialect import to_reference_dialect
from bridge.server.outbox import Outbox

log = logging.getLogger("mpac.sidecar")
MAX_BACKLOG = 8 * 1024 * 1024  # unsent bytes per connection before a slow client is cut off
WRITE_HIGH = 64 * 1024  # bytes the transport may hold before frames wait in the backlog instead
CLOSE_GRACE = 10.0  # seconds a cut-off client gets to read its last frames and the close frame
SLOW = "send queue overflow: this client reads too slowly"


def text_frame(text: str | bytes) -> bytes:
    """One unmasked, unfragmented server text frame (RFC 6455 §5.2) of UTF-8 text: the same bytes
    for every plain recipient. Built here rather than by websockets' Frame: a broadcast is framed
    once per message, so this is on the hot path."""
    data = text.encode() if isinstance(text, str) else text
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 0x10000:
        return b"\x81\x7e" + n.to_bytes(2, "big") + data
    return b"\x81\x7f" + n.to_bytes(8, "big") + data


class Conn:
    def __init__(
        self,
        ws: ServerConnection,
        outbox: Outbox,
        queue_size: int,
        rate: float,
        burst: float,
        now: float,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.ws = ws
        self.outbox = outbox
        self.direct = not getattr(getattr(ws, "protocol", None), "extensions", None)
        self.pending: list[Any] = []  # frames (direct) or texts (queued) not yet handed on
        self.pending_bytes = 0
        self.sealed_bytes = 0  # frames taken by the Outbox, waiting for their turn's commit
        self.principal: str | None = None
        self.session_id: str | None = None
        self.header_token: str | None = None
        # Unbounded: send() enforces `queue_size` itself, so a join's replay may exceed it.
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.queue_size = queue_size
        self.max_backlog = max_backlog
        # A join's replay (SESSION_INFO and the live state, queued in the joining turn) is not
        # counted against the limits: `joining` during that turn, then `exempt_bytes` /
        # `exempt_msgs`, what of it the client has not taken yet (shrinking as it reads).
        self.joining = False
        self.exempt_bytes = 0
        self.exempt_msgs = 0
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, now
        self.closing = False
        self.closer: asyncio.Task[None] | None = None  # close(): the frames, then the close frame
        self.strikes = 0  # consecutive messages dropped by the rate limit
        self.backlog: deque[bytes] = (
            deque()
        )  # direct mode: whole frames waiting for the transport to drain
        self.backlog_bytes = 0
        self.buffered = 0  # bytes the transport held at the last send()
        self.pump: asyncio.Task[None] | None = None
        self.on_lost: Callable[[Conn], None] | None = (
            None  # told at once when the sidecar cuts the connection off
        )
        self.reference = False  # joined in the reference package's dialect: envelopes it can parse
        self.writer: asyncio.Task[None] | None = (
            None if self.direct else asyncio.get_running_loop().create_task(self._write())
        )

    def allow(self, now: float) -> bool:
        """Token bucket: `rate` messages per second with bursts up to `burst`."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def send(self, message: dict[str, Any] | str | bytes, frame: bytes | None = None) -> None:
        """Queue one message for the end of this turn; `frame` is its pre-built text frame, when the
        caller shares one among recipients. A str or bytes message is already encoded JSON."""
        if self.closing:
            return
        if isinstance(message, dict):
            text: str | bytes = encode(to_reference_dialect(message) if self.reference else message)
        else:  # the broadcast path: already encoded for this connection
            text = message
        first = not self.pending  # the first frame of this turn for this connection
        size = 0
        if self.direct:
            data = frame if frame is not None else text_frame(text)
            size = len(data)
            self.pending.append(data)
            self.pending_bytes += size
        else:
            waiting = self.queue.qsize() + len(self.pending)
            self.exempt_msgs = min(self.exempt_msgs, waiting)  # what of the replay is still queued
            if not self.joining and waiting - self.exempt_msgs >= self.queue_size:
                log.warning(
                    "closing %s: send queue full (slow consumer)", self.principal or "connection"
                )
                self.cut_off(SLOW)
                return
            # ws.send sends a str as a text frame (bytes would be a binary one)
            self.pending.append(text if isinstance(text, str) else text.decode())
        if first:  # nothing is written to the transport before flush(): once per turn will do
            transport = getattr(self.ws, "transport", None)
            self.buffered = (
                transport.get_write_buffer_size() if transport is not None else 0
            )  # read again by flush()
        backlog = self.unsent()
        if self.exempt_bytes:  # the replay not yet taken: at most what is unsent before this frame
            self.exempt_bytes = min(self.exempt_bytes, backlog - size)
        if not self.joining and backlog - self.exempt_bytes > self.max_backlog:
            # bytes the client has not taken: it is not reading
            log.warning(
                "closing %s: %d bytes unsent (slow consumer)",
                self.principal or "connection",
                backlog,
            )
            self.cut_off(SLOW)
            return
        if first:
            self.outbox.mark(self)

    def unsent(self) -> int:
        """Bytes queued for this client and not yet taken by it: this turn's, those waiting for
        their commit, our backlog and the transport's buffer (as read at the turn's first send)."""
        return self.pending_bytes + self.sealed_bytes + self.backlog_bytes + self.buffered

    def drop_pending(self) -> None:
        """Forget this turn's frames (their calls were undone: the store refused them)."""
        self.pending, self.pending_bytes = [], 0

    def begin_join(self) -> None:
        """The joining turn starts: what is queued until `end_join` is the join's replay."""
        self.joining = True

    def end_join(self) -> None:
        """The joining turn's replay is queued: exempt it from the slow-consumer limits until the
        client has read it, however big the session's state is. A client that does not read is
        still cut off once `max_backlog` more bytes (or `queue_size` more messages) wait."""
        if not self.joining:
            return
        self.joining = False
        self.exempt_bytes = self.unsent()
        self.exempt_msgs = self.queue.qsize() + len(self.pending) if not self.direct else 0

    def take(self) -> tuple[list[Any], int]:
        """This turn's frames and their bytes (the Outbox seals them with the turn's journal)."""
        pending, size = self.pending, self.pending_bytes
        self.pending, self.pending_bytes = [], 0
        self.sealed_bytes += size
        return pending, size

    def forget(self, size: int) -> None:
        """Frames taken by `take` are dropped (their turn was refused by the store)."""
        self.sealed_bytes -= size

    def write(self, pending: list[Any], size: int) -> None:
        """Hand frames taken by `take` on, once their turn has committed."""
        self.sealed_bytes -= size
        if not pending:
            return
        if not self.direct:
            for text in pending:
                self.queue.put_nowait(text)  # room was checked in send()
            return
        transport = getattr(self.ws, "transport", None)
        if transport is None or transport.is_closing() or self.ws.protocol.state is not State.OPEN:
            return  # closing or closed: the peer gets the close frame's reason instead
        if (
            self.backlog or self.buffered >= WRITE_HIGH
        ):  # measured by send() this turn; only flush() writes
            self.backlog.extend(pending)  # the client is behind: keep whole frames here, in order
            self.backlog_bytes += sum(len(f) for f in pending)
            if self.pump is None:
                self.pump = asyncio.get_running_loop().create_task(self._pump())
            return
        transport.writelines(pending)

    async def _pump(self) -> None:
        """Hand the backlog on as the transport drains, about WRITE_HIGH bytes at a time."""
        try:
            while self.backlog and not self.closing:
                await self.ws.drain()  # returns once the transport is below its low-water mark
                transport = self.ws.transport
                if (
                    self.closing
                    or transport.is_closing()
                    or self.ws.protocol.state is not State.OPEN
                ):
                    return
                batch, size = [], 0
                while self.backlog and size < WRITE_HIGH:
                    frame = self.backlog.popleft()
                    batch.append(frame)
                    size += len(frame)
                self.backlog_bytes -= size
                transport.writelines(batch)
                await asyncio.sleep(
                    0
                )  # let the transport report pause_writing before the next drain
        except (ConnectionError, ConnectionClosed):
            pass
        finally:
            self.pump = None

    def cut_off(self, reason: str, code: CloseCode = CloseCode.POLICY_VIOLATION) -> None:
        """Drop everything still waiting here, send the close frame and end the TCP stream now,
        without waiting for the client's half of the closing handshake, and tell the session at once
        (`on_lost`). The transport gets CLOSE_GRACE seconds to deliver the frames it already holds
        and the close frame; a client that reads nothing is then aborted."""
        if self.closing:
            return
        self.closing = True
        self.pending, self.pending_bytes = [], 0
        self.backlog.clear()
        self.backlog_bytes = 0
        while not self.queue.empty():
            self.queue.get_nowait()
        for task in (self.writer, self.pump):
            if task is not None:
                task.cancel()
        transport = getattr(self.ws, "transport", None)
        with contextlib.suppress(Exception):
            self.ws.protocol.fail(
                code, reason[:120]
            )  # the close frame, then (server side) end of stream
            self.ws.send_data()
        if transport is not None:
            transport.close()  # once what it holds is written; no closing handshake is awaited
            asyncio.get_running_loop().call_later(CLOSE_GRACE, transport.abort)
        if self.on_lost is not None:
            self.on_lost(self)

    def close(self, code: CloseCode, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.closer = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: CloseCode, reason: str) -> None:
        if self.pending:  # what was sent before the close goes out before the close frame
            self.outbox.flush()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.outbox.settled(), CLOSE_GRACE)
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason[:120])

    async def flush_and_close(self, code: CloseCode, reason: str) -> None:
        """Send what is queued, then close (used for a rejected HELLO)."""
        self.closing = True
        if self.pending:
            self.outbox.flush()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.outbox.settled(), CLOSE_GRACE)
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
        for task in (self.writer, self.pump):
            if task is not None:
                task.cancel()

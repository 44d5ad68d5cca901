"""A WebSocket relay between a client and a real sidecar that can cut a connection at a chosen
message, to produce lost connections at exact points (a request that never arrived, or an answer
that never came back) without timing tricks.

`cut` is called with ("up" | "down", the parsed message) for every frame; when it returns True
that frame is dropped and both sockets of that connection are aborted (no close frame, as a crash
looks). `refuse` makes new connections fail during the upgrade (a coordinator that is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

Cut = Callable[[str, dict[str, Any]], bool]


@dataclass
class Proxy:
    upstream: str
    cut: Cut | None = None
    refuse: bool = False
    cuts: int = 0
    port: int = 0
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def _pipe(self, direction: str, src: Any, dst: Any, both: tuple[Any, Any]) -> None:
        async for raw in src:
            try:
                msg = json.loads(raw)
            except ValueError:
                msg = {}
            self.seen.append((direction, msg))
            if self.cut is not None and self.cut(direction, msg):
                self.cuts += 1
                for ws in both:
                    ws.transport.abort()
                return
            await dst.send(raw)

    async def _handle(self, down: ServerConnection) -> None:
        if self.refuse:
            down.transport.abort()
            return
        path = down.request.path if down.request is not None else "/"
        try:
            async with connect(self.upstream + path, max_size=None) as up:
                both = (down, up)
                tasks = [
                    asyncio.ensure_future(self._pipe("up", down, up, both)),
                    asyncio.ensure_future(self._pipe("down", up, down, both)),
                ]
                _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for t in pending:
                    t.cancel()
                for t in tasks:
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                        await t
        except (OSError, ConnectionClosed):
            down.transport.abort()


@contextlib.asynccontextmanager
async def ws_proxy(upstream: str, cut: Cut | None = None) -> AsyncIterator[Proxy]:
    proxy = Proxy(upstream.rstrip("/"), cut)
    async with serve(proxy._handle, "127.0.0.1", 0, max_size=None) as server:
        proxy.port = next(iter(server.sockets)).getsockname()[1]
        yield proxy

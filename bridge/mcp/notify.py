"""Resource-updated notifications for `mpac://session/state`, driven by the client's events.

Two delivery paths, because MCP clients of both eras exist:
- 2026-07-28 clients open `subscriptions/listen`; we publish a ResourceUpdated on the server's bus.
- earlier clients send `resources/subscribe`; we remember their session and send
  `notifications/resources/updated` to it.
Bursts of coordinator messages are coalesced into one notification."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import mcp_types as types
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import SubscriptionBus
from mcp.shared.subscriptions import ResourceUpdated

from bridge.mcp.lowlevel import lowlevel
from bridge.protocol.constants import EXT

if TYPE_CHECKING:
    from bridge.client import SessionClient

log = logging.getLogger("mpac.mcp")
STATE_URI = "mpac://session/state"
QUIET = {
    "HEARTBEAT",
    "COORDINATOR_STATUS",
}  # liveness chatter does not change what the resource shows


def quiet(message: dict[str, Any]) -> bool:
    """Liveness chatter, except a COORDINATOR_STATUS that reports a participant's presence."""
    if message.get("message_type") not in QUIET:
        return False
    ext = ((message.get("payload") or {}).get("extensions") or {}).get(EXT)
    return not (isinstance(ext, dict) and "presence" in ext)


class StateNotifier:
    """Forwards view changes of the connected client as resource-updated notifications."""

    def __init__(self, server: MCPServer, bus: SubscriptionBus) -> None:
        self.server, self.bus = (
            server,
            bus,
        )  # the bus the server was built with (its `subscriptions=`)
        self.sessions: dict[int, Any] = {}  # legacy subscribers, by id(session)
        self.sent = 0
        self._task: asyncio.Task[None] | None = None
        # resources/subscribe is a spec method the 2026 revision removed: the SDK says to re-provide it
        # with the low-level Server's add_request_handler (bridge/mcp/lowlevel.py)
        low = lowlevel(server)
        low.add_request_handler(
            "resources/subscribe", types.SubscribeRequestParams, self._subscribe
        )
        low.add_request_handler(
            "resources/unsubscribe", types.UnsubscribeRequestParams, self._unsubscribe
        )

    async def _subscribe(self, ctx: Any, params: types.SubscribeRequestParams) -> dict[str, Any]:
        if str(params.uri) == STATE_URI:
            self.sessions[id(ctx.session)] = ctx.session
        return {}

    async def _unsubscribe(
        self, ctx: Any, params: types.UnsubscribeRequestParams
    ) -> dict[str, Any]:
        if str(params.uri) == STATE_URI:
            self.sessions.pop(id(ctx.session), None)
        return {}

    def attach(self, client: SessionClient) -> None:
        """Start forwarding this client's events (called when the participant joins)."""
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._forward(client))

    async def _forward(self, client: SessionClient) -> None:
        q = client.subscribe()
        try:
            while True:
                changed = not quiet(await q.get())
                while not q.empty():  # coalesce a burst into one notification
                    changed = (
                        not quiet(q.get_nowait()) or changed
                    )  # always drain, even once changed
                if changed:
                    await self.notify()
        finally:
            client.unsubscribe(q)

    async def notify(self) -> None:
        self.sent += 1
        with contextlib.suppress(Exception):
            await self.bus.publish(ResourceUpdated(uri=STATE_URI))
        for key, session in list(self.sessions.items()):
            try:
                await session.send_resource_updated(STATE_URI)
            except Exception:  # the MCP client went away
                self.sessions.pop(key, None)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

"""A fleet node: the sidecar's sessions are leased in PostgreSQL, renewed on a timer, and a
connection for a session another node serves is redirected there.

Routing (docs/hosted.md, "Running a fleet"). A connection for `/session/<id>` that reaches a node
not serving that session is handled at the HTTP upgrade:

- the lease is free, expired, or its holder's database session is gone (the node died): this node
  takes it (when the connection may create the session: open profile, or an Authorization header
  whose token allows it; otherwise at the HELLO, after the credential is checked);
- another live node holds it: `307 Temporary Redirect` to that node's url (`--node-url`, e.g.
  `/node/<name>` on the proxy, which routes it to that node). The websockets client follows it.

Every node applies the same token table, TLS, Origin checks and limits: a redirect only tells the
client where to ask; the node it reaches decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import time
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from bridge.store.base import StoreError, StoreUnavailable

if TYPE_CHECKING:
    from bridge.server.app import Sidecar
    from bridge.store.postgres import PostgresStore

log = logging.getLogger("mpac.fleet")


class Fleet:
    def __init__(self, sidecar: Sidecar, store: PostgresStore) -> None:
        self.sidecar = sidecar
        self.store = store
        self.cfg = sidecar.cfg
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._renewals())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    # --- routing -----------------------------------------------------------------------------

    def _may_create(self, request: Request, session_id: str) -> bool:
        if self.sidecar.tokens is None:
            return True
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        return bool(token) and self.sidecar._verifier(None, session_id, token).accepted

    def _redirect(
        self, connection: ServerConnection, request: Request, session_id: str, url: str
    ) -> Response:
        query = request.path.split("?", 1)[1] if "?" in request.path else ""
        location = f"{url.rstrip('/')}/session/{session_id}" + (f"?{query}" if query else "")
        response = connection.respond(
            http.HTTPStatus.TEMPORARY_REDIRECT, f"session {session_id} is served at {location}\n"
        )
        response.headers["Location"] = location
        return response

    def _unavailable(self, connection: ServerConnection, exc: StoreError) -> Response:
        log.warning("refused a connection: %s", exc)
        return connection.respond(
            http.HTTPStatus.SERVICE_UNAVAILABLE,
            "the coordinator's store is unavailable; retry in a few seconds\n",
        )

    async def route(
        self, connection: ServerConnection, request: Request, session_id: str
    ) -> Response | None:
        """None to accept the connection here; else the response (redirect, 503)."""
        try:
            info = self.store.lease_info(session_id)
            held_elsewhere = (
                info is not None and info.holder not in (None, self.store.me) and not info.takeable
            )
            if held_elsewhere and info is not None and info.url:
                return self._redirect(connection, request, session_id, info.url)
            if self._may_create(request, session_id):
                self.sidecar._host(session_id)
            return None
        except StoreUnavailable as exc:
            return self._unavailable(connection, exc)
        except StoreError as exc:
            holder = getattr(exc, "holder", None)
            if (
                holder is not None and holder.url
            ):  # lost a race for the lease: send it to the winner
                return self._redirect(connection, request, session_id, holder.url)
            return self._unavailable(connection, exc)

    # --- leases ------------------------------------------------------------------------------

    async def _renewals(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.cfg.renew_every)  # the lease timer, not a wait for an event
            held = dict(self.store.held)
            try:
                lost = await asyncio.to_thread(self.store.renew, held)
            except StoreError as exc:
                if not failing:
                    log.warning(
                        "lease renewal failed (%s); the database refuses this node's writes once another node takes over",
                        exc,
                    )
                failing = True
                continue
            if failing:
                log.info("lease renewal works again")
                failing = False
            for sid, epoch in lost.items():
                host = self.sidecar.hosts.get(sid)
                if host is not None and host.lease_epoch == epoch:
                    self.store.forget(sid)
                    log.warning(
                        "lease lost: session %s (epoch %d) was taken over by another node",
                        sid,
                        epoch,
                    )
                    self.sidecar.drop(host)
            await self._release_idle()

    async def _release_idle(self) -> None:
        idle = self.cfg.release_idle
        if idle <= 0:
            return
        now = time.monotonic()
        joining = {c.session_id for c in self.sidecar.pending}
        for sid, host in list(self.sidecar.hosts.items()):
            if (
                host.connection_count() == 0
                and sid not in joining
                and now - host.last_activity >= idle
                and host.suspended is None
            ):
                log.info(
                    "session %s: no connection for %.0f s, releasing its lease",
                    sid,
                    now - host.last_activity,
                )
                await self.sidecar.release(host)

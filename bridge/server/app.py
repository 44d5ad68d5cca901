"""The sidecar's WebSocket server: admission, binding, limits, routing to session hosts."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import http
import ipaddress
import json
import logging
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bridge.core import CoordinatorConfig, Verdict
from bridge.protocol.constants import CloseCode
from bridge.protocol.dialect import speaks_reference_dialect
from bridge.protocol.frames import OVERSIZE_READ_FACTOR
from bridge.server.config import SESSION_ID, ServerConfig
from bridge.server.conn import Conn
from bridge.server.errors import COORDINATOR_UNAVAILABLE, transport_error
from bridge.server.host import SessionHost
from bridge.server.outbox import Outbox
from bridge.server.tokens import TokenTable
from bridge.server.turnjournal import GroupStore, TurnJournal
from bridge.store.base import LeaseLost, Store, StoreError
from bridge.store.transcript import TranscriptWriter

if TYPE_CHECKING:
    from bridge.server.fleet import Fleet

log = logging.getLogger("mpac.sidecar")


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _frame(raw: str | bytes) -> dict[str, Any] | None:
    """A frame decoded as a JSON object, or None (before admission and on error paths only: an
    admitted connection's frames are parsed by the coordinator core)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _message_id(data: dict[str, Any] | None) -> str | None:
    mid = data.get("message_id") if data is not None else None
    return mid if isinstance(mid, str) else None


def _credential(data: dict[str, Any]) -> dict[str, Any] | None:
    payload = data.get("payload")
    cred = payload.get("credential") if isinstance(payload, dict) else None
    return cred if isinstance(cred, dict) else None


def _presented_token(credential: dict[str, Any] | None, header_token: str | None) -> str | None:
    """The token a connection presents. The Authorization header wins over the HELLO credential:
    it is what the connection proved."""
    token = (
        credential.get("value")
        if credential and credential.get("type") in ("bearer_token", "api_key")
        else None
    )
    return header_token or (token if isinstance(token, str) else None)


class Sidecar:
    def __init__(
        self,
        cfg: ServerConfig,
        coord_config: CoordinatorConfig,
        store: Store,
        tokens: TokenTable | None = None,
        lookup: Callable[[str], str | None] | None = None,
    ) -> None:
        if (
            cfg.security_profile == "open"
            and not cfg.allow_open_network
            and not _is_loopback(cfg.host)
        ):
            raise ValueError(
                f"the open profile has no authentication, so it only binds loopback; {cfg.host} is not "
                "loopback. Use --security-profile authenticated with a token table, or --allow-open-network."
            )
        if cfg.security_profile == "authenticated" and tokens is None:
            raise ValueError(
                "the authenticated profile needs a token table (--token-table FILE or MPAC_TOKEN_TABLE)"
            )
        self.cfg = cfg
        self.data_dir = cfg.data_dir
        # One frame limit: the core refuses (and names) a frame over it; websockets reads a frame up
        # to OVERSIZE_READ_FACTOR times it so that refusal can be addressed, and cuts off anything larger.
        self.coord_config = dataclasses.replace(coord_config, max_frame_bytes=cfg.max_frame)
        self.store = store
        self.tokens = tokens
        self.lookup = lookup
        self.hosts: dict[str, SessionHost] = {}
        self.pending: set[Conn] = set()  # every open connection, admitted or not
        self.outbox = Outbox()
        # Group commit (issue 17): a store that can take several entries in one transaction gets
        # each turn's entries at once, committed by the journal's thread; the Outbox writes the
        # turn's frames when they have committed.
        self.journal = (
            TurnJournal(store, self.outbox.schedule, in_loop=cfg.commit_in_loop)
            if isinstance(store, GroupStore)
            else None
        )
        self.outbox.journal = self.journal
        self.shut = False
        self.server: Server | None = None
        self.stopping = asyncio.Event()
        self.idle_since = time.monotonic()
        self.fleet: Fleet | None = None  # set by serve_sidecar for a node of a fleet
        self.probe: asyncio.Task[None] | None = None  # waits for a failed store to answer again
        self.background: set[asyncio.Task[None]] = set()
        if cfg.store_url is None:  # a fleet node takes sessions when clients ask for them
            for sid in store.sessions():  # restore every session the store knows
                if cfg.multi_session or sid == cfg.session_id:
                    self._host(sid)
        if not cfg.multi_session:
            self._host(cfg.session_id)

    # --- sessions ----------------------------------------------------------------------------

    def _verifier(
        self, credential: dict[str, Any] | None, session_id: str, header_token: str | None
    ) -> Verdict:
        if self.tokens is None:
            return Verdict(True)
        return self.tokens.verdict(_presented_token(credential, header_token), session_id)

    def _host(self, session_id: str) -> SessionHost:
        """The session's host, loading it from the store (and taking its lease in a fleet) first
        if need be. Raises StoreError (LeaseHeld: another node serves it)."""
        host = self.hosts.get(session_id)
        if host is None:
            transcript = (
                TranscriptWriter(self.data_dir / "transcripts" / f"{session_id}.jsonl")
                if self.data_dir
                else None
            )
            try:
                host = SessionHost(
                    session_id,
                    self.coord_config,
                    self.store,
                    lookup=self.lookup,
                    verifier=self._verifier,
                    snapshot_every=self.cfg.snapshot_every,
                    transcript=transcript,
                    on_store_error=self._store_error,
                    group=self.journal,
                )
            except StoreError:
                if transcript is not None:
                    transcript.discard()
                    transcript.close()
                raise
            self.hosts[session_id] = host
            with contextlib.suppress(RuntimeError):
                host.start()
        return host

    # --- store failures and leases -------------------------------------------------------------

    def _store_error(self, host: SessionHost, exc: StoreError) -> None:
        if isinstance(exc, LeaseLost):
            self.drop(host)
        elif self.probe is None or self.probe.done():
            self.probe = asyncio.get_running_loop().create_task(self._probe_store())

    async def _probe_store(self) -> None:
        """While a session is suspended by a store failure: ping the store every second; once it
        answers, each suspended session reloads from it and serves again."""
        while not self.shut:
            suspended = [h for h in self.hosts.values() if h.suspended is not None]
            if not suspended:
                return
            await asyncio.sleep(1.0)  # the retry period of the store probe
            try:
                await asyncio.to_thread(self.store.ping)
            except StoreError:
                continue
            for host in suspended:
                if self.hosts.get(host.session_id) is host and not self.shut:
                    host.resume()

    def _close_session_connections(self, session_id: str, code: CloseCode, reason: str) -> None:
        for conn in list(self.pending):
            if conn.session_id == session_id:
                conn.close(code, reason)

    def _forget(self, host: SessionHost) -> None:
        self.hosts.pop(host.session_id, None)
        task = asyncio.get_running_loop().create_task(host.stop())
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        if host.transcript is not None:
            host.transcript.discard()
            host.transcript.close()

    def drop(self, host: SessionHost) -> None:
        """Another node took the session over: stop serving it, and send its clients there."""
        if self.hosts.get(host.session_id) is not host:
            return
        host.suspended = host.suspended or "this coordinator node no longer serves the session"
        forget = getattr(self.store, "forget", None)
        if forget is not None:
            forget(host.session_id)
        log.warning(
            "session %s dropped: another node serves it now; closing its %d connections",
            host.session_id,
            host.connection_count(),
        )
        self._close_session_connections(
            host.session_id,
            CloseCode.SERVICE_RESTART,
            "session moved to another coordinator node; reconnect",
        )
        self._forget(host)

    async def release(self, host: SessionHost) -> None:
        """Stop serving an idle session: final snapshot, lease released (another node may take it)."""
        if self.hosts.get(host.session_id) is not host:
            return
        if host.snapshot():
            try:
                self.store.release(host.session_id)
            except StoreError as exc:
                log.warning(
                    "session %s: lease not released (%s); it expires by itself",
                    host.session_id,
                    exc,
                )
        host.suspended = "this coordinator node released the session"
        self._forget(host)

    def connections(self) -> int:
        return sum(h.connection_count() for h in self.hosts.values())

    # --- HTTP upgrade checks -----------------------------------------------------------------

    def _session_of(self, path: str) -> str | None:
        path = path.split("?", 1)[0].rstrip("/") or "/"
        if path.startswith("/session/"):
            sid = path[len("/session/") :]
            if not SESSION_ID.match(sid):
                return None
            if self.cfg.multi_session or sid == self.cfg.session_id:
                return sid
            return None
        if path == "/" and not self.cfg.multi_session:
            return self.cfg.session_id
        return None

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        response = self._check_request(connection, request)
        sid = self._session_of(request.path)
        if response is not None or self.fleet is None or sid is None or sid in self.hosts:
            return response
        return await self.fleet.route(connection, request, sid)

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.cfg.allow_origins:
            log.warning("refused a browser connection from origin %s", origin)
            return connection.respond(
                http.HTTPStatus.FORBIDDEN, f"origin {origin} is not allowed (see --allow-origin)\n"
            )
        if self._session_of(request.path) is None:
            hint = (
                "/session/<id>"
                if self.cfg.multi_session
                else f"/ or /session/{self.cfg.session_id}"
            )
            return connection.respond(
                http.HTTPStatus.NOT_FOUND, f"no session at {request.path}; use {hint}\n"
            )
        sid = self._session_of(request.path)
        open_conns = sum(
            1 for c in self.pending if c.session_id == sid
        )  # admitted or still joining
        if open_conns >= self.cfg.max_connections:
            log.warning("refused a connection to session %s: %d connections open", sid, open_conns)
            return connection.respond(
                http.HTTPStatus.SERVICE_UNAVAILABLE,
                f"session {sid} has reached its connection limit ({self.cfg.max_connections}); try again later\n",
            )
        return None

    # --- the connection handler --------------------------------------------------------------

    async def handler(self, ws: ServerConnection) -> None:
        session_id = self._session_of(ws.request.path) if ws.request else None
        if session_id is None:
            await ws.close(CloseCode.POLICY_VIOLATION, "no such session")
            return
        conn = Conn(
            ws,
            self.outbox,
            self.cfg.send_queue,
            self.cfg.rate_per_sec,
            self.cfg.rate_burst,
            time.monotonic(),
            max_backlog=self.cfg.max_backlog,
        )
        conn.session_id = session_id
        self.pending.add(conn)
        deadline = asyncio.get_running_loop().call_later(
            self.cfg.hello_timeout, self._hello_overdue, conn
        )
        auth = ws.request.headers.get("Authorization", "") if ws.request else ""
        if auth.lower().startswith("bearer "):
            conn.header_token = auth[7:].strip()
        host: SessionHost | None = self.hosts.get(session_id)
        try:
            async for raw in ws:
                if conn.closing:
                    break
                if not conn.allow(time.monotonic()):
                    conn.strikes += 1
                    limit = self.cfg.rate_per_sec
                    conn.send(
                        transport_error(
                            session_id,
                            "MALFORMED_MESSAGE",
                            f"rate limit exceeded ({limit:g} messages/s per connection): this message was dropped; slow down",
                            _message_id(_frame(raw)),
                        )
                    )
                    if conn.strikes > max(8.0, self.cfg.rate_burst):
                        log.warning(
                            "closing %s: rate limit exceeded repeatedly",
                            conn.principal or "connection",
                        )
                        conn.close(CloseCode.POLICY_VIOLATION, "rate limit exceeded repeatedly")
                        break
                    continue
                conn.strikes = 0
                if conn.principal is None:
                    admitted = await self._admit(conn, session_id, raw)
                    if admitted is False:
                        break
                    if isinstance(admitted, SessionHost):
                        host = admitted
                    continue
                assert host is not None
                host.handle(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            deadline.cancel()
            self.pending.discard(conn)
            if host is not None:
                host.disconnected(conn)
            await asyncio.sleep(0)
            if conn.closer is not None:  # its last frames wait for their commit, then its reason
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.closer)
            conn.stop()
            if self.connections() == 0:
                self.idle_since = time.monotonic()

    def _hello_overdue(self, conn: Conn) -> None:
        if conn.principal is None:
            conn.close(
                CloseCode.POLICY_VIOLATION, f"no admitted HELLO within {self.cfg.hello_timeout:g} s"
            )

    async def _admit(self, conn: Conn, session_id: str, raw: str | bytes) -> SessionHost | bool:
        """Before admission a connection may only send HELLO. Returns the host once admitted, True
        to keep waiting for a HELLO, False when the connection was closed."""
        data = _frame(raw)
        mid = _message_id(data)
        if data is None:
            conn.send(
                transport_error(
                    session_id, "MALFORMED_MESSAGE", "not a JSON object; send an MPAC HELLO", None
                )
            )
            return True
        if data.get("message_type") != "HELLO":
            conn.send(
                transport_error(
                    session_id,
                    "INVALID_REFERENCE",
                    "this connection is not admitted: send HELLO first",
                    mid,
                )
            )
            return True
        host = self.hosts.get(session_id)
        created = host is None
        if host is None:  # multi-session: create only for a principal whose token allows it
            verdict = self._verifier(_credential(data), session_id, conn.header_token)
            if not verdict.accepted:
                conn.send(transport_error(session_id, "CREDENTIAL_REJECTED", verdict.reason, mid))
                await conn.flush_and_close(CloseCode.POLICY_VIOLATION, "credential rejected")
                return False
            try:
                host = self._host(session_id)
            except StoreError as exc:
                await self._refuse_unserved(conn, session_id, exc, mid)
                return False
        sender = data.get("sender") if isinstance(data.get("sender"), dict) else {}
        pid = sender.get("principal_id") if isinstance(sender, dict) else None
        owner_key = None
        if self.tokens is not None and isinstance(pid, str):
            # A token without a fixed principal_id binds to the first principal admitted with it:
            # another token cannot take over (or listen in as) a principal that is already known.
            grant = self.tokens.find(_presented_token(_credential(data), conn.header_token))
            if grant is not None and grant.principal_id is None:
                owner_key = hashlib.sha256(grant.token.encode()).hexdigest()
                known = host.owners.get(pid)
                if known is not None and not hmac.compare_digest(known, owner_key):
                    conn.send(
                        transport_error(
                            session_id,
                            "CREDENTIAL_REJECTED",
                            f"{pid} joined with another token",
                            mid,
                        )
                    )
                    await conn.flush_and_close(CloseCode.POLICY_VIOLATION, "credential rejected")
                    return False
        conn.reference = speaks_reference_dialect(data)  # before its SESSION_INFO is encoded
        result = host.handle(conn, raw)
        if result.admitted is not None and owner_key is not None:
            host.owners.setdefault(result.admitted, owner_key)
        if result.admitted is None:
            if (
                created
                and host.connection_count() == 0
                and not result.changed
                and self.hosts.get(session_id) is host
            ):
                # Nobody was admitted: the session is not created (nothing of it was journaled).
                self.hosts.pop(session_id, None)
                await host.stop()
                with contextlib.suppress(StoreError):
                    self.store.release(session_id)
            if host.suspended is not None:
                await conn.flush_and_close(
                    CloseCode.TRY_AGAIN_LATER, "coordinator unavailable; retry later"
                )
            else:
                await conn.flush_and_close(CloseCode.POLICY_VIOLATION, "HELLO refused")
            return False
        return host

    async def _refuse_unserved(
        self, conn: Conn, session_id: str, exc: StoreError, mid: str | None
    ) -> None:
        """The session could not be loaded here: another node serves it, or the store is down."""
        holder = getattr(exc, "holder", None)
        if holder is not None:
            log.info("HELLO for session %s refused here: %s", session_id, exc)
            conn.send(
                transport_error(
                    session_id, COORDINATOR_UNAVAILABLE, f"{exc}; reconnect to be sent there", mid
                )
            )
            await conn.flush_and_close(
                CloseCode.SERVICE_RESTART, "session served by another coordinator node; reconnect"
            )
            return
        log.warning("HELLO for session %s refused: %s", session_id, exc)
        text = "the coordinator cannot load the session now: its store is unavailable; retry in a few seconds"
        conn.send(
            transport_error(session_id, COORDINATOR_UNAVAILABLE, text, mid, {"retry_after_sec": 1})
        )
        await conn.flush_and_close(
            CloseCode.TRY_AGAIN_LATER, "coordinator unavailable; retry later"
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.cfg.tls_cert is None:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cfg.tls_cert, self.cfg.tls_key)
        return ctx

    async def start(self) -> int:
        self.server = await serve(
            self.handler,
            self.cfg.host,
            self.cfg.port,
            process_request=self.process_request,
            max_size=self.cfg.max_frame * OVERSIZE_READ_FACTOR,
            ssl=self.ssl_context(),
            compression="deflate" if self.cfg.compress else None,
            ping_interval=20,
            ping_timeout=20,
        )
        port = self.server.sockets[0].getsockname()[1]
        return int(port)

    async def idle_watch(self) -> None:
        if self.cfg.idle_timeout <= 0:
            return
        while not self.stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(
                    self.stopping.wait(), timeout=min(5.0, self.cfg.idle_timeout)
                )
            if (
                self.connections() == 0
                and time.monotonic() - self.idle_since >= self.cfg.idle_timeout
            ):
                log.info(
                    "no participants for %.0f s: exiting (idle timeout)", self.cfg.idle_timeout
                )
                self.stopping.set()

    async def shutdown(self) -> None:
        """Clean stop: no new connections, final snapshots, every socket closed with a reason.
        Sessions stay resumable: no SESSION_CLOSE is sent (see docs/protocol.md, Sidecar decisions)."""
        if self.shut:
            return
        self.shut = True
        if self.server is not None:
            self.server.close(close_connections=False)
        if self.fleet is not None:
            await self.fleet.stop()
        if self.probe is not None:
            self.probe.cancel()
        for host in list(self.hosts.values()):
            if host.snapshot():
                try:
                    self.store.release(host.session_id)  # a fleet's other nodes may take it at once
                except StoreError as exc:
                    log.warning(
                        "session %s: lease not released (%s); it expires by itself",
                        host.session_id,
                        exc,
                    )
            host.suspended = host.suspended or "this coordinator node is stopping"
            await host.stop()
        self.outbox.flush()  # what the final turns produced goes out before the close frames
        if self.journal is not None:
            self.journal.close()  # every sealed turn committed and written; the thread stops
        closing = [
            c.ws.close(CloseCode.GOING_AWAY, "sidecar shutting down") for c in list(self.pending)
        ]
        if closing:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 5)
        if self.server is not None:
            self.server.close(close_connections=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 5)
        self.store.close()


__all__ = ["Headers", "Sidecar"]

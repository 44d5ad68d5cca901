"""SessionClient: an async MPAC participant.

It joins with HELLO, keeps heartbeats going, matches every reply to its request by id (the relay of
its own message, `in_reply_to`, or `refers_to`), keeps a local view, lets adapters subscribe to
what arrives, and reconnects with backoff, rejoining as the same principal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bridge.client import ids
from bridge.client.actions import Actions
from bridge.client.backoff import Backoff
from bridge.client.reply import Reply
from bridge.client.scope import announce_scope
from bridge.client.session import Session
from bridge.client.tls import ssl_context_for
from bridge.client.view import SessionView, _ext
from bridge.protocol.frames import MAX_FRAME_BYTES
from bridge.protocol.lamport import LamportClock
from bridge.protocol.stamps import build_envelope, lamport_of
from bridge.remote import session_of_url

log = logging.getLogger("mpac.client")
FAILURES = ("PROTOCOL_ERROR", "OP_REJECT")


class JoinRefused(Exception):
    """The coordinator refused this participant (bad token, unreachable, wrong session...)."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code, self.description = code, description


@dataclass
class _Waiter:
    predicate: Callable[[dict[str, Any]], bool]
    future: asyncio.Future[dict[str, Any]]


@dataclass
class SessionClient(Actions):
    """One participant connection. `async with SessionClient(url, "agent:x") as c:` joins and
    leaves with GOODBYE; `connect()` / `close()` do the same by hand."""

    url: str
    principal_id: str
    session_id: str | None = None
    display_name: str | None = None
    roles: list[str] = field(default_factory=lambda: ["contributor"])
    token: str | None = None
    principal_type: str | None = None
    capabilities: list[str] = field(
        default_factory=lambda: ["intent.broadcast", "op.commit", "conflict.ack"]
    )
    reconnect: bool = True
    ssl_context: ssl.SSLContext | None = (
        None  # wss:// without one: verify against SSL_CERT_FILE or the system store
    )
    heartbeat_status_fn: Callable[[], str] | None = (
        None  # HEARTBEAT status; default idle/working by intents
    )

    def __post_init__(self) -> None:
        if self.session_id is None:
            self.session_id = session_of_url(self.url)
        self.principal_type = self.principal_type or (
            self.principal_id.split(":", 1)[0] if ":" in self.principal_id else "agent"
        )
        if self.principal_type not in ("human", "agent", "service"):
            self.principal_type = "agent"
        self.instance_id = ids.instance_id(self.principal_id)
        self.clock = LamportClock()
        self.view = SessionView()
        self.ws: ClientConnection | None = None
        self.connected = asyncio.Event()
        self.state = "disconnected"  # disconnected | connecting | connected | reconnecting | closed
        self.session_info: dict[str, Any] | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[_Waiter] = []
        self._subscribers: list[asyncio.Queue[dict[str, Any]]] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._closing = False
        self._counter = 0
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self.backoff = Backoff()
        self.coordinator_available = True
        self._status_timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> SessionClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def session(self) -> Session:
        """The typed session as this participant sees it (a lens on the current view, never stale)."""
        return Session(self.view, self.principal_id)

    def _spawn(self, coro: Any) -> None:
        """Start a background task, forgetting finished ones (a long flapping run stays small)."""
        self._tasks = [t for t in self._tasks if not t.done()]
        self._tasks.append(asyncio.get_running_loop().create_task(coro))

    def _set_state(self, state: str, **extra: Any) -> None:
        """Record a connection state and tell subscribers (`_CONNECTION` notice)."""
        self.state = state
        self.view.connection = state
        self._publish({"message_type": "_CONNECTION", "payload": {"state": state, **extra}})

    def _liveness(self) -> tuple[float, float]:
        """(heartbeat_interval_sec, unavailability_timeout_sec) of the session."""
        pol = self.view.policies.get("liveness_policy") or {}
        interval = pol.get("heartbeat_interval_sec") if isinstance(pol, dict) else None
        unavail = pol.get("unavailability_timeout_sec") if isinstance(pol, dict) else None
        hb = float(interval) if isinstance(interval, int | float) and interval > 0 else 30.0
        un = float(unavail) if isinstance(unavail, int | float) and unavail > 0 else 3 * hb
        return hb, un

    def _arm_coordinator_watch(self) -> None:
        """Digest 7.1: the coordinator is unavailable after 2 x heartbeat interval without a
        COORDINATOR_STATUS. A timer, re-armed by every status, not a polling loop."""
        if self._status_timer is not None:
            self._status_timer.cancel()
        if self._closing or self.ws is None:
            self._status_timer = None
            return
        hb, _ = self._liveness()
        self._status_timer = asyncio.get_running_loop().call_later(2 * hb, self._coordinator_silent)

    def _coordinator_silent(self) -> None:
        self._status_timer = None
        if self.coordinator_available and not self._closing:
            self.coordinator_available = self.view.coordinator_available = False
            log.warning(
                "no COORDINATOR_STATUS from %s for 2 heartbeat intervals: coordinator unavailable",
                self.url,
            )
            self._publish({"message_type": "_COORDINATOR", "payload": {"available": False}})

    def _coordinator_heard(self) -> None:
        if not self.coordinator_available:
            self.coordinator_available = self.view.coordinator_available = True
            self._publish({"message_type": "_COORDINATOR", "payload": {"available": True}})
        self._arm_coordinator_watch()

    # --- connection --------------------------------------------------------------------------

    async def connect(self, timeout: float = 10.0) -> dict[str, Any]:
        """Join the session; returns SESSION_INFO. Raises JoinRefused with the coordinator's reason."""
        # no notice for the first join: adapters read `state` after connect() and count every
        # later `_CONNECTION` notice as a change (reconnecting / connected / closed)
        self.state = self.view.connection = "connecting"
        info = await asyncio.wait_for(self._join(), timeout)
        self._spawn(self._heartbeats())
        return info

    async def _open(self) -> ClientConnection:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        if self.ssl_context is None and self.url.startswith("wss://"):
            # websockets refuses wss:// with ssl=None; adapters that pass only a url (MCP server,
            # dashboard, LSP) get a verifying context here
            try:
                self.ssl_context = ssl_context_for(self.url)
            except (OSError, ssl.SSLError) as exc:
                raise JoinRefused(
                    "TLS_SETUP",
                    f"cannot load the CA certificates for {self.url} (check SSL_CERT_FILE): {exc}",
                ) from None
        try:
            return await connect(
                self.url,
                additional_headers=headers,
                ssl=self.ssl_context if self.url.startswith("wss") else None,
                max_size=8 * 1024 * 1024,
                open_timeout=10,
            )
        except InvalidStatus as exc:
            body = exc.response.body.decode(errors="replace").strip() if exc.response.body else ""
            raise JoinRefused(
                "HTTP_" + str(exc.response.status_code),
                body or "the sidecar refused the connection",
            ) from None
        except OSError as exc:
            raise JoinRefused(
                "UNREACHABLE", f"cannot reach {self.url}: {exc.strerror or exc}"
            ) from None

    async def _join(self) -> dict[str, Any]:
        ws = await self._open()
        hello: dict[str, Any] = {
            "display_name": self.display_name or self.principal_id,
            "roles": self.roles,
            "capabilities": self.capabilities,
        }
        if self.token:
            hello["credential"] = {"type": "bearer_token", "value": self.token}
        env = self._envelope("HELLO", hello)
        await ws.send(json.dumps(env))
        while True:
            try:
                raw = await ws.recv()
            except ConnectionClosed as exc:
                raise JoinRefused(
                    "CLOSED", exc.rcvd.reason if exc.rcvd else "connection closed during HELLO"
                ) from None
            msg: dict[str, Any] = json.loads(raw)
            if (
                msg.get("message_type") == "SESSION_INFO"
                and msg.get("in_reply_to") == env["message_id"]
            ):
                break
            if msg.get("message_type") == "PROTOCOL_ERROR":
                p = msg.get("payload", {})
                with contextlib.suppress(Exception):
                    await ws.close()
                raise JoinRefused(p.get("error_code", "PROTOCOL_ERROR"), p.get("description", ""))
        self.ws = ws
        self.session_info = msg
        self.clock.receive(lamport_of(msg.get("watermark")))
        self.view = SessionView()
        self.view.load_session_info(msg)
        self.view.connection = "connected"
        self.session_id = msg["payload"].get("session_id", self.session_id)
        self.state = "connected"
        self.backoff.up(time.monotonic())
        self.connected.set()
        self._coordinator_heard()  # SESSION_INFO is proof of life; start the silence timer
        self._spawn(self._reader(ws))
        self._publish(msg)
        return msg

    async def _reader(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(msg, dict):
                    self._dispatch(msg)
        except ConnectionClosed:
            pass
        finally:
            if self.ws is ws:
                self._lost()

    def _lost(self) -> None:
        self.connected.clear()
        self.ws = None
        self.backoff.down(time.monotonic())
        if self._status_timer is not None:
            self._status_timer.cancel()
            self._status_timer = None
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("the connection to the coordinator was lost"))
        self._pending.clear()
        if self._closing or not self.reconnect:
            self._set_state("closed" if self._closing else "disconnected")
            return
        self._set_state("reconnecting")
        self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        """Rejoin with the same sender_instance_id and a continuing Lamport clock (digest 5.2).
        Delays come from `self.backoff`: they grow while failing or flapping and reset only
        after a connection stayed up for a while, so this is never a hot loop."""
        while not self._closing:
            delay = self.backoff.next_delay()
            await asyncio.sleep(delay)  # backoff between attempts, not a test wait
            if self._closing:
                return
            try:
                await self._join()
                self._set_state("connected", rejoined=True)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any handshake failure: keep trying, with backoff
                log.info(
                    "reconnect to %s failed (%s); attempt %d", self.url, exc, self.backoff.attempt
                )

    async def _heartbeats(self) -> None:
        while not self._closing:
            hb, unavail = self._liveness()
            # twice per interval, and well inside the unavailability timeout (short test policies too)
            await asyncio.sleep(
                max(0.02, min(hb / 2, unavail / 3))
            )  # the protocol's schedule, not a test wait
            if self.ws is not None:
                try:
                    if self.heartbeat_status_fn is not None:
                        status = self.heartbeat_status_fn()
                    else:
                        status = "working" if self.view.intents_of(self.principal_id) else "idle"
                    await self.send("HEARTBEAT", {"status": status})
                except (ConnectionError, ConnectionClosed):
                    pass  # the reader notices the loss and reconnects
                except Exception:  # a view bug must never stop heartbeats silently
                    log.exception("heartbeat failed")
                    with contextlib.suppress(Exception):
                        await self.send("HEARTBEAT", {"status": "working"})

    # --- messages ----------------------------------------------------------------------------

    def _envelope(self, mtype: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._counter += 1
        env = build_envelope(
            mtype,
            {},
            session_id=self.session_id or "",
            now=time.time(),
            lamport=self.clock.tick(),
            sender={
                "principal_id": self.principal_id,
                "principal_type": self.principal_type,
                "sender_instance_id": self.instance_id,
            },
            message_id=f"{self.instance_id}:{self._counter}",
        )
        env["payload"] = payload
        return env

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if not self.view.apply(msg, time.time()):
            log.warning(
                "ignored a message from stale coordinator epoch %s", msg.get("coordinator_epoch")
            )
            return  # digest 10.4: never applied, never an answer to a request
        self.clock.receive(lamport_of(msg.get("watermark")))
        if msg.get("message_type") == "COORDINATOR_STATUS":
            self._coordinator_heard()
        p = msg.get("payload") or {}
        for key in (
            msg.get("message_id"),
            msg.get("in_reply_to"),
            p.get("refers_to") if isinstance(p, dict) else None,
        ):
            if not isinstance(key, str):
                continue
            fut = self._pending.get(key)
            if fut is not None and not fut.done():
                fut.set_result(msg)
                del self._pending[key]
                break
        self._publish(msg)

    def _publish(self, msg: dict[str, Any]) -> None:
        for fn in list(self._listeners):
            try:
                fn(msg)
            except Exception:  # a subscriber bug must not break the client
                log.exception("event listener failed")
        for q in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(msg)
        for w in list(self._waiters):
            if not w.future.done():
                try:
                    hit = w.predicate(msg)
                except Exception:
                    hit = False
                if hit:
                    w.future.set_result(msg)
        self._waiters = [w for w in self._waiters if not w.future.done()]

    @property
    def frame_limit(self) -> int:
        """The largest frame the coordinator accepts: what its SESSION_INFO announced, else the
        protocol default."""
        limit = _ext((self.session_info or {}).get("payload") or {}).get("max_frame_bytes")
        return limit if isinstance(limit, int) and limit > 0 else MAX_FRAME_BYTES

    def _oversized(self, mtype: str, frame: str) -> str | None:
        """Why `frame` cannot be sent (it is over the coordinator's limit), or None."""
        size = len(frame.encode("utf-8", "surrogatepass"))
        if size <= self.frame_limit:
            return None
        return (
            f"this {mtype} is {size:,} bytes; the coordinator accepts at most {self.frame_limit:,} bytes per "
            "message, so it was not sent (send fewer files or shorter text)"
        )

    async def send(self, mtype: str, payload: dict[str, Any]) -> str:
        """Send without waiting for an answer; returns the message id. Raises ValueError for a
        message over the coordinator's frame limit (nothing is sent)."""
        if self.ws is None:
            raise ConnectionError("not connected to the coordinator")
        env = self._envelope(mtype, payload)
        frame = json.dumps(env)
        too_big = self._oversized(mtype, frame)
        if too_big is not None:
            raise ValueError(too_big)
        await self.ws.send(frame)
        message_id: str = env["message_id"]
        return message_id

    async def request(self, mtype: str, payload: dict[str, Any], timeout: float = 10.0) -> Reply:
        """Send and wait for the coordinator's answer to this very message."""
        if self._closing and mtype != "GOODBYE":
            return Reply(False, error_code="CLOSED", description="this client was closed")
        if self.ws is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.connected.wait(), timeout)
        if self.ws is None:
            return Reply(
                False,
                error_code="NOT_CONNECTED",
                description=f"not connected to the coordinator at {self.url}",
            )
        env = self._envelope(mtype, payload)
        frame = json.dumps(env)
        too_big = self._oversized(mtype, frame)
        if too_big is not None:
            return Reply(
                False,
                error_code="FRAME_TOO_LARGE",
                description=too_big,
                request_id=env["message_id"],
            )
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[env["message_id"]] = fut
        ws = self.ws
        try:
            await ws.send(frame)
            msg = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self._pending.pop(env["message_id"], None)
            return Reply(
                False,
                error_code="TIMEOUT",
                description=f"no answer from the coordinator within {timeout:.0f} s",
                request_id=env["message_id"],
            )
        except (ConnectionError, ConnectionClosed) as exc:
            self._pending.pop(env["message_id"], None)
            if self.ws is ws and isinstance(exc, ConnectionClosed):
                self._lost()  # the send saw the loss before the reader did: reconnect now, not later
            return Reply(
                False,
                error_code="CONNECTION_LOST",
                description=str(exc),
                request_id=env["message_id"],
            )
        if msg.get("message_type") in FAILURES:
            p = msg.get("payload", {})
            code = p.get("error_code") or (
                "OP_REJECT" if msg["message_type"] == "OP_REJECT" else "ERROR"
            )
            return Reply(
                False, msg, code, p.get("description") or p.get("reason", ""), env["message_id"]
            )
        return Reply(True, msg, request_id=env["message_id"])

    # --- subscriptions -----------------------------------------------------------------------

    def subscribe(self, maxsize: int = 10_000) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=maxsize)
        self._subscribers.append(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(q)

    def on_event(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call `callback(msg)` synchronously for every inbound message and every `_CONNECTION` /
        `_COORDINATOR` notice, after the view has been updated. Returns the unsubscribe function."""
        self._listeners.append(callback)

        def off() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return off

    def events(self) -> AsyncIterator[dict[str, Any]]:
        """`async for msg in c.events():` every message and notice from the call on (the
        subscription starts here, not at the first iteration, so nothing in between is missed).
        Leaving the loop (or `aclose()`) unsubscribes."""
        q = self.subscribe()

        async def stream() -> AsyncIterator[dict[str, Any]]:
            try:
                while True:
                    yield await q.get()
            finally:
                self.unsubscribe(q)

        return stream()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float
    ) -> asyncio.Task[dict[str, Any]]:
        """The next inbound message for which `predicate` is true (asyncio.TimeoutError otherwise).
        The watch starts at the call, not at the await, so `w = c.wait_for(...); await act(); await w`
        never misses an answer that arrives during `act()`."""
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append(_Waiter(predicate, fut))

        async def wait() -> dict[str, Any]:
            try:
                return await asyncio.wait_for(fut, timeout)
            finally:
                self._waiters = [w for w in self._waiters if w.future is not fut]

        return asyncio.ensure_future(wait())

    async def wait_until(self, condition: Callable[[SessionView], bool], timeout: float) -> bool:
        """Wait until the view satisfies `condition` (checked now and after every message)."""
        if condition(self.view):
            return True
        try:
            await self.wait_for(lambda _m: condition(self.view), timeout)
            return True
        except TimeoutError:
            return condition(self.view)

    # --- convenience requests ----------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return ids.new_id(prefix)

    async def announce(
        self,
        objective: str,
        files: list[str] | None = None,
        *,
        scope: dict[str, Any] | None = None,
        symbols: list[str] | None = None,
        intent_id: str | None = None,
        ttl_sec: float | None = None,
        timeout: float = 10.0,
        **extra: Any,
    ) -> Reply:
        """INTENT_ANNOUNCE of `files` and `symbols` (or of `scope`). Symbol ids (`path::name`) make a
        symbol scope when the session coordinates symbols, else a `file_set` of their files; every
        symbol name is also `extensions.affects_symbols` (bare names only go there). See
        `bridge.client.scope.announce_scope`. Extra payload fields given as None are left out."""
        if scope is not None:
            scope = dict(scope)
            if symbols:
                scope["extensions"] = {
                    **(scope.get("extensions") or {}),
                    "affects_symbols": list(symbols),
                }
        else:
            scope = announce_scope(
                files or [],
                symbols or [],
                namespace=self.view.session_id or self.session_id,
                granularity=self.session.granularity,
            )
        payload = {
            "intent_id": intent_id or self.new_id("intent"),
            "objective": objective,
            "scope": scope,
            **{k: v for k, v in extra.items() if v is not None},
        }
        if ttl_sec is not None:
            payload["ttl_sec"] = ttl_sec
        return await self.request("INTENT_ANNOUNCE", payload, timeout)

    async def withdraw(
        self, intent_id: str, reason: str | None = None, timeout: float = 10.0
    ) -> Reply:
        return await self.request(
            "INTENT_WITHDRAW",
            {"intent_id": intent_id, **({"reason": reason} if reason else {})},
            timeout,
        )

    async def commit(
        self,
        intent_id: str,
        target: str,
        before: str | None,
        after: str | None,
        *,
        op_id: str | None = None,
        op_kind: str = "replace",
        summary: str | None = None,
        extensions: dict[str, Any] | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        payload: dict[str, Any] = {
            "op_id": op_id or self.new_id("op"),
            "intent_id": intent_id,
            "target": target,
            "op_kind": op_kind,
            "state_ref_before": before,
            "state_ref_after": after,
        }
        if summary:
            payload["summary"] = summary
        if extensions:
            payload["extensions"] = extensions
        return await self.request("OP_COMMIT", payload, timeout)

    async def close(self, disposition: str = "withdraw", reason: str = "user_exit") -> None:
        """GOODBYE with the intent disposition, then close. Idempotent."""
        if self._closing:
            return
        self._closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.request(
                    "GOODBYE", {"reason": reason, "intent_disposition": disposition}, timeout=3
                )
        await self._shutdown()

    async def abort(self) -> None:
        """Drop the connection without GOODBYE (what a crash looks like to the coordinator)."""
        self._closing = True
        await self._shutdown()

    async def _shutdown(self) -> None:
        ws, self.ws = self.ws, None
        if self._status_timer is not None:
            self._status_timer.cancel()
            self._status_timer = None
        if ws is not None:
            # closed while the reader still drains: with unread messages queued, websockets stops
            # reading the socket and would not see the server's close frame (10 s close timeout)
            with contextlib.suppress(Exception):
                await ws.close()
        for t in self._tasks:
            t.cancel()
        self.connected.clear()
        if self.state != "closed":
            self._set_state("closed")

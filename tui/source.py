"""Where the dashboard's session comes from: a live client, or a fixed view.

The app is written against `Source` only. `LiveSource` wraps a `SessionClient`: it joins, posts
every message and connection change to the app, follows a restarted repository sidecar, and is
what actions are sent with. `FixedSource` shows a given view (snapshots, benchmarks): nothing
arrives, and actions are refused as read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from textual.message import Message

from bridge.client import JoinRefused, Session, SessionClient, SessionView, follow_sidecar
from bridge.client.notices import connection_state
from tui.messages import ConnectionChanged, Notice, SessionEvent, SidecarMoved

Post = Callable[[Message], object]


class Source(Protocol):
    """What the dashboard needs of a session: what to show, where it comes from, what to send with."""

    @property
    def session(self) -> Session: ...

    @property
    def url(self) -> str: ...  # the coordinator's url, for the banner ('' when there is none)

    @property
    def state(self) -> str: ...  # connecting, connected, reconnecting, disconnected or closed

    @property
    def client(self) -> SessionClient | None: ...  # what actions are sent with; None: read-only

    def backlog(self) -> list[dict[str, Any]]:
        """Messages seen before the app started, for the log."""
        ...

    async def follow(self, post: Post) -> None:
        """Join if needed, then post a SessionEvent for every message and a ConnectionChanged for
        every change of state, until the source closes (a fixed source returns at once)."""
        ...

    async def close(self) -> None: ...


class FixedSource:
    """A given view that never changes by itself; actions are refused as read-only."""

    def __init__(
        self,
        view: SessionView | None = None,
        *,
        me: str = "human:you",
        url: str = "",
        state: str = "connected",
        events: list[dict[str, Any]] | None = None,
    ) -> None:
        self.session = Session(view or SessionView(), me)
        self.url, self.state, self.events = url, state, list(events or [])
        self.client: SessionClient | None = None

    def backlog(self) -> list[dict[str, Any]]:
        return self.events

    async def follow(self, post: Post) -> None:
        return None

    async def close(self) -> None:
        return None


class LiveSource:
    """A participant connection. `ensure` (workspace mode) starts the repository's sidecar if
    needed and returns its url: while reconnecting, the client is pointed at wherever it runs."""

    def __init__(self, client: SessionClient, ensure: Callable[[], str] | None = None) -> None:
        self.client, self.ensure = client, ensure
        self._mover: asyncio.Task[None] | None = None

    @property
    def session(self) -> Session:
        """The client's typed view (it is replaced on each rejoin: never keep it)."""
        return self.client.session

    @property
    def url(self) -> str:
        """Where the client connects (it changes when the repository's sidecar moves)."""
        return self.client.url

    @property
    def state(self) -> str:
        return self.client.state

    def backlog(self) -> list[dict[str, Any]]:
        return []

    async def follow(self, post: Post) -> None:
        client = self.client
        queue = client.subscribe()
        try:
            if client.state in ("disconnected", "connecting"):
                try:
                    await client.connect()
                except (JoinRefused, TimeoutError) as exc:
                    post(ConnectionChanged("disconnected"))
                    post(Notice(f"cannot join: {exc}", "error", 30))
                    return
            post(ConnectionChanged(client.state, fresh=True))
            while True:
                msg = await queue.get()
                if (state := connection_state(msg)) is not None:
                    post(ConnectionChanged(state))
                    if state == "reconnecting":
                        self._follow_sidecar(post)
                post(SessionEvent(msg))
        finally:
            client.unsubscribe(queue)
            if self._mover is not None:
                self._mover.cancel()

    def _follow_sidecar(self, post: Post) -> None:
        if self.ensure is None or (self._mover is not None and not self._mover.done()):
            return
        self._mover = asyncio.get_running_loop().create_task(
            follow_sidecar(
                self.client,
                self.ensure,
                on_moved=lambda url: post(SidecarMoved(url)),
                on_error=lambda exc: post(
                    Notice(f"the repository's sidecar is not available: {exc}")
                ),
            )
        )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.close(), 5)

"""Test helpers for the dashboard: build one on a fixed view, record the answers to its actions,
and wait for a condition, checked after each change the app shows (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from textual.pilot import Pilot

from bridge.client import SessionView
from tests.tui.sample import T0, build_view
from tui.app import Dashboard
from tui.messages import ActionAnswered
from tui.source import FixedSource

Condition = Callable[[Dashboard], bool]


def fixed(
    messages: list[dict[str, Any]] | None = None,
    *,
    view: SessionView | None = None,
    state: str = "connected",
    url: str = "",
    log: bool = True,
    **options: Any,
) -> Dashboard:
    """A dashboard on a fixed view built from `messages` (shown in the log too, with `log`), at
    the sample's clock, without countdown ticks."""
    msgs = list(messages or [])
    source = FixedSource(
        view or build_view(messages=msgs),
        me="human:lead",
        url=url,
        state=state,
        events=msgs if log else None,
    )
    options.setdefault("clock", lambda: T0 + 120)
    options.setdefault("tick_interval", None)
    return Dashboard(source, **options)


class Watch:
    """Follows a running dashboard: `answers` to its actions, and `settle(condition)`."""

    def __init__(self, app: Dashboard) -> None:
        self.app = app
        self.answers: list[ActionAnswered] = []
        self._waiters: list[tuple[Condition, asyncio.Future[bool]]] = []
        app.updated.subscribe(app, self._changed, immediate=True)
        app.screen_change_signal.subscribe(app, self._changed, immediate=True)

    def _changed(self, data: object) -> None:
        if isinstance(data, ActionAnswered):
            self.answers.append(data)
        for condition, fut in list(self._waiters):
            if not fut.done():
                try:
                    hit = condition(self.app)
                except Exception:
                    hit = False
                if hit:
                    fut.set_result(True)

    async def settle(self, condition: Condition, timeout: float = 15.0) -> bool:
        """Wait until `condition(app)` holds (checked now, then after every message applied,
        connection change, answer, file-tree change and screen change)."""
        if condition(self.app):
            return True
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        entry = (condition, fut)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return condition(self.app)
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    async def prompt(self, kind: type, timeout: float = 15.0) -> None:
        """Wait until a prompt of this kind is on top (an action's worker pushes it)."""
        assert await self.settle(lambda a: isinstance(a.screen, kind), timeout), (
            f"no {kind.__name__} shown"
        )


@contextlib.asynccontextmanager
async def running(
    app: Dashboard, size: tuple[int, int] = (100, 30)
) -> AsyncIterator[tuple[Pilot[int], Watch]]:
    async with app.run_test(size=size) as pilot:
        yield pilot, Watch(app)

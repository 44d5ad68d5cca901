"""Snapshots of four screens from a fixed view state and a fixed clock (no live sidecar)."""

from __future__ import annotations

from tui.app import Dashboard
from tui.sample import FILES, T0, build_view, busy_messages


def make(state: str = "connected", busy: bool = True, theme: str | None = None) -> Dashboard:
    msgs = busy_messages(agents=3, intents=10) if busy else []
    return Dashboard(view=build_view(messages=msgs), me="human:lead", url="ws://127.0.0.1:7777", state=state,
                     clock=lambda: T0 + 120, tick_interval=None, files=FILES if busy else [], events=msgs, theme=theme)


def test_empty(snap_compare) -> None:
    assert snap_compare(make(busy=False), terminal_size=(100, 30))


def test_busy(snap_compare) -> None:
    assert snap_compare(make(), terminal_size=(100, 30))


def test_conflict_selected(snap_compare) -> None:
    assert snap_compare(make(), terminal_size=(100, 30), press=["2", "enter"])


def test_disconnected_small(snap_compare) -> None:
    assert snap_compare(make(state="reconnecting"), terminal_size=(80, 24))


def test_busy_light_small(snap_compare) -> None:
    assert snap_compare(make(theme="textual-light"), terminal_size=(80, 24), press=["4"])

"""Snapshots of four screens from a fixed view state and a fixed clock (no live sidecar)."""

from __future__ import annotations

from tests.tui.helpers import fixed
from tests.tui.sample import FILES, busy_messages
from tui.app import Dashboard


def make(state: str = "connected", busy: bool = True, theme: str | None = None) -> Dashboard:
    msgs = busy_messages(agents=3, intents=10) if busy else []
    return fixed(
        msgs, url="ws://127.0.0.1:7777", state=state, files=FILES if busy else [], theme=theme
    )


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


def test_files_with_symbols(snap_compare) -> None:
    """Issue 19: a file whose functions are claimed expands into them, each with its holder."""
    from tests.tui.sample import symbol_messages

    app = fixed(symbol_messages(), url="ws://127.0.0.1:7777", files=FILES)
    assert snap_compare(app, terminal_size=(100, 30), press=["4"])

"""The connection banner: visible only while the coordinator is unreachable."""

from __future__ import annotations

from textual.widgets import Static


class ConnectionBanner(Static):
    def show_state(self, state: str, url: str) -> None:
        down = state not in ("connected", "connecting")
        self.set_class(down, "down")
        if down:
            what = "reconnecting to" if state == "reconnecting" else "disconnected from"
            self.update(f"⚠ {what} {url or 'the coordinator'} · last known state shown")

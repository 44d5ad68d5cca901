"""The live event log, filterable by participant, message type and text."""

from __future__ import annotations

from collections import deque

from textual.widgets import RichLog

from bridge.client import short
from tui.model import LogEntry, LogFilter, clip, escape, hms

TYPE_STYLE = {
    "PROTOCOL_ERROR": "red",
    "CONFLICT_REPORT": "bold red",
    "RESOLUTION": "green",
    "OP_COMMIT": "cyan",
    "INTENT_ANNOUNCE": "yellow",
    "_CONNECTION": "magenta",
}


def line(e: LogEntry, utc_hms: str) -> str:
    style = TYPE_STYLE.get(e.mtype, "bold")
    who = short(e.sender) or "-"
    who = "coordinator" if who.startswith("coordinator") else clip(who, 12)
    return f"[dim]{utc_hms}[/] {escape(who):<11} [{style}]{e.mtype}[/] {escape(e.text)}"


class EventLog(RichLog):
    """Keeps the last `limit` entries; a new entry is appended (one write), a filter change redraws."""

    def __init__(
        self,
        limit: int = 2000,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            markup=True, wrap=False, max_lines=limit, name=name, id=id, classes=classes
        )
        self.entries: deque[LogEntry] = deque(maxlen=limit)
        self.filter = LogFilter()

    def add(self, e: LogEntry) -> None:
        self.entries.append(e)
        if self.filter.matches(e):
            self.write(line(e, hms(e.ts)))

    def set_filter(self, f: LogFilter) -> None:
        self.filter = f
        self.clear()
        for e in self.entries:
            if f.matches(e):
                self.write(line(e, hms(e.ts)))

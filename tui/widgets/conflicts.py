"""The Conflicts table: category, severity, state, parties, age, time to resolution timeout."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.client import SessionView
from tui.model import CONFLICT_COLUMNS, conflict_row
from tui.widgets.synctable import SyncTable


class ConflictTable(SyncTable):
    COLUMNS = CONFLICT_COLUMNS

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.related: dict[str, list[str]] = {}  # conflict id -> its intents, kept after resolution

    def refresh_from(self, view: SessionView, now: float, keys: Iterable[str] | None) -> None:
        ids = list(view.conflicts) if keys is None else list(keys)
        for c in ids:
            if c in view.conflicts:
                self.related[c] = list(view.conflicts[c].get("related_intents") or [])
        rows = {c: conflict_row(view.conflicts[c], now, view) for c in ids if c in view.conflicts}
        self.sync_keys(None if keys is None else ids, rows)

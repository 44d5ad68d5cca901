"""The Conflicts table: category, severity, state, parties, age, time to resolution timeout."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.client import Session
from tui.model import CONFLICT_COLUMNS, conflict_row
from tui.widgets.synctable import SyncTable


class ConflictTable(SyncTable):
    COLUMNS = CONFLICT_COLUMNS

    def __init__(self, **kwargs: str | None) -> None:  # name, id, classes
        super().__init__(**kwargs)
        self.related: dict[str, list[str]] = {}  # conflict id -> its intents, kept after resolution

    def refresh_from(self, session: Session, now: float, keys: Iterable[str] | None) -> None:
        ids = session.conflict_ids() if keys is None else list(keys)
        rows = {}
        for cid in ids:
            if (c := session.conflict(cid)) is not None:
                self.related[cid] = list(c.related_intents)
                rows[cid] = conflict_row(c, now, session)
        self.sync_keys(None if keys is None else ids, rows)

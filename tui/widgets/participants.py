"""The Participants table: name, human/agent, roles, status, last seen, available."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.client import SessionView
from tui.model import PARTICIPANT_COLUMNS, participant_row
from tui.widgets.synctable import SyncTable


class ParticipantTable(SyncTable):
    COLUMNS = PARTICIPANT_COLUMNS

    def refresh_from(self, view: SessionView, now: float, keys: Iterable[str] | None,
                     seen: dict[str, float], status: dict[str, str]) -> None:
        ids = list(view.participants) if keys is None else list(keys)
        rows = {p: participant_row(view.participants[p], now, seen.get(p), status.get(p)) for p in ids if p in view.participants}
        self.sync_keys(None if keys is None else ids, rows)

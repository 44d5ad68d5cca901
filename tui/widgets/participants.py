"""The Participants table: name, human/agent, roles, status, last seen, available."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.client import Session
from tui.model import PARTICIPANT_COLUMNS, participant_row
from tui.widgets.synctable import SyncTable


class ParticipantTable(SyncTable):
    COLUMNS = PARTICIPANT_COLUMNS

    def refresh_from(
        self,
        session: Session,
        now: float,
        keys: Iterable[str] | None,
        seen: dict[str, float],
        status: dict[str, str],
    ) -> None:
        ids = session.participant_ids() if keys is None else list(keys)
        rows = {
            pid: participant_row(p, now, seen.get(pid), status.get(pid))
            for pid in ids
            if (p := session.participant(pid)) is not None
        }
        self.sync_keys(None if keys is None else ids, rows)

"""The Intents table: owner, objective, files, state, TTL countdown, deferred-by."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.client import Session
from tui.model import INTENT_COLUMNS, duration, intent_row
from tui.widgets.synctable import SyncTable


class IntentTable(SyncTable):
    COLUMNS = INTENT_COLUMNS

    def __init__(self, **kwargs: str | None) -> None:  # name, id, classes
        super().__init__(**kwargs)
        self.owner_of: dict[str, str] = {}

    def refresh_from(
        self, session: Session, now: float, keys: Iterable[str] | None, owners: Iterable[str] = ()
    ) -> None:
        """Reconcile the given intent ids (all when None), plus every row owned by `owners`."""
        if keys is not None and owners:
            who = set(owners)
            keys = set(keys) | {k for k, o in self.owner_of.items() if o in who}
            keys |= set(session.intent_ids(owners=who))
        ids = session.intent_ids() if keys is None else list(keys)
        live = {iid: i for iid in ids if (i := session.intent(iid)) is not None}
        rows = {iid: intent_row(i, now) for iid, i in live.items()}
        for iid in ids:
            if iid in live:
                self.owner_of[iid] = live[iid].principal_id
            else:
                self.owner_of.pop(iid, None)
        if keys is None:
            self.owner_of = {k: v for k, v in self.owner_of.items() if k in live}
        self.sync_keys(None if keys is None else ids, rows)

    def tick(self, session: Session, now: float) -> None:
        """Move the TTL countdowns: one cell per row whose text changed, nothing else."""
        col = INTENT_COLUMNS.index("TTL")
        for key, row in list(self.rows_by_key.items()):
            intent = session.intent(key)
            if intent is None:
                continue
            ttl = duration(intent.ttl_left(now))
            if row[col] != ttl:
                self.rows_by_key[key] = (*row[:col], ttl, *row[col + 1 :])
                self.update_cell(key, str(col), ttl)

"""The Intents table: owner, objective, files, state, TTL countdown, deferred-by."""

from __future__ import annotations

from collections.abc import Iterable

from bridge.client import SessionView
from tui.model import INTENT_COLUMNS, duration, intent_row, ttl_left
from tui.widgets.synctable import SyncTable


class IntentTable(SyncTable):
    COLUMNS = INTENT_COLUMNS

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.owner_of: dict[str, str] = {}

    def refresh_from(self, view: SessionView, now: float, keys: Iterable[str] | None,
                     owners: Iterable[str] = ()) -> None:
        """Reconcile the given intent ids (all when None), plus every row owned by `owners`."""
        if keys is not None and owners:
            who = set(owners)
            keys = set(keys) | {k for k, o in self.owner_of.items() if o in who}
            keys |= {k for k, i in view.intents.items() if i.get("principal_id") in who}
        ids = list(view.intents) if keys is None else list(keys)
        rows = {i: intent_row(view.intents[i], now) for i in ids if i in view.intents}
        for i in ids:
            if i in view.intents:
                self.owner_of[i] = str(view.intents[i].get("principal_id", ""))
            else:
                self.owner_of.pop(i, None)
        if keys is None:
            self.owner_of = {k: v for k, v in self.owner_of.items() if k in view.intents}
        self.sync_keys(None if keys is None else ids, rows)

    def tick(self, view: SessionView, now: float) -> None:
        """Move the TTL countdowns: one cell per row whose text changed, nothing else."""
        col = INTENT_COLUMNS.index("TTL")
        for key, row in list(self.rows_by_key.items()):
            intent = view.intents.get(key)
            if intent is None:
                continue
            ttl = duration(ttl_left(intent, now))
            if row[col] != ttl:
                self.rows_by_key[key] = (*row[:col], ttl, *row[col + 1:])
                self.update_cell(key, str(col), ttl)

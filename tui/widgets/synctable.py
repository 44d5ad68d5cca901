"""A DataTable that is kept in step with keyed rows by single-row inserts, updates and removals."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import DataTable

Row = tuple[str, ...]


class SyncTable(DataTable[str]):
    """`upsert`/`discard` touch one row; `sync_keys` reconciles only the keys it is given."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, name=name, id=id, classes=classes)
        self.rows_by_key: dict[str, Row] = {}
        self.ops = {"insert": 0, "update": 0, "remove": 0}

    def on_mount(self) -> None:
        for i, name in enumerate(self.COLUMNS):
            self.add_column(name, key=str(i))

    def upsert(self, key: str, row: Row) -> None:
        old = self.rows_by_key.get(key)
        if old == row:
            return
        if old is None:
            self.add_row(*row, key=key)
            self.ops["insert"] += 1
        else:
            for i, (a, b) in enumerate(zip(old, row, strict=False)):
                if a != b:
                    self.update_cell(key, str(i), b)
            self.ops["update"] += 1
        self.rows_by_key[key] = row

    def discard(self, key: str) -> None:
        if self.rows_by_key.pop(key, None) is not None:
            self.remove_row(key)
            self.ops["remove"] += 1

    def sync_keys(self, keys: Iterable[str] | None, rows: dict[str, Row]) -> None:
        """Reconcile `keys` (all known and new keys when None) against `rows`, the wanted rows for
        those keys; a key absent from `rows` is removed."""
        todo = set(rows) | set(self.rows_by_key) if keys is None else set(keys)
        for key in sorted(todo):
            row = rows.get(key)
            if row is None:
                self.discard(key)
            else:
                self.upsert(key, row)

    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None

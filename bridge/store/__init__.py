"""Durable session state: a journal of the calls that changed a session, and snapshots.

`SqliteStore` is the default (one process). `PostgresStore` (bridge.store.postgres, needs the
`postgres` extra: psycopg 3) is shared by the nodes of a fleet and adds session leases.
"""

from bridge.store.base import JournalEntry, LeaseLost, Store, StoreError, StoreUnavailable
from bridge.store.sqlite import SqliteStore

__all__ = ["JournalEntry", "LeaseLost", "SqliteStore", "Store", "StoreError", "StoreUnavailable"]

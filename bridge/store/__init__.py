"""Durable session state: a journal of the calls that changed a session, and snapshots."""

from bridge.store.base import JournalEntry, Store
from bridge.store.sqlite import SqliteStore

__all__ = ["JournalEntry", "SqliteStore", "Store"]

"""Durable coordinator state: append-only journal and SQLite snapshots."""

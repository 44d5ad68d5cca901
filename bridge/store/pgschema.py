"""The fleet's tables in PostgreSQL, created and migrated by the store itself.

`mpac_schema` holds one row: the schema version. Opening a store brings an older schema up to
`SCHEMA_VERSION` (every missing step, in one transaction, under an advisory lock so two nodes
starting together do not race) and refuses a newer one: a node must never write
to tables it does not understand. A role without the CREATE privilege can run nodes once the
schema is current (an administrator ran `mpac-bridge fleet migrate` or a first node did).
"""

from __future__ import annotations

from typing import Any

import psycopg

from bridge.store.base import StoreError

SCHEMA_VERSION = 1
MIGRATION_LOCK = 0x6D706163  # "mpac": pg_advisory_xact_lock key held while migrating

# MIGRATIONS[n] brings the schema from version n to n + 1.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE mpac_sessions (
        session_id     text PRIMARY KEY,
        holder         text,                -- node incarnation serving it; NULL once released
        epoch          bigint NOT NULL,     -- coordinator_epoch; bumped by every lease taken
        lease_expires  timestamptz,         -- database clock; the holder renews it on a timer
        created_at     timestamptz NOT NULL DEFAULT now(),
        taken_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX mpac_sessions_holder ON mpac_sessions (holder);
    CREATE TABLE mpac_journal (
        session_id  text NOT NULL,
        seq         bigint NOT NULL,
        kind        text NOT NULL,
        now         double precision NOT NULL,
        raw         text,
        bound       text,
        epoch       bigint NOT NULL,        -- the lease epoch it was appended under
        node        text NOT NULL,          -- the node incarnation that appended it
        PRIMARY KEY (session_id, seq)
    );
    CREATE TABLE mpac_snapshots (
        session_id  text PRIMARY KEY,
        seq         bigint NOT NULL,
        state       text NOT NULL,
        epoch       bigint NOT NULL,
        taken_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE mpac_nodes (
        node_id        text PRIMARY KEY,    -- name/incarnation
        name           text NOT NULL,
        url            text NOT NULL,       -- where clients are sent to reach this node
        backend_pid    integer,             -- its lease connection: gone from pg_stat_activity = dead
        backend_start  timestamptz,
        started_at     timestamptz NOT NULL DEFAULT now(),
        last_seen      timestamptz NOT NULL DEFAULT now(),
        stopped_at     timestamptz
    );
    """,
]


def _version(conn: psycopg.Connection[Any]) -> int | None:
    row = conn.execute("SELECT to_regclass('mpac_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    got = conn.execute("SELECT max(version) FROM mpac_schema").fetchone()
    return int(got[0]) if got and got[0] is not None else 0


def migrate(conn: psycopg.Connection[Any], target: int = SCHEMA_VERSION) -> int:
    """Bring the schema to `target`; returns the version found before. Raises StoreError for a
    schema newer than this build understands."""
    found = _version(conn)
    if found is not None and found > target:
        raise StoreError(
            f"the database's mpac schema is version {found}, newer than this mpac-bridge understands "
            f"(version {target}); upgrade mpac-bridge on this node before starting it"
        )
    if found == target:
        return found
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS mpac_schema (version integer NOT NULL)")
        current = _version(conn) or 0
        if current > target:
            raise StoreError(
                f"the database's mpac schema is version {current}, newer than this mpac-bridge ({target})"
            )
        for step in range(current, target):
            conn.execute(MIGRATIONS[step])
        if current < target:
            conn.execute("DELETE FROM mpac_schema")
            conn.execute("INSERT INTO mpac_schema (version) VALUES (%s)", (target,))
    return found or 0

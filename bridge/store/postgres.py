"""PostgreSQL store: the journal and snapshots of a fleet's sessions, and the leases that give each
session to exactly one node at a time.

Fencing. A node serves a session only while it holds the session's lease (a row in
`mpac_sessions`: holder, epoch, expiry on the database clock). Taking a lease bumps the epoch.
Every journal append and snapshot is one statement that locks that row `FOR SHARE` and writes only
if the row still names this node at the epoch it took: a takeover's UPDATE waits for appends in
flight, and an append that waits for a takeover re-reads the row and writes nothing. So a node
that was paused, cut off or slow cannot append after another node took the session over; it gets
LeaseLost instead.

Two connections per node: `main` for the event loop (appends, snapshots, loads, claims) and `side`
for the lease timer thread (renewals, pings). The side connection is also the node's sign of life:
its backend is registered in `mpac_nodes`, and a lease whose holder's registered backend is gone
from pg_stat_activity (the process died and the kernel closed its socket) may be taken at once,
without waiting for the expiry. A paused or partitioned node keeps its backend, so its sessions
move only when the lease expires.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg import errors as pgerrors

from bridge.store.base import JournalEntry, LeaseLost, StoreError
from bridge.store.pglink import PgLink
from bridge.store.pgschema import SCHEMA_VERSION, migrate

log = logging.getLogger("mpac.store")


class LeaseHeld(StoreError):
    """Another live node holds the session's lease; `holder` is its LeaseInfo."""

    def __init__(self, session_id: str, holder: LeaseInfo) -> None:
        super().__init__(
            f"session {session_id} is served by node {holder.holder_name} (lease epoch {holder.epoch})"
        )
        self.session_id = session_id
        self.holder = holder


@dataclass(frozen=True)
class NodeIdentity:
    name: str  # unique in the fleet, stable across restarts (e.g. the host name)
    incarnation: str  # new for every process start
    url: str  # where clients are sent to reach this node (absolute ws(s):// or a path on the proxy)

    @property
    def node_id(self) -> str:
        return f"{self.name}/{self.incarnation}"


@dataclass(frozen=True)
class LeaseInfo:
    session_id: str
    holder: str | None  # node id, None when released
    epoch: int
    expires_in: float | None  # seconds (negative: expired)
    alive: bool  # the holder's database session still exists (or cannot be judged)
    url: str | None  # the holder's client url

    @property
    def holder_name(self) -> str:
        return (self.holder or "-").split("/", 1)[0]

    @property
    def takeable(self) -> bool:
        return (
            self.holder is None
            or (self.expires_in is not None and self.expires_in <= 0)
            or not self.alive
        )


# A holder counts as alive while its registered backend exists. If the database restarted after
# the node registered, nobody's backend survives: fall back to the expiry (the node re-registers
# within one renewal). pg_stat_activity hides backend_start of another role's sessions (unless
# pg_read_all_stats): then the pid alone decides, and a reused pid only means waiting for expiry.
_ALIVE = """
    EXISTS (SELECT 1 FROM mpac_nodes n WHERE n.node_id = {holder} AND n.stopped_at IS NULL AND (
        n.backend_pid IS NULL OR n.backend_start < pg_postmaster_start_time()
        OR EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = n.backend_pid
                   AND (a.backend_start IS NULL OR a.backend_start = n.backend_start))))
"""
CLAIM = f"""
INSERT INTO mpac_sessions AS s (session_id, holder, epoch, lease_expires)
VALUES (%(s)s, %(me)s, 1, now() + %(ttl)s * interval '1 second')
ON CONFLICT (session_id) DO UPDATE
SET holder = excluded.holder, epoch = s.epoch + 1, lease_expires = excluded.lease_expires, taken_at = now()
WHERE s.holder IS NULL OR s.holder = %(me)s OR s.lease_expires < now() OR NOT {_ALIVE.format(holder="s.holder")}
RETURNING epoch
"""
LEASE_INFO = f"""
SELECT s.holder, s.epoch, extract(epoch FROM s.lease_expires - now()), {_ALIVE.format(holder="s.holder")},
       (SELECT url FROM mpac_nodes WHERE node_id = s.holder)
FROM mpac_sessions s WHERE s.session_id = %s
"""
APPEND = """
WITH lease AS (SELECT 1 FROM mpac_sessions WHERE session_id = %s AND holder = %s AND epoch = %s FOR SHARE)
INSERT INTO mpac_journal (session_id, seq, kind, now, raw, bound, epoch, node)
SELECT %s, %s, %s, %s, %s, %s, %s, %s FROM lease
"""
SNAPSHOT = """
WITH lease AS (SELECT 1 FROM mpac_sessions WHERE session_id = %(s)s AND holder = %(me)s AND epoch = %(e)s FOR SHARE),
snap AS (
    INSERT INTO mpac_snapshots AS p (session_id, seq, state, epoch)
    SELECT %(s)s, %(q)s, %(state)s, %(e)s FROM lease
    ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, state = excluded.state, epoch = excluded.epoch, taken_at = now()
    RETURNING 1
),
dropped AS (DELETE FROM mpac_journal WHERE session_id = %(s)s AND seq <= %(q)s AND EXISTS (SELECT 1 FROM snap))
SELECT count(*) FROM snap
"""
RENEW = """
WITH me AS (UPDATE mpac_nodes SET last_seen = now() WHERE node_id = %(me)s)
UPDATE mpac_sessions SET lease_expires = now() + %(ttl)s * interval '1 second'
WHERE holder = %(me)s RETURNING session_id, epoch
"""
REGISTER = """
INSERT INTO mpac_nodes (node_id, name, url, backend_pid, backend_start)
SELECT %(me)s, %(name)s, %(url)s, pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()
ON CONFLICT (node_id) DO UPDATE SET backend_pid = excluded.backend_pid, backend_start = excluded.backend_start,
    url = excluded.url, last_seen = now(), stopped_at = NULL
"""


class PostgresStore:
    """The Store of a fleet node (with `node`), or a read-only view for `fleet status` (without)."""

    def __init__(
        self,
        url: str,
        node: NodeIdentity | None = None,
        *,
        lease_ttl: float = 5.0,
        connect_timeout: float = 3.0,
    ) -> None:
        self.node = node
        self.lease_ttl = lease_ttl
        app = f"mpac-bridge {node.node_id}" if node else "mpac-bridge"
        self.main = PgLink(url, app, connect_timeout=connect_timeout)
        self.side = PgLink(
            url,
            app + " lease",
            connect_timeout=connect_timeout,
            on_connect=self._register if node else None,
        )
        self.where = self.main.where
        self.held: dict[str, int] = {}  # session -> the lease epoch this node holds
        self._seq: dict[str, int] = {}
        self.main.run(migrate)  # first use: a clear error now if the database is unusable
        if node is not None:
            self.side.run(lambda _c: None)  # connects and registers this node

    # --- nodes -------------------------------------------------------------------------------

    def _register(self, conn: psycopg.Connection[Any]) -> None:
        assert self.node is not None
        conn.execute(
            REGISTER, {"me": self.node.node_id, "name": self.node.name, "url": self.node.url}
        )

    def advertise(self, url: str) -> None:
        """Set the url clients are redirected to for this node (known once it listens)."""
        assert self.node is not None
        self.node = replace(self.node, url=url)
        self.side.run(
            lambda c: c.execute("UPDATE mpac_nodes SET url = %s WHERE node_id = %s", (url, self.me))
        )

    @property
    def me(self) -> str:
        if self.node is None:
            raise StoreError("this PostgreSQL store was opened without a node identity (read-only)")
        return self.node.node_id

    # --- leases ------------------------------------------------------------------------------

    def claim(self, session_id: str) -> int:
        """Take the session's lease (free, expired, held by a dead node, or ours already): returns
        the new epoch. Raises LeaseHeld when another live node holds it."""
        me = self.me
        before = self.lease_info(session_id)
        row = self.main.run(
            lambda c: c.execute(
                CLAIM, {"s": session_id, "me": me, "ttl": self.lease_ttl}
            ).fetchone()
        )
        if row is None:
            info = self.lease_info(session_id)
            raise LeaseHeld(session_id, info or LeaseInfo(session_id, None, 0, None, True, None))
        epoch = int(row[0])
        self.held[session_id] = epoch
        self._seq.pop(session_id, None)
        if before is None or before.holder is None:
            log.info("lease gained: session %s at epoch %d", session_id, epoch)
        elif before.holder != me:
            why = "its lease expired" if before.alive else "its node is gone"
            log.info(
                "lease gained: session %s at epoch %d, taken over from node %s (%s)",
                session_id,
                epoch,
                before.holder,
                why,
            )
        return epoch

    def lease_info(self, session_id: str) -> LeaseInfo | None:
        row = self.main.run(lambda c: c.execute(LEASE_INFO, (session_id,)).fetchone())
        if row is None:
            return None
        holder, epoch, expires, alive, url = row
        return LeaseInfo(
            session_id,
            holder,
            int(epoch),
            float(expires) if expires is not None else None,
            bool(alive),
            url,
        )

    def renew(self, held: dict[str, int] | None = None) -> dict[str, int]:
        """Extend every lease this node holds (called from the lease thread, with `held`, a copy
        of `self.held` taken by the caller's thread). Returns the leases it believed it held and
        no longer does: session -> epoch (another node took them)."""
        held_before = dict(self.held) if held is None else held
        rows = self.side.run(
            lambda c: c.execute(RENEW, {"me": self.me, "ttl": self.lease_ttl}).fetchall()
        )
        got = {sid: int(epoch) for sid, epoch in rows}
        return {sid: epoch for sid, epoch in held_before.items() if got.get(sid) != epoch}

    def forget(self, session_id: str) -> None:
        """Stop considering the session ours (after LeaseLost); nothing is written."""
        self.held.pop(session_id, None)
        self._seq.pop(session_id, None)

    def release(self, session_id: str) -> None:
        """Give the lease up (clean stop, idle session) so another node can take it at once. A
        session that never wrote anything leaves no row behind."""
        epoch = self.held.pop(session_id, None)
        self._seq.pop(session_id, None)
        if epoch is None:
            return

        def go(c: psycopg.Connection[Any]) -> None:
            with c.transaction():
                c.execute(
                    "UPDATE mpac_sessions SET holder = NULL, lease_expires = NULL WHERE session_id = %s AND holder = %s AND epoch = %s",
                    (session_id, self.me, epoch),
                )
                c.execute(
                    "DELETE FROM mpac_sessions s WHERE session_id = %s AND holder IS NULL"
                    " AND NOT EXISTS (SELECT 1 FROM mpac_journal j WHERE j.session_id = s.session_id)"
                    " AND NOT EXISTS (SELECT 1 FROM mpac_snapshots p WHERE p.session_id = s.session_id)",
                    (session_id,),
                )

        self.main.run(go)
        log.info("lease released: session %s (epoch %d)", session_id, epoch)

    def _epoch(self, session_id: str) -> int:
        epoch = self.held.get(session_id)
        if epoch is None:
            raise LeaseLost(f"session {session_id}: this node holds no lease for it")
        return epoch

    def _lost(self, session_id: str, epoch: int) -> LeaseLost:
        self.forget(session_id)
        try:
            info = self.lease_info(session_id)
        except StoreError:
            info = None
        now_held = (
            f"node {info.holder_name} holds it at epoch {info.epoch}"
            if info and info.holder
            else "it was released"
        )
        return LeaseLost(
            f"session {session_id}: the database refused the write, this node's lease (epoch {epoch}) was taken over ({now_held})"
        )

    # --- fleet status ------------------------------------------------------------------------

    def fleet_status(self) -> dict[str, Any]:
        """Every session (holder, epoch, lease, journal) and every node, for `fleet status`."""

        def go(c: psycopg.Connection[Any]) -> dict[str, Any]:
            sessions = c.execute(
                "SELECT s.session_id, s.holder, s.epoch, extract(epoch FROM s.lease_expires - now()),"
                " greatest((SELECT max(seq) FROM mpac_journal j WHERE j.session_id = s.session_id), p.seq, 0),"
                " (SELECT count(*) FROM mpac_journal j WHERE j.session_id = s.session_id), p.seq"
                " FROM mpac_sessions s LEFT JOIN mpac_snapshots p ON p.session_id = s.session_id ORDER BY s.session_id"
            ).fetchall()
            nodes = c.execute(
                f"SELECT n.node_id, n.name, n.url, n.started_at, extract(epoch FROM now() - n.last_seen), n.stopped_at IS NOT NULL,"
                f" {_ALIVE.format(holder='n.node_id')},"
                " (SELECT count(*) FROM mpac_sessions s WHERE s.holder = n.node_id)"
                " FROM mpac_nodes n ORDER BY n.name, n.started_at"
            ).fetchall()
            return {"sessions": sessions, "nodes": nodes}

        raw = self.main.run(go)
        sessions = [
            {
                "session_id": sid,
                "holder": holder,
                "epoch": int(epoch),
                "lease_expires_in": float(exp) if exp is not None else None,
                "journal_length": int(last),
                "entries_since_snapshot": int(since),
                "snapshot_seq": int(snap) if snap is not None else None,
            }
            for sid, holder, epoch, exp, last, since, snap in raw["sessions"]
        ]
        nodes = [
            {
                "node_id": nid,
                "name": name,
                "url": url,
                "started_at": started.isoformat(),
                "last_seen_sec_ago": float(seen),
                "state": "stopped" if stopped else ("alive" if alive else "gone"),
                "sessions": int(count),
            }
            for nid, name, url, started, seen, stopped, alive, count in raw["nodes"]
        ]
        return {
            "store": self.where,
            "schema_version": SCHEMA_VERSION,
            "sessions": sessions,
            "nodes": nodes,
        }

    # --- the Store interface -----------------------------------------------------------------

    def _next(self, session_id: str) -> int:
        if session_id not in self._seq:
            self._seq[session_id] = self._max_seq(session_id)
        self._seq[session_id] += 1
        return self._seq[session_id]

    def _max_seq(self, session_id: str) -> int:
        row = self.main.run(
            lambda c: c.execute(
                "SELECT greatest((SELECT max(seq) FROM mpac_journal WHERE session_id = %s),"
                " (SELECT seq FROM mpac_snapshots WHERE session_id = %s))",
                (session_id, session_id),
            ).fetchone()
        )
        return int(row[0]) if row and row[0] is not None else 0

    def append(
        self,
        session_id: str,
        kind: str,
        now: float,
        raw: str | None = None,
        bound: str | None = None,
    ) -> int:
        epoch = self._epoch(session_id)
        me = self.me
        seq = self._next(session_id)
        params = (session_id, me, epoch, session_id, seq, kind, now, raw, bound, epoch, me)

        def go(c: psycopg.Connection[Any]) -> int:
            try:
                return c.execute(APPEND, params, prepare=True).rowcount
            except pgerrors.UniqueViolation:  # another writer used this seq: not ours any more
                return 0

        try:
            count = self.main.run(go)
        except StoreError:
            self._seq[session_id] = seq - 1
            raise
        if count != 1:
            raise self._lost(session_id, epoch)
        return seq

    def snapshot(self, session_id: str, seq: int, state: dict[str, Any]) -> None:
        epoch = self._epoch(session_id)
        text = json.dumps(state, separators=(",", ":"))
        params = {"s": session_id, "me": self.me, "e": epoch, "q": seq, "state": text}
        row = self.main.run(lambda c: c.execute(SNAPSHOT, params).fetchone())
        if not row or row[0] != 1:
            raise self._lost(session_id, epoch)

    def load(self, session_id: str) -> tuple[dict[str, Any] | None, list[JournalEntry]]:
        def go(c: psycopg.Connection[Any]) -> tuple[Any, list[Any]]:
            with c.transaction():  # one consistent view of snapshot and journal
                c.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                snap = c.execute(
                    "SELECT seq, state FROM mpac_snapshots WHERE session_id = %s", (session_id,)
                ).fetchone()
                rows = c.execute(
                    "SELECT seq, kind, now, raw, bound FROM mpac_journal WHERE session_id = %s AND seq > %s ORDER BY seq",
                    (session_id, snap[0] if snap else 0),
                ).fetchall()
            return snap, rows

        snap, rows = self.main.run(go)
        entries = [JournalEntry(int(r[0]), r[1], float(r[2]), r[3], r[4]) for r in rows]
        self._seq[session_id] = entries[-1].seq if entries else (int(snap[0]) if snap else 0)
        return (json.loads(snap[1]) if snap else None), entries

    def sessions(self) -> list[str]:
        rows = self.main.run(
            lambda c: c.execute(
                "SELECT session_id FROM mpac_snapshots UNION SELECT DISTINCT session_id FROM mpac_journal"
            ).fetchall()
        )
        return sorted(r[0] for r in rows)

    def last_seq(self, session_id: str) -> int:
        return self._seq.get(session_id) or 0

    def ping(self) -> None:
        """From the lease thread: raise StoreUnavailable unless the database answers."""
        self.side.run(lambda c: c.execute("SELECT 1").fetchone())
        self.main.failed_at = None  # let the loop's connection try again at once

    def describe(self) -> str:
        return f"{self.where} (schema {SCHEMA_VERSION})"

    def close(self) -> None:
        """Release every lease still held and mark the node stopped (a clean stop hands its
        sessions over at once), then close both connections."""
        if self.node is not None:
            try:
                self.main.run(
                    lambda c: c.execute(
                        "WITH n AS (UPDATE mpac_nodes SET stopped_at = now() WHERE node_id = %(me)s)"
                        " UPDATE mpac_sessions SET holder = NULL, lease_expires = NULL WHERE holder = %(me)s",
                        {"me": self.me},
                    )
                )
            except StoreError as exc:
                log.warning("could not release this node's leases on close: %s", exc)
            self.held.clear()
        self.side.close()
        self.main.close()

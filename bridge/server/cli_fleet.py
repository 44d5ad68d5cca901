"""`mpac-bridge fleet`: look at a fleet's shared PostgreSQL (sessions, holders, leases, nodes), or
create/migrate its tables ahead of the nodes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

HELP = "Show a fleet's sessions, their holder nodes, epochs and leases; or migrate its schema."


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "A fleet is several 'mpac-bridge sidecar --store postgresql://...' nodes sharing one PostgreSQL. "
        "'status' lists every session with the node serving it, its coordinator epoch, when its lease "
        "expires and its journal length, and every node that is alive or holds a lease. 'migrate' creates "
        "or upgrades the tables (run it with a role that may CREATE, so the nodes can run with a role that "
        "only reads and writes rows)."
    )
    p.add_argument(
        "action", nargs="?", default="status", choices=["status", "migrate"], help="default status"
    )
    p.add_argument(
        "--store", metavar="URL", help="postgresql://user@host/db (default $MPAC_STORE_URL)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument(
        "--all", action="store_true", help="also list stopped and dead node incarnations"
    )


def _age(seconds: float | None, future: bool = False) -> str:
    if seconds is None:
        return "-"
    if future:
        return f"{seconds:.1f} s left" if seconds >= 0 else f"expired {-seconds:.1f} s ago"
    return f"{seconds:.1f} s ago"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    )


def render(status: dict[str, Any], show_all: bool = False) -> str:
    lines = [f"fleet store: {status['store']} (schema {status['schema_version']})"]
    nodes = [n for n in status["nodes"] if show_all or n["state"] == "alive" or n["sessions"]]
    hidden = len(status["nodes"]) - len(nodes)
    lines.append(
        f"nodes ({len(nodes)}{f', {hidden} stopped or gone not shown (--all)' if hidden else ''}):"
    )
    if nodes:
        rows = [["NAME", "NODE", "STATE", "LAST SEEN", "SESSIONS", "URL"]]
        rows += [
            [
                n["name"],
                n["node_id"],
                n["state"],
                _age(n["last_seen_sec_ago"]),
                str(n["sessions"]),
                n["url"] or "-",
            ]
            for n in nodes
        ]
        lines.append(_table(rows))
    lines.append(f"sessions ({len(status['sessions'])}):")
    if status["sessions"]:
        rows = [["SESSION", "HOLDER", "EPOCH", "LEASE", "JOURNAL", "SINCE SNAPSHOT"]]
        for s in status["sessions"]:
            holder = s["holder"].split("/", 1)[0] if s["holder"] else "(released)"
            lease = _age(s["lease_expires_in"], future=True) if s["holder"] else "-"
            rows.append(
                [
                    s["session_id"],
                    holder,
                    str(s["epoch"]),
                    lease,
                    str(s["journal_length"]),
                    str(s["entries_since_snapshot"]),
                ]
            )
        lines.append(_table(rows))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    url = args.store or os.environ.get("MPAC_STORE_URL")
    if not url:
        print(
            "mpac-bridge fleet: give --store postgresql://... or set MPAC_STORE_URL",
            file=sys.stderr,
        )
        return 2
    try:
        from bridge.store.base import StoreError
        from bridge.store.postgres import PostgresStore
    except ImportError:
        print(
            "mpac-bridge fleet: needs psycopg: pip install 'mpac-bridge[postgres]'", file=sys.stderr
        )
        return 2
    try:
        store = PostgresStore(url)  # opening creates or migrates the schema
        try:
            if args.action == "migrate":
                print(f"schema of {store.describe()} is current")
                return 0
            status = store.fleet_status()
        finally:
            store.close()
    except StoreError as exc:
        print(f"mpac-bridge fleet: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(status, indent=2) if args.json else render(status, args.all))
    return 0

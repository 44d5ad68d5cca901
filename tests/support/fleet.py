"""Fleet nodes (real `mpac-bridge sidecar --store postgresql://...` processes) and what the tests
read from their shared database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.sidecar import RunningSidecar, start_sidecar


async def start_node(
    store_url: str,
    name: str,
    root: Path,
    *args: str,
    port: int = 0,
    ttl: float = 3.0,
    proxied: bool = False,
    env: dict[str, str] | None = None,
) -> RunningSidecar:
    """A fleet node named `name`. Behind a proxy it redirects to the proxy's /node/<name> route;
    otherwise to its own address (the default --node-url)."""
    argv = [
        "--multi-session",
        "--store",
        store_url,
        "--node-name",
        name,
        "--lease-ttl",
        str(ttl),
        "--port",
        str(port),
    ]
    if proxied:
        argv += ["--node-url", f"/node/{name}"]
    return await start_sidecar(*argv, *args, data_dir=root / name, env=env)


def query(store_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(store_url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def lease(store_url: str, session_id: str) -> tuple[str | None, int, float | None] | None:
    """(holder node name, epoch, seconds until expiry) of a session's lease."""
    rows = query(
        store_url,
        "SELECT holder, epoch, extract(epoch FROM lease_expires - now()) FROM mpac_sessions WHERE session_id = %s",
        session_id,
    )
    if not rows:
        return None
    holder, epoch, expires = rows[0]
    return (
        holder.split("/")[0] if holder else None,
        int(epoch),
        float(expires) if expires is not None else None,
    )


async def until(
    predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition"
) -> Any:
    """Poll `predicate` (a database row, a log line) until it is true; the value it returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)  # polling state outside this process, with a deadline


def log_of(node: RunningSidecar) -> str:
    return node.stderr_path.read_text(errors="replace")

"""Run the sidecar inside the current event loop (tests, benchmarks, embedding)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bridge.core import CoordinatorConfig
from bridge.server.app import Sidecar
from bridge.server.config import SESSION_ID, ServerConfig
from bridge.server.tokens import TokenTable
from bridge.store import SqliteStore, Store, StoreError


@dataclass
class RunningServer:
    """A started sidecar: its URL and port, and `stop()` for a clean shutdown."""

    sidecar: Sidecar
    port: int
    url: str
    _idle: asyncio.Task[None] | None = field(default=None, repr=False)

    def session_url(self, session_id: str) -> str:
        return f"{self.url}/session/{session_id}"

    async def wait_stopping(self) -> None:
        """Until a stop was asked for (signal, idle timeout or `stop()`)."""
        await self.sidecar.stopping.wait()

    async def stop(self) -> None:
        self.sidecar.stopping.set()
        if self._idle is not None:
            self._idle.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._idle
        await self.sidecar.shutdown()


def public_url(cfg: ServerConfig, port: int) -> str:
    scheme = "wss" if cfg.tls_cert else "ws"
    host = "127.0.0.1" if cfg.host in ("0.0.0.0", "") else cfg.host
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def open_store(options: ServerConfig) -> Store:
    """The SQLite journal in the data dir, or for a fleet node the PostgreSQL store (which
    registers the node). Raises ValueError with a message free of credentials."""
    if options.store_url is None:
        return SqliteStore(Path(options.data_dir or ".") / "journal.sqlite3")
    options.check_fleet()
    try:
        from bridge.store.postgres import NodeIdentity, PostgresStore
    except ImportError:
        raise ValueError(
            "a PostgreSQL store needs psycopg: pip install 'mpac-bridge[postgres]'"
        ) from None
    name = options.node_name or f"{socket.gethostname()}-{options.port or os.getpid()}"
    if not SESSION_ID.match(name):
        raise ValueError(f"invalid node name {name!r}: letters, digits, '.', '_' and '-'")
    node = NodeIdentity(name, secrets.token_hex(4), options.node_url or "")
    try:
        return PostgresStore(options.store_url, node, lease_ttl=options.lease_ttl)
    except StoreError as exc:
        raise ValueError(f"cannot use the store: {exc}") from None


async def serve_sidecar(
    options: ServerConfig,
    coord_config: CoordinatorConfig | None = None,
    *,
    tokens: TokenTable | None = None,
    lookup: Callable[[str], str | None] | None = None,
) -> RunningServer:
    """Start a sidecar in this event loop. `options.data_dir` is required (the SQLite journal, or
    with `options.store_url` the audit transcripts, live there). Raises ValueError for a refused
    configuration (open profile on a public address, unreachable store, ...)."""
    if options.data_dir is None:
        raise ValueError("serve_sidecar needs options.data_dir (where the journal is kept)")
    coord_config = coord_config or CoordinatorConfig(security_profile=options.security_profile)
    store = open_store(options)
    sidecar: Sidecar | None = None
    try:
        sidecar = Sidecar(options, coord_config, store, tokens, lookup)
        if options.store_url is not None:
            from bridge.server.fleet import Fleet
            from bridge.store.postgres import PostgresStore

            assert isinstance(store, PostgresStore)  # what open_store opens for a store url
            sidecar.fleet = Fleet(sidecar, store)
        port = await sidecar.start()
        if sidecar.fleet is not None:
            try:
                sidecar.fleet.store.advertise(options.node_url or public_url(options, port))
            except StoreError as exc:
                raise ValueError(f"cannot use the store: {exc}") from None
            sidecar.fleet.start()
    except BaseException:
        if sidecar is not None and sidecar.server is not None:
            await sidecar.shutdown()  # closes the store too
        else:
            store.close()
        raise
    idle = asyncio.get_running_loop().create_task(sidecar.idle_watch())
    return RunningServer(sidecar, port, public_url(options, port), idle)

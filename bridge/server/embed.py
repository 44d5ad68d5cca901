"""Run the sidecar inside the current event loop (tests, benchmarks, embedding)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bridge.core import CoordinatorConfig
from bridge.server.app import Sidecar
from bridge.server.config import ServerConfig
from bridge.server.tokens import TokenTable
from bridge.store import SqliteStore


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


async def serve_sidecar(
    options: ServerConfig,
    coord_config: CoordinatorConfig | None = None,
    *,
    tokens: TokenTable | None = None,
    lookup: Callable[[str], str | None] | None = None,
) -> RunningServer:
    """Start a sidecar in this event loop. `options.data_dir` is required (the SQLite journal lives
    there). Raises ValueError for a refused configuration (open profile on a public address, ...)."""
    if options.data_dir is None:
        raise ValueError("serve_sidecar needs options.data_dir (where the journal is kept)")
    coord_config = coord_config or CoordinatorConfig(security_profile=options.security_profile)
    store = SqliteStore(Path(options.data_dir) / "journal.sqlite3")
    try:
        sidecar = Sidecar(options, coord_config, store, tokens, lookup)
        port = await sidecar.start()
    except BaseException:
        store.close()
        raise
    idle = asyncio.get_running_loop().create_task(sidecar.idle_watch())
    return RunningServer(sidecar, port, public_url(options, port), idle)

"""`bench startup`: from process start to the first SESSION_INFO (sidecar) and to `initialize`
(MCP server)."""

from __future__ import annotations

import asyncio
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bridge.bench.launch import start
from bridge.bench.wire import SID, join


async def _sidecar_once() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = await start(Path(tmp), "--session-id", SID)
        try:
            peer = await join(proc.url, "agent:probe")
            elapsed = time.perf_counter() - t0
            await peer.ws.close()
            return elapsed * 1000
        finally:
            await proc.stop()


def run(repeat: int = 5) -> dict[str, Any]:
    samples = [asyncio.run(_sidecar_once()) for _ in range(repeat)]
    out: dict[str, Any] = {"sidecar_to_session_info_ms": statistics.median(samples), "sidecar_samples_ms": [round(s, 1) for s in samples]}
    if importlib.util.find_spec("bridge.mcp.bench") is not None:
        from bridge.mcp import bench as mcp_bench  # type: ignore[attr-defined]

        initialize = getattr(mcp_bench, "initialize_ms", None)
        if initialize is not None:
            out["mcp_initialize_ms"] = initialize()
    return out

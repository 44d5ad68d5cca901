"""`bench mcp`: tool latencies through a real stdio MCP session, and the time to `initialize`."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bridge.bench.machine import percentile
from bridge.bench.repo import discard_repo, scratch_repo


def _params(repo: Path, name: str) -> Any:
    from mcp import StdioServerParameters

    return StdioServerParameters(command=sys.executable, args=["-m", "bridge", "mcp", "--workspace", str(repo)],
                                 env={**os.environ, "MPAC_AGENT_NAME": name})


async def _measure(repo: Path, calls: int) -> dict[str, Any]:
    from mcp import Client

    t0 = time.perf_counter()
    async with Client(_params(repo, "bench")) as client:
        init_ms = (time.perf_counter() - t0) * 1000
        await client.call_tool("who_is_working", {})  # warm: joins the session
        lat: dict[str, list[float]] = {}

        async def timed(name: str, args: dict[str, Any]) -> dict[str, Any]:
            s = time.perf_counter()
            r = await client.call_tool(name, args)
            lat.setdefault(name, []).append((time.perf_counter() - s) * 1000)
            return r.structured_content or {}

        for n in range(calls):
            await timed("who_is_working", {})
            await timed("check_overlap", {"files": ["a.py"]})
            begun = await timed("begin_task", {"objective": f"bench {n}", "files": ["a.py"]})
            state = await timed("get_file_state", {"path": "a.py"})
            await timed("submit_change", {"intent_id": begun["intent_id"], "target": "a.py", "state_ref_before": state["state_ref"],
                                          "content": f"x = {n}\n"})
            await timed("list_my_tasks", {})
            await timed("yield_task", {"intent_id": begun["intent_id"]})
    return {"initialize_ms": init_ms,
            "tools": {k: {"p50_ms": statistics.median(v), "p99_ms": percentile(v, 99), "calls": len(v)} for k, v in lat.items()}}


def run(calls: int = 30) -> dict[str, Any]:
    repo = scratch_repo()
    try:
        return asyncio.run(_measure(repo, calls))
    finally:
        discard_repo(repo)


def initialize_ms() -> float:
    repo = scratch_repo()
    try:
        async def once() -> float:
            from mcp import Client

            t0 = time.perf_counter()
            async with Client(_params(repo, "probe")) as client:
                elapsed = (time.perf_counter() - t0) * 1000
                await client.list_tools()
            return elapsed

        return statistics.median(asyncio.run(once()) for _ in range(3))
    finally:
        discard_repo(repo)

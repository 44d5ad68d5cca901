"""`bench mcp`: tool latencies through a real stdio MCP session, and the time to `initialize`."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bridge.bench.machine import percentile


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


def _scratch() -> Path:
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="mpac-bench-"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "a.py").write_text("x = 0\n")
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.email=b@b", "-c", "user.name=b", "commit", "-qm", "b"], check=True)
    return root


def _discard(repo: Path) -> None:
    """Stop the scratch repository's sidecar (the MCP server starts one as soon as it is
    initialized), then delete the repository."""
    subprocess.run([sys.executable, "-m", "bridge", "stop", "--workspace", str(repo)], capture_output=True, timeout=60)
    shutil.rmtree(repo, ignore_errors=True)


def run(calls: int = 30) -> dict[str, Any]:
    repo = _scratch()
    try:
        return asyncio.run(_measure(repo, calls))
    finally:
        _discard(repo)


def initialize_ms() -> float:
    repo = _scratch()
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
        _discard(repo)

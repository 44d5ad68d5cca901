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

    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "bridge", "mcp", "--workspace", str(repo)],
        env={**os.environ, "MPAC_AGENT_NAME": name},
    )


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
            await timed(
                "submit_change",
                {
                    "intent_id": begun["intent_id"],
                    "target": "a.py",
                    "state_ref_before": state["state_ref"],
                    "content": f"x = {n}\n",
                },
            )
            await timed("list_my_tasks", {})
            await timed("yield_task", {"intent_id": begun["intent_id"]})
    return {
        "initialize_ms": init_ms,
        "tools": {
            k: {"p50_ms": statistics.median(v), "p99_ms": percentile(v, 99), "calls": len(v)}
            for k, v in lat.items()
        },
    }


def _server_pid(repo: Path) -> int | None:
    """The pid of the `mpac-bridge mcp` process serving `repo` (Linux /proc), or None."""
    marker = ["mcp", "--workspace", str(repo)]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(args[i : i + 3] == marker for i in range(len(args))):
            return int(entry.name)
    return None


def _memory_mib(pid: int | None) -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in MiB."""
    out: dict[str, float] = {}
    if pid is None:
        return out
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return out


async def _measure_edges(repo: Path, files: int, big_mib: int) -> dict[str, Any]:
    """begin_task over `files` files (one git process for the ignore check), and the server's peak
    RSS around get_file_state on a `big_mib` MiB file (hashed in chunks; only the head is kept)."""
    from mcp import Client

    (repo / "many").mkdir()
    names = [f"many/f{n:05d}.py" for n in range(files)]
    for name in names:
        (repo / name).write_text("")
    line = b"0123456789abcdef" * 63 + b"\n"
    with open(repo / "big.txt", "wb") as fh:
        for _ in range(big_mib * 1024 * 1024 // len(line)):
            fh.write(line)
    async with Client(_params(repo, "bench-edges")) as client:
        await client.call_tool("who_is_working", {})
        t0 = time.perf_counter()
        begun = (
            await client.call_tool("begin_task", {"objective": "many files", "files": names})
        ).structured_content or {}
        begin_ms = (time.perf_counter() - t0) * 1000
        if begun.get("status") != "ok":
            raise RuntimeError(f"begin_task with {files} files failed: {begun}")
        await client.call_tool("yield_task", {"intent_id": begun["intent_id"]})
        pid = _server_pid(repo)
        before = _memory_mib(pid)
        t0 = time.perf_counter()
        state = (
            await client.call_tool("get_file_state", {"path": "big.txt"})
        ).structured_content or {}
        read_ms = (time.perf_counter() - t0) * 1000
        after = _memory_mib(pid)
    return {
        "begin_task_files": files,
        "begin_task_ms": begin_ms,
        "big_file_mib": big_mib,
        "get_file_state_big_ms": read_ms,
        "big_file_size": state.get("size"),
        "rss_peak_before_mib": before.get("VmHWM"),
        "rss_peak_after_mib": after.get("VmHWM"),
    }


def run(calls: int = 30, *, files: int = 10_000, big_mib: int = 300) -> dict[str, Any]:
    repo = scratch_repo()
    try:
        report = asyncio.run(_measure(repo, calls))
    finally:
        discard_repo(repo)
    repo = scratch_repo()
    try:
        report["edges"] = asyncio.run(_measure_edges(repo, files, big_mib))
    finally:
        discard_repo(repo)
    return report


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

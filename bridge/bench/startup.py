"""`bench startup`: the edges a user waits for on every start, each the median of N rounds.

A round, for each target (alternating with `--ab`), in a scratch git repository:
- the sidecar (`mpac-bridge sidecar --workspace`): process start to its ready line, and to the
  first SESSION_INFO a client gets;
- a Claude Code PreToolUse hook (`mpac-bridge hook claude-pretooluse`, a new process each time,
  with the command line `setup claude --hooks` writes: `python -S bridge/hooks/run.py hook ...`
  when the target has that entry, else `python -m bridge hook ...`) that denies an edit of a file another principal holds, and one that
  allows an edit of a free file, against that warm sidecar;
- the MCP server (`mpac-bridge mcp --workspace`): process start to the `initialize` result, over
  raw JSON-RPC on stdio (no SDK on our side), with the sidecar running; and to the `tools/list`
  result sent right after it (what an agent waits for before it can use a tool).
One unrecorded round first fills the bytecode caches (not with --quick). The child processes
write them even when PYTHONDONTWRITEBYTECODE is set here (else every run would compile every
module again, which no installed copy does): into PYTHONPYCACHEPREFIX when that is set, else
into a cache directory of the bench's own, so no checkout is written to. A last round runs each command with
`python -X importtime` and summarises its imports (bridge/bench/importtime.py); for the MCP
server only the imports finished before the `initialize` result count.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.bench import importtime
from bridge.bench.client import SID, join
from bridge.bench.launch import THIS, Target, start
from bridge.bench.loop import load
from bridge.bench.repo import discard_repo, scratch_repo, stop_sidecar

IMPORTTIME = ("-X", "importtime")
PYCACHE = Path(tempfile.gettempdir()) / "mpac-bench-pycache"
LIST_TOOLS = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "mpac-bench", "version": "1"},
    },
}


def _edit(repo: Path, rel: str) -> str:
    return json.dumps(
        {
            "session_id": "s",
            "cwd": str(repo),
            "hook_event_name": "PreToolUse",
            "tool_name": "Edit",
            "tool_input": {"file_path": str(repo / rel), "old_string": "x", "new_string": "y"},
        }
    )


def _bytecode_env() -> dict[str, str]:
    """What a child needs to keep its bytecode caches although PYTHONDONTWRITEBYTECODE is set here
    (an empty value turns it off)."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return {}
    return {
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": os.environ.get("PYTHONPYCACHEPREFIX") or str(PYCACHE),
    }


def _child_env(target: Target) -> dict[str, str]:
    env = target.env({"MPAC_AGENT_NAME": "bench", **_bytecode_env()})
    for name in (
        "MPAC_COORDINATOR_URL",
        "MPAC_COORDINATOR_TOKEN",
        "MPAC_SESSION_ID",
        "MPAC_PRINCIPAL_ID",
    ):
        env.pop(name, None)
    return env


def hook_argv(target: Target, flags: tuple[str, ...] = ()) -> list[str]:
    """The hook's command line as `setup claude --hooks` writes it for the target's checkout (an
    older checkout without `bridge/hooks/run.py` is run as `python -m bridge`)."""
    entry = target.root / "bridge" / "hooks" / "run.py"
    if not entry.is_file():
        return target.argv("hook", "claude-pretooluse", python_flags=flags)
    return [target.python, "-S", *flags, str(entry), "hook", "claude-pretooluse"]


async def hook_once(
    target: Target, repo: Path, rel: str, flags: tuple[str, ...] = ()
) -> tuple[float, str, str]:
    """(ms, stdout, stderr) of one hook process, start to exit."""
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *hook_argv(target, flags),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_child_env(target),
        cwd=str(repo),
    )
    out, err = await asyncio.wait_for(proc.communicate(_edit(repo, rel).encode()), 60)
    return (time.perf_counter() - t0) * 1000, out.decode(), err.decode(errors="replace")


async def mcp_initialize_once(
    target: Target, repo: Path, flags: tuple[str, ...] = ()
) -> tuple[float, float, str]:
    """(ms from process start to the initialize result, ms to the tools/list result, stderr
    written until the initialize result)."""
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *target.argv("mcp", "--workspace", str(repo), python_flags=flags),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_child_env(target),
        cwd=str(repo),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    err_lines: list[bytes] = []

    async def drain_err() -> None:
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            err_lines.append(line)

    draining = asyncio.get_running_loop().create_task(drain_err())

    async def answer(rid: int, what: str) -> float:
        assert proc.stdout is not None
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not line:
                raise RuntimeError(
                    f"the MCP server exited before answering {what}: {b''.join(err_lines)[-1500:].decode(errors='replace')}"
                )
            msg = json.loads(line)
            if msg.get("id") == rid:
                break
        if "result" not in msg:
            raise RuntimeError(f"{what} failed: {msg}")
        return (time.perf_counter() - t0) * 1000

    proc.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
    await proc.stdin.drain()
    try:
        elapsed = await answer(1, "initialize")
        before = b"".join(err_lines).decode(errors="replace")
        proc.stdin.write((json.dumps(INITIALIZED) + "\n" + json.dumps(LIST_TOOLS) + "\n").encode())
        await proc.stdin.drain()
        listed = await answer(2, "tools/list")
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        await draining
    return elapsed, listed, before


async def round_once(target: Target, repo: Path, flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """One sample of each figure (with `flags`, the imports of each command instead)."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = await start(
            Path(tmp),
            "--workspace",
            str(repo),
            "--session-id",
            SID,
            target=target,
            env=_bytecode_env(),
            python_flags=flags,
        )
        sidecar_imports = proc.stderr_text()  # everything imported before the ready line
        try:
            holder = await join(proc.url, "agent:holder")
            info_ms = (time.perf_counter() - proc.started) * 1000
            await holder.request(
                "INTENT_ANNOUNCE",
                {
                    "intent_id": "held",
                    "objective": "hold a.py",
                    "ttl_sec": 3600,
                    "scope": {"kind": "file_set", "resources": ["a.py"]},
                },
            )
            deny_ms, deny_out, deny_err = await hook_once(target, repo, "a.py", flags)
            if "deny" not in deny_out:
                raise RuntimeError(
                    f"the hook did not deny an edit of a held file: {deny_out!r} {deny_err[-500:]}"
                )
            allow_ms, _out, _err = await hook_once(target, repo, "b.py", flags)
            init_ms, list_ms, init_err = await mcp_initialize_once(target, repo, flags)
            await holder.close()
        finally:
            await proc.stop()
            stop_sidecar(repo)  # in case the MCP server started another one
        row: dict[str, Any] = {
            "sidecar_ready_ms": (proc.ready - proc.started) * 1000,
            "sidecar_session_info_ms": info_ms,
            "hook_deny_ms": deny_ms,
            "hook_allow_ms": allow_ms,
            "mcp_initialize_ms": init_ms,
            "mcp_tools_list_ms": list_ms,
        }
        if flags:
            row = {
                "sidecar": importtime.summarise(sidecar_imports),
                "hook_deny": importtime.summarise(deny_err),
                "mcp_initialize": importtime.summarise(init_err),
            }
        return row


KEYS = (
    "sidecar_ready_ms",
    "sidecar_session_info_ms",
    "hook_deny_ms",
    "hook_allow_ms",
    "mcp_initialize_ms",
    "mcp_tools_list_ms",
)


async def run_async(
    repeat: int,
    targets: list[Target],
    progress: Callable[[str], None] | None,
    imports: bool,
    warm_up: bool,
) -> dict[str, Any]:
    repo = scratch_repo()
    try:
        samples: dict[str, list[dict[str, Any]]] = {t.label: [] for t in targets}
        for r in range(0 if warm_up else 1, repeat + 1):
            order = targets if r % 2 == 0 else list(reversed(targets))
            for t in order:
                if progress:
                    progress(
                        f"startup [{t.label}]: round {r}/{repeat}"
                        + (" (warm-up, not counted)" if r == 0 else "")
                    )
                row = await round_once(t, repo)
                row["load"] = load()
                if r:
                    samples[t.label].append(row)
        out: dict[str, Any] = {"repeat": repeat, "targets": {}}
        for t in targets:
            rows = samples[t.label]
            summary: dict[str, Any] = {k: statistics.median(r[k] for r in rows) for k in KEYS}
            summary["samples_ms"] = {k: [round(r[k], 1) for r in rows] for k in KEYS}
            summary["loads"] = [r["load"] for r in rows]
            if imports:
                if progress:
                    progress(
                        f"startup [{t.label}]: -X importtime of the sidecar, the hook and the MCP server"
                    )
                summary["imports"] = await round_once(t, repo, IMPORTTIME)
            out["targets"][t.label] = summary
        return out
    finally:
        discard_repo(repo)


def run(
    repeat: int = 10,
    targets: list[Target] | None = None,
    progress: Callable[[str], None] | None = None,
    imports: bool = True,
    warm_up: bool = True,
) -> dict[str, Any]:
    out = asyncio.run(run_async(repeat, targets or [THIS], progress, imports, warm_up))
    first = next(iter(out["targets"].values()))
    # the names `bench startup` has always reported (this checkout's figures)
    mine = out["targets"].get(THIS.label, first)
    out["sidecar_to_session_info_ms"] = mine["sidecar_session_info_ms"]
    out["mcp_initialize_ms"] = mine["mcp_initialize_ms"]
    return out

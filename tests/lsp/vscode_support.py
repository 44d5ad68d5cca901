"""The VS Code extension (lsp/vscode) from the Python suite: build it once per session with npm
(skipped when node or npm is missing, except in CI where that is a failure), and drive the built
extension in the node host (lsp/vscode/test/host.ts) over JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.harness import wait_until
from tests.support.components import missing

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "lsp" / "vscode"
HOST_JS = EXT / "out" / "test" / "host.js"
WAIT = 30.0


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def vsix_path() -> Path:
    return EXT / f"mpac-bridge-{project_version()}.vsix"


def need_node() -> None:
    """Skip without node and npm, except under .ci/run (MPAC_REQUIRE_COMPONENTS=1), where the
    extension must be checked."""
    absent = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if absent:
        missing(
            f"{' and '.join(absent)} not installed (apt-get install nodejs npm): the VS Code extension is not built or tested"
        )


def run(cmd: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run a build step; its whole output goes into the failure message."""
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {out.returncode}\n--- stdout\n{out.stdout[-6000:]}\n--- stderr\n{out.stderr[-6000:]}"
        )
    return out


class Host:
    """The built extension in node, activated for one folder, with what it showed and logged."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = {**os.environ, **(env or {})}
        self.proc: asyncio.subprocess.Process | None = None
        self.events: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self._replies: dict[int, asyncio.Future[Any]] = {}
        self._next = 0
        self._reader: asyncio.Task[None] | None = None
        self.stderr = b""

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            shutil.which("node") or "node",
            str(HOST_JS),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            limit=16 * 1024 * 1024,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            msg = json.loads(raw)
            if "id" in msg and msg["id"] in self._replies:
                self._replies.pop(msg["id"]).set_result(msg)
            else:
                self.events.append(msg)
            self.changed.set()
        for fut in self._replies.values():
            if not fut.done():
                fut.set_exception(
                    RuntimeError(f"the node host exited; stderr:\n{await self._stderr()}")
                )

    async def _stderr(self) -> str:
        assert self.proc is not None and self.proc.stderr is not None
        with contextlib.suppress(Exception):
            self.stderr += await asyncio.wait_for(self.proc.stderr.read(), 5)
        return self.stderr.decode(errors="replace")[-4000:]

    async def call(self, op: str, timeout: float = WAIT, **params: Any) -> Any:
        assert self.proc is not None and self.proc.stdin is not None
        self._next += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[self._next] = fut
        self.proc.stdin.write(json.dumps({"id": self._next, "op": op, **params}).encode() + b"\n")
        await self.proc.stdin.drain()
        reply = await asyncio.wait_for(fut, timeout)
        if "error" in reply:
            raise AssertionError(f"host op {op} failed: {reply['error']}")
        return reply["result"]

    async def until(self, condition: Callable[[], Any], timeout: float = WAIT) -> bool:
        """Wait until `condition()` is true, re-checking after every line from the host."""
        return await wait_until(self.changed, condition, timeout)

    # --- what the extension shows -----------------------------------------------------------

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]

    @property
    def status(self) -> dict[str, Any]:
        return (self.of("status") or [{"text": "", "tooltip": "", "warning": False}])[-1]

    def diagnostics(self, uri: str) -> list[dict[str, Any]]:
        mine = [e for e in self.of("diagnostics") if e["uri"] == uri]
        return mine[-1]["items"] if mine else []

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.of("message") if kind is None or e["kind"] == kind]

    def log(self) -> str:
        return "\n".join(e["line"] for e in self.of("log"))

    def server_pids(self) -> list[int]:
        """Running `mpac-bridge lsp` processes started by the host (its children)."""
        assert self.proc is not None
        pids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                pids += [int(p) for p in (task / "children").read_text().split()]
        out = []
        for pid in pids:
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if b"lsp" in cmdline:
                    out.append(pid)
        return out

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                await self.call("deactivate", timeout=15)
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()


def entry_point() -> Path:
    """The `mpac-bridge` console script of the environment running the tests."""
    script = Path(sys.executable).parent / "mpac-bridge"
    if not script.exists():
        pytest.skip(f"no mpac-bridge console script next to {sys.executable}")
    return script

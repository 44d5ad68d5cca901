"""Start a real `mpac-bridge sidecar` process on an ephemeral 127.0.0.1 port, waiting for its
readiness line (never a sleep)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

READY = re.compile(r"mpac-bridge sidecar ready (wss?://\S+)(?: session=(\S+))?(?: pid=(\d+))?")


@dataclass
class RunningSidecar:
    proc: asyncio.subprocess.Process
    url: str
    args: list[str]
    stderr_path: Path
    ready_line: str = ""

    @property
    def session_id(self) -> str | None:
        """The session of a single-session sidecar ("*" for --multi-session), from its readiness line."""
        m = READY.search(self.ready_line)
        return m.group(2) if m else None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def session_url(self, session_id: str) -> str:
        return f"{self.url}/session/{session_id}"

    async def kill9(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            await self.kill9()
            return -9

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


STARTED: list[RunningSidecar] = []  # every sidecar a test started, so none outlives its test


def reap() -> int:
    """SIGKILL every sidecar started by a test that is still running (one whose test failed before
    stopping it); returns how many. Called after each test by tests/conftest.py."""
    killed = 0
    for sc in STARTED:
        if sc.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(sc.pid, signal.SIGKILL)
                killed += 1
    STARTED.clear()
    return killed


async def start_sidecar(
    *args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 30.0
) -> RunningSidecar:
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "bridge", "sidecar", "--data-dir", str(data_dir), *args]
    if "--port" not in args:
        argv += ["--port", "0"]
    stderr_path = data_dir / f"sidecar-{len(list(data_dir.glob('sidecar-*.log')))}.log"
    err = open(stderr_path, "wb")  # noqa: SIM115 - handed to the child process
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=err, env={**os.environ, **(env or {})}
    )
    err.close()
    assert proc.stdout is not None
    try:
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout)
            if not line:
                raise RuntimeError(
                    f"sidecar exited ({await proc.wait()}): {stderr_path.read_text()[-2000:]}"
                )
            text = line.decode(errors="replace").strip()
            m = READY.search(text)
            if m:
                break
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise
    asyncio.get_running_loop().create_task(_drain(proc))
    running = RunningSidecar(proc, m.group(1), argv, stderr_path, text)
    STARTED.append(running)
    return running


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    with contextlib.suppress(Exception):
        while await proc.stdout.readline():
            pass


@contextlib.asynccontextmanager
async def sidecar(
    *args: str, data_dir: Path, env: dict[str, str] | None = None
) -> AsyncIterator[RunningSidecar]:
    sc = await start_sidecar(*args, data_dir=data_dir, env=env)
    try:
        yield sc
    finally:
        await sc.stop()

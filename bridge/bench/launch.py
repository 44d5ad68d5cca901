"""Start a real sidecar process for measurements and wait for its readiness line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from pathlib import Path

READY = re.compile(rb"mpac-bridge sidecar ready (wss?://\S+)")


class Proc:
    def __init__(self, proc: asyncio.subprocess.Process, url: str, started: float, ready: float) -> None:
        self.proc, self.url, self.started, self.ready = proc, url, started, ready

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_sec(self) -> float:
        """CPU time (user + system) the sidecar process has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def start(data_dir: Path, *args: str) -> Proc:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "sidecar", "--port", "0", "--data-dir", str(data_dir), "--log-level", "WARNING", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line:
            raise RuntimeError("the sidecar exited before it was ready")
        m = READY.search(line)
        if m:
            return Proc(proc, m.group(1).decode(), started, time.perf_counter())

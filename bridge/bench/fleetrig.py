"""A fleet on this machine for chaos tests and benchmarks: real `mpac-bridge sidecar --store`
processes sharing one PostgreSQL, optionally behind nginx, that can be killed and restarted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.bench.nginxproc import Nginx
from bridge.bench.pgcluster import free_port

READY = re.compile(rb"mpac-bridge sidecar ready (wss?://\S+)")


@dataclass
class Node:
    name: str
    port: int
    proc: asyncio.subprocess.Process | None = None
    url: str = ""
    starts: int = 0

    def cpu_sec(self) -> float:
        if self.proc is None:
            return 0.0
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class FleetRig:
    store_url: str
    root: Path
    names: list[str]
    lease_ttl: float = 3.0
    proxy: bool = True
    extra: tuple[str, ...] = ()
    nodes: dict[str, Node] = field(default_factory=dict)
    nginx: Nginx | None = None

    async def start(self) -> None:
        for name in self.names:
            self.nodes[name] = Node(name, free_port())
        await asyncio.gather(*(self.launch(name) for name in self.names))
        if self.proxy:
            self.nginx = Nginx(self.root / "nginx", free_port())
            await asyncio.to_thread(
                self.nginx.start, {n: node.port for n, node in self.nodes.items()}
            )

    def session_url(self, session_id: str, via: str | None = None) -> str:
        """Through nginx, or straight to node `via` (which redirects to the holder)."""
        if via is None and self.nginx is not None:
            return self.nginx.session_url(session_id)
        node = self.nodes[via or self.names[0]]
        return f"{node.url}/session/{session_id}"

    async def launch(self, name: str, timeout: float = 60.0) -> None:
        node = self.nodes[name]
        data = self.root / name
        data.mkdir(parents=True, exist_ok=True)
        node.starts += 1
        argv = [
            sys.executable,
            "-m",
            "bridge",
            "sidecar",
            "--multi-session",
            "--store",
            self.store_url,
            "--node-name",
            name,
            "--port",
            str(node.port),
            "--data-dir",
            str(data),
            "--lease-ttl",
            str(self.lease_ttl),
            "--rate",
            "100000",
            "--max-connections",
            "10000",
            "--log-level",
            "INFO",
            *self.extra,
        ]
        if self.proxy:
            argv += ["--node-url", f"/node/{name}"]
        err = open(data / f"node-{node.starts}.log", "wb")  # noqa: SIM115 - handed to the child
        node.proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=err
        )
        err.close()
        assert node.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            line = await asyncio.wait_for(
                node.proc.stdout.readline(), max(0.1, deadline - time.monotonic())
            )
            if not line:
                raise RuntimeError(
                    f"node {name} exited: {(data / f'node-{node.starts}.log').read_text()[-2000:]}"
                )
            m = READY.search(line)
            if m:
                node.url = m.group(1).decode()
                break
        asyncio.get_running_loop().create_task(_drain(node.proc))

    async def kill(self, name: str) -> float:
        """SIGKILL the node; returns the monotonic time of the kill."""
        node = self.nodes[name]
        assert node.proc is not None
        at = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            node.proc.send_signal(signal.SIGKILL)
        await node.proc.wait()
        return at

    def log(self, name: str) -> str:
        data = self.root / name
        return "\n".join(p.read_text(errors="replace") for p in sorted(data.glob("node-*.log")))

    def holders(self) -> dict[str, tuple[str | None, int]]:
        """session -> (holder node name, lease epoch)."""
        import psycopg

        with psycopg.connect(self.store_url, autocommit=True) as conn:
            rows = conn.execute("SELECT session_id, holder, epoch FROM mpac_sessions").fetchall()
        return {
            sid: (holder.split("/", 1)[0] if holder else None, int(epoch))
            for sid, holder, epoch in rows
        }

    async def stop(self) -> None:
        for node in self.nodes.values():
            if node.proc is not None and node.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    node.proc.send_signal(signal.SIGTERM)
        for node in self.nodes.values():
            if node.proc is not None:
                try:
                    await asyncio.wait_for(node.proc.wait(), 15)
                except TimeoutError:
                    node.proc.kill()
                    await node.proc.wait()
        if self.nginx is not None:
            await asyncio.to_thread(self.nginx.stop)

    async def __aenter__(self) -> FleetRig:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    with contextlib.suppress(Exception):
        while await proc.stdout.readline():
            pass

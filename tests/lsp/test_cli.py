"""`mpac-bridge lsp` as a process: --tcp, argument errors, nothing but LSP on stdout."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp.harness import make_repo

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def frame(obj: dict[str, object]) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_frame(reader: asyncio.StreamReader) -> dict[str, object]:
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(await reader.readexactly(length))


async def test_tcp_transport_answers_initialize(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "lsp",
        "--tcp",
        f"127.0.0.1:{port}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        reader = writer = None
        for _ in range(200):  # connect as soon as it listens (each attempt fails fast until then)
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)  # retry backoff for a listener that is starting
        assert reader is not None and writer is not None
        writer.write(
            frame(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "processId": None,
                        "rootUri": repo.as_uri(),
                        "capabilities": {},
                        "initializationOptions": {
                            "coordinatorUrl": "ws://127.0.0.1:9",
                            "watch": "off",
                        },
                    },
                }
            )
        )
        await writer.drain()
        reply = await asyncio.wait_for(read_frame(reader), 30)
        caps = reply["result"]["capabilities"]  # type: ignore[index]
        assert caps["codeActionProvider"] and caps["hoverProvider"]
        assert set(caps["executeCommandProvider"]["commands"]) == {
            "mpac.claim",
            "mpac.release",
            "mpac.acknowledgeConflict",
            "mpac.showWho",
            "mpac.status",
        }
        writer.close()
    finally:
        proc.kill()
        await proc.wait()
    assert proc.stdout is not None
    assert await proc.stdout.read() == b""  # the wire is the socket; stdout stays empty


def test_bad_tcp_address_is_a_usage_error() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "lsp", "--tcp", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "HOST:PORT" in out.stderr

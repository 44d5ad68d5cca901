"""The hooks' minimal WebSocket client against an independent server implementation (the
`websockets` library's) and against the real sidecar."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from bridge.client.wire import HandshakeError, RawWebSocket, open_socket
from tests.core.helpers import msg
from tests.support.sidecar import sidecar


@contextmanager
def server(handler: Callable[[ServerConnection], None]) -> Iterator[str]:
    with serve(handler, "127.0.0.1", 0, max_size=None) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/hook"
        finally:
            srv.shutdown()
            thread.join(10)


def test_pings_fragments_and_every_length_encoding() -> None:
    seen: dict[str, Any] = {}

    def handler(ws: ServerConnection) -> None:
        seen["path"] = ws.request.path if ws.request else None
        pong = ws.ping(b"are you there")
        ws.send(["frag", "mented ✓"])  # one message in two frames
        seen["pong"] = pong.wait(5)
        for _ in range(3):
            ws.send(ws.recv(timeout=5))  # echo

    with server(handler) as url:
        client = RawWebSocket(url, 5)
        assert client.recv(5) == "fragmented ✓"  # the ping before it was answered on the way
        for size in (5, 1_000, 70_000):  # 7-bit, 16-bit and 64-bit payload lengths
            text = "é" * (size // 2)
            client.send(text)
            assert client.recv(5) == text
        client.close()
    assert seen == {"path": "/hook", "pong": True}


def test_a_close_from_the_server_says_its_code_and_reason() -> None:
    def handler(ws: ServerConnection) -> None:
        ws.recv(timeout=5)
        ws.close(1008, "go away")

    with server(handler) as url:
        client = open_socket(url, 5)
        client.send("hello")
        with pytest.raises(ConnectionError, match="1008: go away"):
            client.recv(5)
        client.close()


def test_silence_is_a_timeout_not_a_hang() -> None:
    def handler(ws: ServerConnection) -> None:
        ws.recv(timeout=10)

    with server(handler) as url:
        client = RawWebSocket(url, 5)
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            client.recv(0.3)
        assert time.monotonic() - start < 5
        client.close()


@pytest.mark.e2e
async def test_real_sidecar_join_and_refused_upgrade(tmp_path: Path) -> None:
    async with sidecar("--session-id", "wire", data_dir=tmp_path) as sc:
        client = RawWebSocket(sc.url, 5)
        client.send(
            json.dumps(
                msg(
                    "HELLO", "agent:hook", {"display_name": "hook"}, session="wire", now=time.time()
                )
            )
        )
        assert json.loads(client.recv(5))["message_type"] == "SESSION_INFO"
        client.close()
        with pytest.raises(HandshakeError, match="404"):
            RawWebSocket(sc.url.rstrip("/") + "/session/other", 5)


def test_the_hook_command_imports_no_asyncio_pydantic_or_websockets() -> None:
    """The whole `mpac-bridge hook` path, command line included: start-up is the user's wait on
    every edit (issue 17), so the heavy packages stay out."""
    code = (
        "import sys, bridge.cli, bridge.hooks.cli, bridge.hooks.claude, bridge.hooks.guard, "
        "bridge.client.quick; "
        "heavy = ('asyncio', 'pydantic', 'pydantic_core', 'websockets', 'mcp', 'uuid', 'tempfile'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_redirects_are_followed_and_credentials_stay_on_their_origin() -> None:
    """A fleet node answers 307 for a session another node serves: the hooks follow it like the
    websockets client (relative Location on the same origin keeps the Authorization header; another
    origin does not get it)."""
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    seen: list[tuple[str, str | None]] = []

    def final(ws: ServerConnection) -> None:
        seen.append(("final", ws.request.headers.get("Authorization") if ws.request else "?"))
        ws.send(ws.recv(timeout=5))

    with server(final) as target:

        def process_request(conn: ServerConnection, request: Any) -> Any:
            seen.append((request.path, request.headers.get("Authorization")))
            if request.path == "/session/s":
                return Response(
                    307, "Temporary Redirect", Headers({"Location": "/node/b/session/s"}), b""
                )
            if request.path == "/node/b/session/s":
                return Response(307, "Temporary Redirect", Headers({"Location": target}), b"")
            return None

        def never(ws: ServerConnection) -> None:
            raise AssertionError("the first server never upgrades")

        with serve(never, "127.0.0.1", 0, process_request=process_request) as srv:
            thread = threading.Thread(target=srv.serve_forever, daemon=True)
            thread.start()
            try:
                url = f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/session/s"
                sock = open_socket(url, 5, {"Authorization": "Bearer tok-123"})
                sock.send("hello")
                assert sock.recv(5) == "hello"
                sock.close()
            finally:
                srv.shutdown()
                thread.join(10)
    assert seen == [
        ("/session/s", "Bearer tok-123"),
        ("/node/b/session/s", "Bearer tok-123"),
        ("final", None),
    ]


def test_a_redirect_loop_is_an_error() -> None:
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    def loop(conn: ServerConnection, request: Any) -> Any:
        return Response(307, "Temporary Redirect", Headers({"Location": "/again"}), b"")

    with serve(lambda ws: None, "127.0.0.1", 0, process_request=loop) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            with pytest.raises(HandshakeError, match="more than 5 redirects"):
                open_socket(f"ws://127.0.0.1:{srv.socket.getsockname()[1]}/x", 5)
        finally:
            srv.shutdown()
            thread.join(10)


def test_ws_urls_are_read_as_urlsplit_reads_them() -> None:
    """split_ws_url reads the plain forms itself (the hook does without urllib.parse, issue 17)."""
    from urllib.parse import urlsplit

    from bridge.client.wire import split_ws_url

    for url in (
        "ws://127.0.0.1:8765",
        "ws://127.0.0.1:8765/",
        "ws://LocalHost:80/session/abc?x=1&y=2",
        "ws://host/a/b?",
        "ws://host:0080/p",
        "ws://host:/p",
        "ws://user:pw@host:1/p",
        "ws://[::1]:9/p",
        "ws://host:1/p#frag",
        "ws://host:1/p\tq",
        "ws://ho_st:1/p",
        "ws://host:1?q=1",
    ):
        parts = urlsplit(url)
        want = (
            parts.hostname,
            parts.port or 80,
            (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        )
        assert split_ws_url(url) == want, url
    for bad in ("ws://host:99999/", "ws://host:x/", "wss://host/", "ws:///p"):
        with pytest.raises(ValueError):
            split_ws_url(bad)

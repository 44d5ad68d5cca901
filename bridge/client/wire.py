"""A minimal blocking WebSocket client (RFC 6455) for short-lived commands on the local sidecar.

A Claude Code hook runs once per edit, so its start-up time is the user's wait. Importing the
`websockets` client costs about 57 ms (its version module alone imports `importlib.metadata`),
more than a third of the hook. For plain `ws://` on the local sidecar this module does the little
such a command needs: the upgrade handshake, masked text frames out, text frames in (answering
pings), and a clean close. It offers no extensions, so the server never compresses. `wss://` URLs
keep using `websockets` (see `open_socket`).
"""

from __future__ import annotations

import binascii
import os
import struct
import sys
import time

from bridge.digest import sha1
from bridge.tcp import connect

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from typing import Any, Protocol

    class TextSocket(Protocol):
        def send(self, text: str) -> None: ...

        def recv(self, timeout: float) -> str: ...

        def close(self) -> None: ...


GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG, CONT = 0x1, 0x8, 0x9, 0xA, 0x0


class HandshakeError(ConnectionError):
    pass


class Redirected(HandshakeError):
    """The server answered the upgrade with a redirect (a fleet node sending the client to the
    node that serves its session)."""

    def __init__(self, status: str, location: str) -> None:
        super().__init__(f"the server redirected the WebSocket upgrade ({status}) to {location}")
        self.location = location


MAX_REDIRECTS = 5


def _b64(data: bytes) -> str:
    """base64.b64encode(data).decode() (the base64 module imports re: start-up, issue 17)."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


_PLAIN_HOST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def split_ws_url(url: str) -> tuple[str, int, str]:
    """(host, port, path with query) of a ws:// URL, as urllib.parse.urlsplit reads it. The
    common `ws://host:port/path` with a plain host is read here; anything else (userinfo, an IPv6
    literal, a fragment, odd characters) goes to urlsplit, which a hook's start does without."""
    if url.startswith("ws://"):
        netloc, slash, rest = url[5:].partition("/")
        host, colon, port_text = netloc.partition(":")
        host = host.lower()
        if (
            host
            and _PLAIN_HOST.issuperset(host)
            and (not colon or (port_text.isascii() and port_text.isdigit()))
            and "#" not in rest
            and not any(c in rest for c in "\t\r\n")
            and "?" not in netloc
            and (not colon or int(port_text) <= 65535)
        ):
            path, _, query = (slash + rest).partition("?")
            return (
                host,
                int(port_text) if colon else 80,
                (path or "/") + (f"?{query}" if query else ""),
            )
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "ws" or not parts.hostname:
        raise ValueError(f"RawWebSocket handles ws:// URLs only, not {url!r}")
    return (
        parts.hostname,
        parts.port or 80,
        (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
    )


def _mask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if not n:
        return data
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, key: bytes | None = None) -> bytes:
    """One final client frame, masked with `key` (random when not given)."""
    key = key if key is not None else os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + key + _mask(payload, key)


class RawWebSocket:
    def __init__(self, url: str, timeout: float, headers: dict[str, str] | None = None) -> None:
        hostname, port, path = split_ws_url(url)
        self.timeout = timeout
        self.sock = connect(hostname, port, timeout)
        self.buf = bytearray()  # deleting from the front of a bytearray is cheap in CPython
        try:
            host = f"[{hostname}]" if ":" in hostname else hostname  # IPv6 literal
            self._handshake(f"{host}:{port}", path, headers or {}, timeout)
        except BaseException:
            self.sock.close()
            raise

    def _handshake(self, host: str, path: str, headers: dict[str, str], timeout: float) -> None:
        key = _b64(os.urandom(16))
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
            ).encode()
        )
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise HandshakeError("the server's handshake response is too long")
            self._fill(deadline)
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end])
        del self.buf[: end + 4]
        lines = head.decode("latin-1").split("\r\n")
        fields = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
        }
        status = lines[0].split(" ")[1:2]
        if status and status[0] in ("301", "302", "303", "307", "308") and fields.get("location"):
            raise Redirected(status[0], fields["location"])
        if status != ["101"]:
            body = self.buf.decode("utf-8", "replace").strip()
            raise HandshakeError(
                f"the server refused the WebSocket upgrade: {lines[0]}"
                + (f" ({body})" if body else "")
            )
        accept = _b64(sha1((key + GUID).encode()).digest())  # SHA-1: what RFC 6455 specifies
        if fields.get("sec-websocket-accept") != accept:
            raise HandshakeError("the server's Sec-WebSocket-Accept does not match our key")

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data from the server in time")
        self.sock.settimeout(left)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf.extend(chunk)

    def _take(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            self._fill(deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _frame(self, deadline: float) -> tuple[bool, int, bytes]:
        b0, b1 = self._take(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._take(2, deadline))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._take(8, deadline))
        key = self._take(4, deadline) if b1 & 0x80 else None
        payload = self._take(n, deadline)
        return bool(b0 & 0x80), b0 & 0x0F, _mask(payload, key) if key else payload

    def _write(self, frame: bytes) -> None:
        self.sock.settimeout(
            self.timeout
        )  # reads shorten the socket's timeout; a write gets the full one
        self.sock.sendall(frame)

    def send(self, text: str) -> None:
        self._write(encode_frame(TEXT, text.encode()))

    def recv(self, timeout: float) -> str:
        """The next text message; answers pings, raises ConnectionError on a close."""
        deadline = time.monotonic() + timeout
        parts: list[bytes] = []
        while True:
            fin, opcode, payload = self._frame(deadline)
            if opcode == PING:
                self._write(encode_frame(PONG, payload))
            elif opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                raise ConnectionError(
                    f"the server closed the connection ({code}: {payload[2:].decode('utf-8', 'replace')})"
                )
            elif opcode in (TEXT, CONT):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8")
            # PONG and binary frames are not for us

    def close(self) -> None:
        try:
            self._write(encode_frame(CLOSE, struct.pack("!H", 1000)))
        except OSError:
            pass
        finally:
            self.sock.close()


class _Websockets:
    """The `websockets` sync client behind the same three calls (used for wss://)."""

    def __init__(self, url: str, timeout: float, headers: dict[str, str] | None) -> None:
        try:
            from websockets.sync.client import connect as ws_connect
        except ImportError:
            if not sys.flags.no_site:
                raise
            import site  # a hook started with -S (bridge/hooks/run.py): site-packages are not on the path yet

            site.main()
            from websockets.sync.client import connect as ws_connect

        self.ws: Any = ws_connect(
            url, open_timeout=timeout, additional_headers=headers, max_size=None
        )

    def send(self, text: str) -> None:
        self.ws.send(text)

    def recv(self, timeout: float) -> str:
        return str(self.ws.recv(timeout=timeout))

    def close(self) -> None:
        self.ws.close()


def open_socket(url: str, timeout: float, headers: dict[str, str] | None = None) -> TextSocket:
    """Connect, following redirects like the websockets client does: at most MAX_REDIRECTS, never
    from wss:// to ws://, and without the Authorization header when the origin changes."""
    for _ in range(MAX_REDIRECTS + 1):
        if not url.startswith("ws://"):
            return _Websockets(url, timeout, headers)  # follows redirects itself
        try:
            return RawWebSocket(url, timeout, headers)
        except Redirected as redirect:
            from urllib.parse import urljoin, urlsplit

            target = urljoin(url, redirect.location)
            if not target.startswith(("ws://", "wss://")):
                raise HandshakeError(
                    f"the server redirected to {target}, which is not a WebSocket url"
                ) from None
            old, new = urlsplit(url), urlsplit(target)
            if (old.scheme, old.netloc) != (new.scheme, new.netloc) and headers:
                headers = {
                    k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")
                }
            url = target
    raise HandshakeError(f"more than {MAX_REDIRECTS} redirects")

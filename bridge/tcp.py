"""A TCP connection for short-lived commands, without importing `socket` (issue 17: start-up).

`socket.py` builds its enums (AddressFamily, SocketKind, ...) when imported: about 3 ms of a Claude
Code hook's start, for a module whose only use there is `create_connection`. `connect` does what
that does with the `_socket` extension it wraps, whose socket objects have the same `connect`,
`sendall`, `recv`, `settimeout` and `close`. An ASCII host is passed to getaddrinfo as bytes: a str
one makes it import the idna codec.
"""

from __future__ import annotations

import _socket


def connect(host: str, port: int, timeout: float) -> _socket.socket:
    """A connected TCP socket to the first address of `host` that accepts; raises OSError (the
    last attempt's) like `socket.create_connection`."""
    address: str | bytes = host.encode("ascii") if host.isascii() else host
    error: OSError | None = None
    for family, kind, proto, _name, where in _socket.getaddrinfo(
        address, port, 0, _socket.SOCK_STREAM
    ):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(where)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"getaddrinfo found no address for {host}")

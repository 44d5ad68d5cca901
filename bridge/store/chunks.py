"""Encode a large JSON document piece by piece (snapshots, issue 17).

`json.dumps` of a whole snapshot is one C call: at 10,000 intents of 8 KiB it holds the GIL (and so
the sidecar's event loop, even from another thread) for a third of a second, and builds a string
the size of the state at once. `parts` yields the same text in pieces of about `size` bytes:
dicts and lists are opened down to `depth` levels (the snapshot's sections and their lists of
records), and each value below that is encoded by one `json.dumps` call, short enough for the
interpreter to switch threads between two of them. The pieces joined are exactly
`json.dumps(value, separators=(",", ":"))`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_encode = json.JSONEncoder(separators=(",", ":")).encode


def tokens(value: Any, depth: int) -> Iterator[str]:
    if depth > 0 and type(value) is dict and all(type(k) is str for k in value):
        yield "{"
        first = True
        for k, v in value.items():
            yield _encode(k) + ":" if first else "," + _encode(k) + ":"
            first = False
            yield from tokens(v, depth - 1)
        yield "}"
    elif depth > 0 and type(value) in (list, tuple):
        yield "["
        first = True
        for v in value:
            if not first:
                yield ","
            first = False
            yield from tokens(v, depth - 1)
        yield "]"
    else:
        yield _encode(value)


def parts(value: Any, size: int = 1 << 20, depth: int = 3) -> Iterator[str]:
    """The JSON text of `value` in pieces of about `size` characters (a piece holds whole tokens, so
    one large value may make a larger piece)."""
    buf: list[str] = []
    n = 0
    for tok in tokens(value, depth):
        buf.append(tok)
        n += len(tok)
        if n >= size:
            yield "".join(buf)
            buf, n = [], 0
    if buf:
        yield "".join(buf)

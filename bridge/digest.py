"""SHA-256 and SHA-1 for short-lived commands (issue 17: start-up).

`import hashlib` loads OpenSSL's bindings: about 5 ms of CPU, a tenth of a Claude Code hook's
start. A hook hashes little (the file about to be edited, a key, the WebSocket accept value), and
CPython's own implementations (`_sha2` from 3.12, `_sha256` and `_sha1` before) cost nothing to
import. OpenSSL's are about ten times faster on large inputs, so hashlib is used whenever it is
loaded already (the servers, the MCP server) or the input is large (`size` over BIG bytes). The
digests are the same either way.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids
if TYPE_CHECKING:
    from typing import Any

BIG = 256 * 1024  # from this size on, hashlib's speed pays for its import


def _builtin(names: tuple[str, ...], attr: str) -> Any:
    for name in names:
        try:
            return getattr(__import__(name), attr)
        except (ImportError, AttributeError):
            continue
    import hashlib

    return getattr(hashlib, attr)


def sha256(data: bytes = b"", size: int = 0) -> Any:
    """A sha256 hash object (`update`, `hexdigest`, `digest`) over `data`; `size` is how much will
    be hashed in all, when more follows."""
    lib = sys.modules.get("hashlib")
    if lib is None and max(len(data), size) > BIG:
        import hashlib as lib
    if lib is not None:
        return lib.sha256(data)
    return _builtin(("_sha2", "_sha256"), "sha256")(data)


def sha1(data: bytes = b"") -> Any:
    lib = sys.modules.get("hashlib")
    return lib.sha1(data) if lib is not None else _builtin(("_sha1",), "sha1")(data)

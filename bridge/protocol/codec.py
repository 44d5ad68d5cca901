"""JSON in and out of the sidecar's per-message path, with msgspec (issue 17: chosen by
measurement over orjson and the standard library; docs/performance.md).

`encode` is compact JSON as UTF-8 bytes (what a frame carries); `encode_sorted` the same with
keys in order (the audit chain's canonical text). A value msgspec cannot encode falls back to the
standard library, so an odd value fails (or passes) exactly as it did before.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()
_encode = _ENCODER.encode


def encode(value: Any) -> bytes:
    try:
        return _encode(value)
    except (TypeError, ValueError, OverflowError):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def encode_text(value: Any) -> str:
    return encode(value).decode()


def encode_sorted(value: Any) -> bytes:
    try:
        return msgspec.json.encode(value, order="sorted")
    except (TypeError, ValueError, OverflowError):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode(data: str | bytes) -> Any:
    """Trusted JSON (our own journal and snapshots); raises ValueError on bad input."""
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from None

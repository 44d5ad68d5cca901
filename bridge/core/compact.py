"""Compact forms of the envelopes the state keeps (issue 17: memory per active intent).

A live intent keeps its INTENT_ANNOUNCE envelope for late-join replay and snapshots. Decoded from
JSON, every envelope has its own copy of every key ("message_type", "payload", ...) and of the
values every envelope repeats (the protocol version, the sender, the session): most of its memory.
`compact` returns an equal envelope whose keys, and the values of the keys in `SHARED`, are
interned (one string object for the whole process), so only what is unique to the message is kept
per intent. Equal as data: it encodes to the same JSON. `pack` goes further for an envelope kept
only to be replayed: its JSON bytes, decoded again when a late joiner or a snapshot needs it.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec

# keys whose string values repeat from message to message
SHARED = frozenset(
    {
        "protocol",
        "version",
        "message_type",
        "session_id",
        "principal_id",
        "principal_type",
        "sender_instance_id",
        "kind",
        "priority",
        "worktree",
        "branch",
    }
)

_intern = sys.intern
_encode_into = msgspec.json.Encoder().encode_into
_decode = msgspec.json.Decoder().decode


def compact(value: Any) -> Any:
    """An equal copy of a JSON value with interned keys (and interned values under SHARED keys)."""
    if type(value) is dict:
        return {
            _intern(k): (_intern(v) if type(v) is str and k in SHARED else compact(v))
            for k, v in value.items()
        }
    if type(value) is list:
        return [compact(v) for v in value]
    return value


def intern(text: str) -> str:
    """The process-wide copy of a repeated string (principal ids, paths in indexes)."""
    return _intern(text) if type(text) is str else text


def same(raw: Any, parsed: Any) -> Any:
    """The envelope's own value when it equals the validated model's (one object, not two)."""
    return raw if type(raw) is type(parsed) and raw == parsed else parsed


# Largest envelope kept as bytes. Its record shares the decoded envelope's strings (objective,
# ids, paths), which the bytes hold a second time: for a short envelope that copy costs less than
# the decoded dicts do; for a long one (a long objective, a wide scope) the dicts are the cheaper
# form. Measured with one-file announces: the two cost the same near 880 encoded bytes.
PACK_LIMIT = 800


def _copy(envelope: dict[str, Any]) -> dict[str, Any]:
    copy: dict[str, Any] = compact(envelope)
    return copy


def pack(envelope: dict[str, Any]) -> bytes | dict[str, Any]:
    """An envelope kept for replay: its compact JSON when it is small (one bytes object, about a
    third of the decoded dicts and strings), else its `compact` copy. Lossless or not at all: a
    value JSON cannot carry as it is (a lone surrogate, NaN or an infinity, which msgspec writes as
    null) keeps the `compact` copy too."""
    buf = bytearray()
    try:
        _encode_into(envelope, buf)
    except (TypeError, ValueError, OverflowError):
        return _copy(envelope)
    if len(buf) > PACK_LIMIT:
        return _copy(envelope)
    data = bytes(buf)  # exact size: `encode` leaves its buffer's slack in the object it returns
    if b"null" in data and _decode(data) != envelope:  # a NaN or infinity became null
        return _copy(envelope)
    return data


def unpack(kept: bytes | dict[str, Any] | None) -> dict[str, Any] | None:
    """The envelope `pack` kept (bytes are decoded into a new copy each time)."""
    if isinstance(kept, bytes):
        value: dict[str, Any] = _decode(kept)
        return value
    return kept

"""Compact copies of the envelopes the state keeps (issue 17: memory per active intent).

A live intent keeps its INTENT_ANNOUNCE envelope for late-join replay and snapshots. Decoded from
JSON, every envelope has its own copy of every key ("message_type", "payload", ...) and of the
values every envelope repeats (the protocol version, the sender, the session): most of its memory.
`compact` returns an equal envelope whose keys, and the values of the keys in `SHARED`, are
interned (one string object for the whole process), so only what is unique to the message is kept
per intent. Equal as data: it encodes to the same JSON.
"""

from __future__ import annotations

import sys
from typing import Any

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

"""Compact forms of the envelopes and scopes the state keeps per live intent (issue 17).

A live intent keeps its INTENT_ANNOUNCE envelope for late-join replay and snapshots. `pack` keeps
a small one as its MessagePack bytes (decoded again by `unpack` when a late joiner or a snapshot
needs it) and a large one `freeze`d: one flat tuple of tokens whose keys, and the values under
the keys in `SHARED` (the protocol, the sender, the session...), are interned, so only what is
unique to the message is kept and its strings are shared with the record. A record's scope is
`freeze`d as well (`frozen_scope`, which keeps a plain file list as its paths; read it with
`thaw`). A live intent's announce is kept this way only when its record cannot rebuild it
(`bridge/core/residual.py`).

Both forms are also out of the garbage collector's way (loop stalls): a full collection visits
every container the collector tracks, and a dict that holds a dict or a list is tracked for
good, while a tuple of strings and numbers is dropped from tracking by the first collection that
sees it.
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
# Kept bytes are MessagePack, not JSON: no quotes, colons or commas, so an announce of 444 bytes
# of JSON is 366 (about 80 bytes less per intent); NaN and infinities are kept as they are.
_encode_into = msgspec.msgpack.Encoder().encode_into
_decode = msgspec.msgpack.Decoder().decode


def intern(text: str) -> str:
    """The process-wide copy of a repeated string (principal ids, paths in indexes)."""
    return _intern(text) if type(text) is str else text


_NUMBERS: dict[tuple[type, Any], Any] = {}  # (type, value) -> the one shared object
_NUMBERS_MAX = 1024


def shared_number(value: Any) -> Any:
    """One object for a repeated number kept per record (a TTL: most clients send the same few),
    for the first 1,024 distinct ones; a new int or float costs 24-32 bytes per record. Keyed by
    type as well, so 60 and 60.0 stay apart."""
    key = (type(value), value)
    shared = _NUMBERS.get(key)
    if shared is not None:
        return shared
    if len(_NUMBERS) < _NUMBERS_MAX and type(value) in (int, float):
        _NUMBERS[key] = value
    return value


def same(raw: Any, parsed: Any) -> Any:
    """The envelope's own value when it equals the validated model's (one object, not two)."""
    return raw if type(raw) is type(parsed) and raw == parsed else parsed


# Largest envelope kept as bytes. Its record shares the envelope's strings (objective, ids,
# paths), which the bytes hold a second time: for a short envelope that copy costs less than a
# decoded form does; for a long one (a long objective, a wide scope) the `freeze`d tuples, which
# share those strings, are cheaper. Measured against decoded dicts with one-file JSON announces,
# the two cost the same near 880 bytes; tuples cost less than dicts, so 800 errs towards bytes.
PACK_LIMIT = 800


# A `freeze`d value is one flat tuple of tokens: a JSON object is _OBJECT, then each key and the
# tokens of its value, then _END; an array is _ARRAY, its values' tokens, _END; anything else is
# itself. Decoded JSON never holds bytes, so the markers cannot be mistaken for values. Flat,
# because CPython drops a tuple from the collector's tracking only once everything in it is
# untracked, one level of nesting per collection: nested tuples stayed tracked for several full
# collections, and the first full collection after 10,000 long announces took 27 ms.
_OBJECT = b"{"
_ARRAY = b"["
_END = b"]"

Kept = bytes | tuple[Any, ...]  # what `pack` returns
Frozen = tuple[Any, ...]  # what `freeze` returns for an object or an array


def _flatten(value: Any, out: list[Any]) -> None:
    kind = type(value)
    if kind is dict:
        out.append(_OBJECT)
        for k, v in value.items():
            key = _intern(k)
            out.append(key)
            if type(v) is str and key in SHARED:
                out.append(_intern(v))
            else:
                _flatten(v, out)
        out.append(_END)
    elif kind is list or kind is tuple:
        out.append(_ARRAY)
        for v in value:
            _flatten(v, out)
        out.append(_END)
    else:
        out.append(value)


def freeze(value: dict[str, Any] | list[Any]) -> Frozen:
    """A JSON object or array as one flat tuple of tokens that shares its strings (keys, and the
    values under SHARED keys, interned): nothing in it for the garbage collector to track once it
    has seen it. `thaw` reverses it."""
    out: list[Any] = []
    _flatten(value, out)
    return tuple(out)


def _read(tokens: Frozen, at: int) -> tuple[Any, int]:
    """The value whose tokens start at `at`, and the index after them."""
    token = tokens[at]
    if type(token) is not bytes:
        return token, at + 1
    at += 1
    if token == _OBJECT:
        obj: dict[str, Any] = {}
        while tokens[at] is not _END:
            key = tokens[at]
            obj[key], at = _read(tokens, at + 1)
        return obj, at + 1
    arr: list[Any] = []
    while tokens[at] is not _END:
        item, at = _read(tokens, at)
        arr.append(item)
    return arr, at + 1


# A plain file list, {"kind": "file_set", "resources": [paths]} with its keys in that order, is
# `frozen_scope`d as _FILES and its paths: 56 bytes for one path instead of 104 (issue 17).
_FILES = b"f"


def thaw(value: Any) -> Any:
    """A fresh JSON value (dicts and lists) from a `freeze`d one; anything else as it is."""
    if type(value) is tuple and value and type(value[0]) is bytes:
        if value[0] == _FILES:
            return {"kind": "file_set", "resources": list(value[1:])}
        return _read(value, 0)[0]
    return value


def frozen_scope(scope: dict[str, Any] | Frozen) -> Frozen:
    """A record's own copy of a scope, `freeze`d (a frozen one as it is): read it with `thaw`."""
    if isinstance(scope, tuple):
        return scope
    if len(scope) == 2 and scope.get("kind") == "file_set" and type(scope["kind"]) is str:
        first, _ = scope
        paths: Any = scope.get("resources")
        if first == "kind" and type(paths) is list and all(type(p) is str for p in paths):
            return (_FILES, *paths)
    return freeze(scope)


def pack(envelope: dict[str, Any]) -> Kept:
    """An envelope kept for replay: MessagePack bytes when it is small (one bytes object, less
    than a third of the decoded dicts and strings), else its `freeze`d form, which shares its
    strings with the record. Lossless or not at all: what MessagePack cannot carry as it is (a
    lone surrogate, an integer past 64 bits) is kept `freeze`d too."""
    buf = bytearray()
    try:
        _encode_into(envelope, buf)
    except (TypeError, ValueError, OverflowError):  # UnicodeEncodeError is a ValueError
        frozen: tuple[Any, ...] = freeze(envelope)
        return frozen
    if len(buf) > PACK_LIMIT:
        frozen = freeze(envelope)
        return frozen
    return bytes(buf)  # exact size: `encode` leaves its buffer's slack in the object it returns


def unpack(kept: Kept | dict[str, Any] | None) -> dict[str, Any] | None:
    """A new copy of the envelope `pack` kept (a dict is returned as it is)."""
    if type(kept) is bytes:
        value: dict[str, Any] = _decode(kept)
        return value
    if type(kept) is tuple:
        thawed: dict[str, Any] = thaw(kept)
        return thawed
    return kept if type(kept) is dict else None

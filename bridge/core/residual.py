"""A live intent's INTENT_ANNOUNCE kept as what its record does not already hold (issue 17).

Most of an announce repeats its record: the intent id, the objective, the scope. The rest is
either the same from announce to announce of one sender (the keys and their order, the protocol,
the session, the sender, the kinds) or small (the message id, the timestamp, the watermark, the
TTL). `split` takes the envelope apart into

- a `Shape`: the keys in order, the values under `compact.SHARED` keys, a hole for every other
  value and a marker where the record's own value goes. Shapes are interned (one object for all
  the announces of one client that look alike) and forgotten with the last intent using them;
- the residual: the message id, then the values of the holes in order, as MessagePack bytes
  (about 70 bytes for an announce of 370). The record does not keep the message id apart while
  its announce is kept this way (a string object costs 49 bytes more than its text).

`join` builds the announce again from the two and the record's values: equal, with its keys in
the same order and every value of the same type, so it encodes to the same bytes as the original
(tests/core/test_residual.py checks this for every announce the core accepts). `split` answers
None when it cannot promise that (a value MessagePack cannot carry exactly, a record value that
differs from the envelope's); the caller then keeps the whole envelope (`compact.pack`).
"""

from __future__ import annotations

import re
import sys
import weakref
from typing import Any

import msgspec

from bridge.core.compact import SHARED, Frozen, thaw

_intern = sys.intern
_ENCODER = msgspec.msgpack.Encoder()
_encode = _ENCODER.encode
_encode_into = _ENCODER.encode_into
_decode = msgspec.msgpack.Decoder().decode

# Shape tokens, besides keys (str) and SHARED values (str): markers are bytes, which decoded JSON
# never holds.
_OBJECT = b"{"
_ARRAY = b"["
_END = b"]"
_HOLE = b"."  # the next value of the residual
_IID = b"i"  # the record's intent id (payload.intent_id)
_OBJ = b"o"  # the record's objective (payload.objective)
_MID = b"m"  # the message id (message_id): the residual's first value
_SCOPE = b"s"  # the record's scope (payload.scope)
_TS = b"t"  # ts as two integers (YYYYMMDD, HHMMSSffffff): 14 bytes instead of 28

# The timestamps our clients and the reference write; the two integers give back the same text.
_TS_TEXT = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})Z", re.ASCII)


def _ts_text(day: int, time: int) -> str:
    return (
        f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}T{time // 10**10:02d}:"
        f"{time // 10**8 % 100:02d}:{time // 10**6 % 100:02d}.{time % 10**6:06d}Z"
    )


class Shape:
    """One interned announce shape (see the module's docstring)."""

    __slots__ = ("__weakref__", "tokens")

    def __init__(self, tokens: tuple[Any, ...]) -> None:
        self.tokens = tokens


_SHAPES: weakref.WeakValueDictionary[tuple[Any, ...], Shape] = weakref.WeakValueDictionary()


def _strict(a: Any, b: Any) -> bool:
    """Equal, key order and types included (1, 1.0 and True differ): the same MessagePack."""
    try:
        return bool(_encode(a) == _encode(b))
    except (TypeError, ValueError, OverflowError):
        return False


def _walk(value: Any, tokens: list[Any], leaves: list[Any]) -> None:
    kind = type(value)
    if kind is dict:
        tokens.append(_OBJECT)
        for k, v in value.items():
            key = _intern(k)
            tokens.append(key)
            if type(v) is str and key in SHARED:
                tokens.append(_intern(v))
            else:
                _walk(v, tokens, leaves)
        tokens.append(_END)
    elif kind is list:
        tokens.append(_ARRAY)
        for v in value:
            _walk(v, tokens, leaves)
        tokens.append(_END)
    elif kind is tuple:  # an in-process caller's tuple encodes as an array but reads back a list
        raise TypeError("tuple")
    else:
        tokens.append(_HOLE)
        leaves.append(value)


def split(
    raw: dict[str, Any],
    intent_id: str,
    objective: str,
    scope: Frozen | dict[str, Any],
    scope_source: Any = None,
) -> tuple[Shape, bytes] | None:
    """The announce `raw` as (shape, residual) next to a record holding these values, or None.
    `scope_source` is the object the record's `scope` was frozen from (then it is not compared).
    The residual's first value is the message id (`message_id` reads it)."""
    if type(raw) is not dict or type(raw.get("message_id")) is not str:
        return None
    payload = raw.get("payload")
    if type(payload) is not dict:
        return None
    tokens: list[Any] = [_OBJECT]
    leaves: list[Any] = [raw["message_id"]]
    try:
        for k, v in raw.items():
            key = _intern(k)
            tokens.append(key)
            if key == "message_id":
                tokens.append(_MID)
            elif key == "ts" and type(v) is str and (m := _TS_TEXT.fullmatch(v)) is not None:
                tokens.append(_TS)
                leaves.append(int(m[1] + m[2] + m[3]))
                leaves.append(int(m[4] + m[5] + m[6] + m[7]))
            elif key == "payload":
                _payload(v, tokens, leaves, intent_id, objective, scope, scope_source)
            elif type(v) is str and key in SHARED:
                tokens.append(_intern(v))
            else:
                _walk(v, tokens, leaves)
        tokens.append(_END)
        buf = bytearray()
        _encode_into(leaves, buf)
        residual = bytes(buf)  # exact size: `encode` leaves its buffer's slack in its result
    except (TypeError, ValueError, OverflowError):  # a lone surrogate, an integer past 64 bits
        return None
    key_tokens = tuple(tokens)
    shape = _SHAPES.get(key_tokens)
    if shape is None:
        shape = _SHAPES[key_tokens] = Shape(key_tokens)
    return shape, residual


def _payload(
    payload: dict[str, Any],
    tokens: list[Any],
    leaves: list[Any],
    intent_id: str,
    objective: str,
    scope: Frozen | dict[str, Any],
    scope_source: Any,
) -> None:
    tokens.append(_OBJECT)
    for k, v in payload.items():
        key = _intern(k)
        tokens.append(key)
        if key == "intent_id" and type(v) is str and v == intent_id:
            tokens.append(_IID)
        elif key == "objective" and type(v) is str and v == objective:
            tokens.append(_OBJ)
        elif key == "scope" and (v is scope_source or _strict(v, thaw(scope))):
            tokens.append(_SCOPE)
        elif type(v) is str and key in SHARED:
            tokens.append(_intern(v))
        else:
            _walk(v, tokens, leaves)
    tokens.append(_END)


def message_id(residual: bytes) -> str:
    """The message id of the announce whose residual this is."""
    first: str = _decode(residual)[0]
    return first


def join(
    shape: Shape,
    residual: bytes,
    intent_id: str,
    objective: str,
    scope: Frozen | dict[str, Any],
) -> dict[str, Any]:
    """A new copy of the announce `split` took apart, from its shape, residual and record values."""
    leaves = iter(_decode(residual))
    held = {_MID: next(leaves), _IID: intent_id, _OBJ: objective}
    stack: list[Any] = []
    top: Any = None
    key: Any = None  # the pending key of the innermost dict
    for token in shape.tokens:
        if type(token) is not bytes:
            if type(top) is dict and key is None:
                key = token
                continue
            value: Any = token
        elif token in (_OBJECT, _ARRAY):
            new: Any = {} if token == _OBJECT else []
            if top is not None:
                stack.append((top, key))
            top, key = new, None
            continue
        elif token == _END:
            value = top
            if not stack:
                return value  # type: ignore[no-any-return]
            top, key = stack.pop()
        elif token == _HOLE:
            value = next(leaves)
        elif token == _TS:
            value = _ts_text(next(leaves), next(leaves))
        elif token == _SCOPE:
            value = thaw(scope) if type(scope) is tuple else _decode(_encode(scope))  # a copy
        else:
            value = held[token]
        if type(top) is dict:
            top[key] = value
            key = None
        else:
            top.append(value)
    raise ValueError("a shape ends inside its envelope")

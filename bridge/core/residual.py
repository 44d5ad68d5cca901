"""A live intent's INTENT_ANNOUNCE kept as what its record does not already hold (issue 17).

Most of an announce repeats its record: the intent id, the objective, the scope. The rest is
either the same from announce to announce of one sender (the keys and their order, the protocol,
the session, the sender, the kinds) or small (the message id, the timestamp, the watermark, the
TTL). `split` takes the envelope apart into

- a `Shape`: the keys in order, the values under `compact.SHARED` keys, a hole for every other
  value and a marker where the record's own value goes. Shapes are interned (one object for all
  the announces of one client that look alike) and forgotten with the last intent using them.
  Each keeps the envelope as MessagePack with None in its holes, and where the holes are;
- the residual: the message id, then the values of the holes in order, as MessagePack bytes
  (about 70 bytes for an announce of 370). The record does not keep the message id apart while
  its announce is kept this way (a string object costs 49 bytes more than its text).

`join` decodes the shape's MessagePack and fills its holes from the residual and the record
(about 3 µs; a whole envelope decodes in 1.2 µs): the announce again, equal, with its keys in
the same order and every value of the same type, so it encodes to the same bytes as the original
(tests/core/test_residual.py checks this for every announce the core accepts). `split` answers
None when it cannot promise that (a value MessagePack cannot carry exactly, a record value that
differs from the envelope's); the caller then keeps the whole envelope (`compact.pack`).
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import msgspec

from bridge.core.compact import SHARED, Frozen, thaw

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
    t = "%08d%012d" % (day, time)  # noqa: UP031 (measured: faster than an f-string here)
    return "%s-%s-%sT%s:%s:%s.%sZ" % (t[:4], t[4:6], t[6:8], t[8:10], t[10:12], t[12:14], t[14:])  # noqa: UP031


class Shape:
    """One interned announce shape (see the module's docstring)."""

    __slots__ = ("__weakref__", "plan", "template")

    def __init__(self, tokens: tuple[Any, ...]) -> None:
        template, plan = _compile(tokens)
        self.template: bytes = _encode(template)
        # (the keys and indexes down to the hole's container, its key or index, what goes there)
        self.plan: tuple[tuple[tuple[Any, ...], Any, bytes], ...] = plan


_SHAPES: weakref.WeakValueDictionary[tuple[Any, ...], Shape] = weakref.WeakValueDictionary()
# Past this many live shapes a new one is not made and the announce is kept whole: a client whose
# keys change from announce to announce (one shape per intent) costs no more than before.
SHAPES_MAX = 1024


def _compile(tokens: tuple[Any, ...]) -> tuple[Any, tuple[tuple[tuple[Any, ...], Any, bytes], ...]]:
    """The envelope with None in every hole, and the holes in the order `split` filled them."""
    plan: list[tuple[tuple[Any, ...], Any, bytes]] = []
    stack: list[tuple[Any, Any]] = []  # (container, the key or index it has in its parent)
    top: Any = None
    key: Any = None
    path: list[Any] = []
    for token in tokens:
        if type(token) is not bytes:
            if type(top) is dict and key is None:
                key = token
                continue
            value: Any = token
        elif token in (_OBJECT, _ARRAY):
            if top is not None:
                stack.append((top, key))
                path.append(key if type(top) is dict else len(top))
            top, key = ({} if token == _OBJECT else []), None
            continue
        elif token == _END:
            value = top
            if not stack:
                return value, tuple(plan)
            top, key = stack.pop()
            path.pop()
        else:  # a hole or a record's value
            plan.append((tuple(path), key if type(top) is dict else len(top), token))
            value = None
        if type(top) is dict:
            top[key] = value
            key = None
        else:
            top.append(value)
    raise ValueError("a shape ends inside its envelope")


def _strict(a: Any, b: Any) -> bool:
    """Equal, key order and types included (1, 1.0 and True differ): the same MessagePack."""
    try:
        return bool(_encode(a) == _encode(b))
    except (TypeError, ValueError, OverflowError):
        return False


def _walk(value: Any, tokens: list[Any], leaves: list[Any]) -> None:
    """The tokens of a JSON value: its keys, SHARED values and holes (their values to `leaves`)."""
    append = tokens.append
    if type(value) is dict:
        append(_OBJECT)
        for k, v in value.items():
            if type(k) is not str:  # (in-process only) 1 and True would share a shape
                raise TypeError("key")
            append(k)
            kind = type(v)
            if kind is str and k in SHARED:
                append(v)
            elif kind is dict or kind is list or kind is tuple:
                _walk(v, tokens, leaves)
            else:
                append(_HOLE)
                leaves.append(v)
        append(_END)
    elif type(value) is list:
        append(_ARRAY)
        for v in value:
            kind = type(v)
            if kind is dict or kind is list or kind is tuple:
                _walk(v, tokens, leaves)
            else:
                append(_HOLE)
                leaves.append(v)
        append(_END)
    else:  # an in-process caller's tuple encodes as an array but reads back a list
        raise TypeError("tuple")


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
    append = tokens.append
    leaves: list[Any] = [raw["message_id"]]
    try:
        for key, v in raw.items():
            if type(key) is not str:
                return None
            append(key)
            if key == "message_id":
                append(_MID)
            elif key == "payload":
                append(_OBJECT)
                for k, w in payload.items():
                    if type(k) is not str:
                        return None
                    append(k)
                    if k == "intent_id" and w == intent_id and type(w) is str:
                        append(_IID)
                    elif k == "objective" and w == objective and type(w) is str:
                        append(_OBJ)
                    elif k == "scope" and (w is scope_source or _strict(w, thaw(scope))):
                        append(_SCOPE)
                    else:
                        _value(k, w, tokens, leaves)
                append(_END)
            elif key == "ts" and type(v) is str and (m := _TS_TEXT.fullmatch(v)) is not None:
                append(_TS)
                leaves.append(int(m[1] + m[2] + m[3]))
                leaves.append(int(m[4] + m[5] + m[6] + m[7]))
            elif type(v) is str:
                if key in SHARED:
                    append(v)
                else:
                    append(_HOLE)
                    leaves.append(v)
            else:
                _value(key, v, tokens, leaves)
        append(_END)
        buf = bytearray()
        _encode_into(leaves, buf)
    except (TypeError, ValueError, OverflowError):  # a lone surrogate, an integer past 64 bits
        return None
    residual = bytes(buf)  # exact size: `encode` leaves its buffer's slack in its result
    key_tokens = tuple(tokens)
    shape = _SHAPES.get(key_tokens)
    if shape is None:
        if len(_SHAPES) >= SHAPES_MAX:
            return None
        shape = _SHAPES[key_tokens] = Shape(key_tokens)
    return shape, residual


def _value(key: str, v: Any, tokens: list[Any], leaves: list[Any]) -> None:
    kind = type(v)
    if kind is str and key in SHARED:
        tokens.append(v)
    elif kind is dict or kind is list or kind is tuple:
        _walk(v, tokens, leaves)
    else:
        tokens.append(_HOLE)
        leaves.append(v)


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
    envelope: dict[str, Any] = _decode(shape.template)
    leaves = _decode(residual)
    at = 1  # leaves[0] is the message id
    for path, last, what in shape.plan:
        container: Any = envelope
        for step in path:
            container = container[step]
        if what == _HOLE:
            value: Any = leaves[at]
            at += 1
        elif what == _TS:
            value = _ts_text(leaves[at], leaves[at + 1])
            at += 2
        elif what == _MID:
            value = leaves[0]
        elif what == _IID:
            value = intent_id
        elif what == _OBJ:
            value = objective
        else:  # _SCOPE
            value = thaw(scope) if type(scope) is tuple else _decode(_encode(scope))  # a copy
        container[last] = value
    return envelope

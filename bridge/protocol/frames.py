"""Frames to JSON objects, and the refusal of a message, without any model (no pydantic).

Both parsers use it: `read.read_message` (msgspec, the sidecar's) and `parse.parse_message`
(pydantic). A frame is decoded by the standard library here only when it needs its fault named
exactly (too large, not JSON, too deep, a lone surrogate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bridge.protocol.codes import ErrorCode

MAX_FRAME_BYTES = 1 << 20  # 1 MiB: the default limit of a frame (the sidecar's --max-frame-bytes)
OVERSIZE_READ_FACTOR = (
    4  # a frame up to this many times the limit is still read to name it in the refusal
)
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class ParseFailure:
    code: ErrorCode
    description: str
    refers_to: str | None = None
    message_type: str | None = None
    sender_id: str | None = None
    session_id: str | None = None


def too_deep(value: Any) -> bool:
    """True when a decoded value has more than MAX_DEPTH levels of nested objects and arrays."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]  # iterative: never a RecursionError
    pop, push = stack.pop, stack.append
    while stack:
        item, level = pop()
        if level > MAX_DEPTH:
            return True
        below = level + 1
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:
                push((child, below))
    return False


class _NonStandardJSON(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonStandardJSON(f"{name} is not a JSON value")


def _lenient(text: str) -> Any:
    """The frame decoded with NaN/Infinity allowed (error path only), or None."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _readable(value: Any) -> tuple[str | None, str | None, str | None, str | None]:
    """(message_id, message_type, sender principal_id, session_id), each when it is a string."""
    if not isinstance(value, dict):
        return None, None, None, None
    sender = value.get("sender")
    return (
        _str_or_none(value.get("message_id")),
        _str_or_none(value.get("message_type")),
        _str_or_none(sender.get("principal_id")) if isinstance(sender, dict) else None,
        _str_or_none(value.get("session_id")),
    )


def _encodable(value: Any) -> bool:
    """False when a decoded value holds a lone surrogate (legal as a JSON escape, not as UTF-8)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        return False
    return True


_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant
)  # built once: json.loads(**kw) builds one per call


def _too_large(raw: str | bytes, size: int, max_bytes: int) -> ParseFailure:
    """The refusal of an oversized frame. One up to OVERSIZE_READ_FACTOR times the limit is decoded
    all the same, so the refusal names the request (refers_to) and its sender can match it."""
    text = (
        f"frame of {size:,} bytes is over the limit of {max_bytes:,} bytes; nothing in it was applied "
        "(send fewer files or shorter text)"
    )
    if size > OVERSIZE_READ_FACTOR * max_bytes:
        return ParseFailure(ErrorCode.MALFORMED_MESSAGE, text)
    try:
        value = _DECODER.decode(raw if isinstance(raw, str) else raw.decode("utf-8"))
    except (ValueError, RecursionError):
        value = None
    return ParseFailure(ErrorCode.MALFORMED_MESSAGE, text, *_readable(value))


def _decode(raw: Any, max_bytes: int = MAX_FRAME_BYTES) -> dict[str, Any] | ParseFailure:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw)
        if len(raw) > max_bytes:
            return _too_large(raw, len(raw), max_bytes)
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return ParseFailure(ErrorCode.MALFORMED_MESSAGE, "frame is not valid UTF-8")
    if not isinstance(raw, str):
        return ParseFailure(
            ErrorCode.MALFORMED_MESSAGE, f"expected a JSON object, got {type(raw).__name__}"
        )
    # Characters first (free); the UTF-8 size only when it could matter (a character is at most 4 bytes).
    if len(raw) * 4 > max_bytes and (size := len(raw.encode("utf-8", "surrogatepass"))) > max_bytes:
        return _too_large(raw, size, max_bytes)
    try:
        # NaN and Infinity are not JSON: refused here so they are never stored or relayed.
        value = _DECODER.decode(raw)
    except RecursionError:
        return ParseFailure(
            ErrorCode.MALFORMED_MESSAGE, f"JSON nested deeper than {MAX_DEPTH} levels"
        )
    except _NonStandardJSON as exc:
        return ParseFailure(
            ErrorCode.MALFORMED_MESSAGE, f"not valid JSON: {exc}", *_readable(_lenient(raw))
        )
    except ValueError as exc:
        return ParseFailure(ErrorCode.MALFORMED_MESSAGE, f"not valid JSON: {str(exc)[:120]}")
    if not isinstance(value, dict):
        return ParseFailure(
            ErrorCode.MALFORMED_MESSAGE, f"expected a JSON object, got {type(value).__name__}"
        )
    # Only a frame with many brackets can be deep; the walk runs on the decoded value (C-speed decode).
    if raw.count("[") + raw.count("{") > MAX_DEPTH and too_deep(value):
        text = f"JSON nested deeper than {MAX_DEPTH} levels"
        return ParseFailure(ErrorCode.MALFORMED_MESSAGE, text, *_readable(value))
    # "\ud800" is a legal JSON escape but no UTF-8 text: it would break every later encode (relay, logs).
    if ("\\ud" in raw or "\\uD" in raw) and not _encodable(value):
        text = "a JSON string holds an unpaired UTF-16 surrogate escape"
        return ParseFailure(ErrorCode.MALFORMED_MESSAGE, text, *_readable(value))
    return value


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None

"""The sidecar's parser (issue 17): one frame to a `WireMessage` of msgspec structs, or a
`ParseFailure`, never an exception.

It accepts and refuses exactly what `parse.parse_message` (the pydantic models) does, for the
same reasons: the checks run in C (msgspec decodes and validates), and only a frame that fails
them is parsed again the pydantic way, so that its refusal reads word for word as before
(pydantic is imported on the first refusal, not at start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import ACCEPTED_VERSIONS, PROTOCOL
from bridge.protocol.enums import MessageType
from bridge.protocol.frames import MAX_DEPTH, MAX_FRAME_BYTES, ParseFailure, _decode
from bridge.protocol.message import EnvelopeFields
from bridge.protocol.stamps import parse_ts
from bridge.protocol.wiretypes import WIRE_TYPES, Envelope, Wire

W = TypeVar("W", bound=Wire)
_TYPES = {t.value: t for t in MessageType}
_JSON = msgspec.json.Decoder()
_ENCODE = msgspec.json.Encoder().encode
_REQUIRED = frozenset(("message_type", "message_id", "session_id", "sender", "ts", "payload"))


@dataclass(frozen=True, slots=True)
class WireMessage(EnvelopeFields):
    envelope: Envelope
    payload: Wire
    raw: dict[str, Any]
    message_type: MessageType

    def part(self, name: str) -> dict[str, Any]:
        """A fresh copy of the payload's object `name` as the sender wrote it (unknown fields
        kept), for state that outlives the message; {} when it is absent."""
        value = self.raw["payload"].get(name)
        return _JSON.decode(_ENCODE(value)) if type(value) is dict else {}


def read_message(raw: Any, max_bytes: int = MAX_FRAME_BYTES) -> WireMessage | ParseFailure:
    """Parse one frame; a frame over `max_bytes` (UTF-8) is refused. Never raises."""
    try:
        return _read(raw, max_bytes)
    except Exception as exc:
        return ParseFailure(
            ErrorCode.MALFORMED_MESSAGE, f"unparseable message ({type(exc).__name__})"
        )


def _fast_decode(raw: Any, max_bytes: int) -> dict[str, Any] | ParseFailure:
    """msgspec's decoder for a frame that is plainly within the limit; anything else (too large,
    not JSON, a lone surrogate, not an object, deeper than MAX_DEPTH) takes the standard decoder,
    which names the fault exactly as `parse_message` does."""
    if type(raw) is str and len(raw) * 4 <= max_bytes:
        try:
            value = _JSON.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            value = None
        if (
            type(value) is dict
            and raw.count("[") + raw.count("{") <= MAX_DEPTH  # else the depth check decides
        ):
            return value
    return _decode(raw, max_bytes)


def _read(raw: Any, max_bytes: int) -> WireMessage | ParseFailure:
    data = _fast_decode(raw, max_bytes)
    if isinstance(data, ParseFailure):
        return data
    name = data.get("message_type")
    mtype = _TYPES.get(name) if type(name) is str else None
    payload = data.get("payload")
    version = data.get("version")
    if (
        mtype is None
        or type(payload) is not dict
        or data.get("protocol") != PROTOCOL
        or type(version) is not str
        or version not in ACCEPTED_VERSIONS
        or not data.keys() >= _REQUIRED
    ):
        return _refusal(data, "")
    try:
        env = msgspec.convert(data, Envelope)
        body = msgspec.convert(payload, WIRE_TYPES[mtype])
    except msgspec.ValidationError as exc:
        return _refusal(data, str(exc))
    if parse_ts(env.ts) is None:
        return _refusal(data, "")
    return WireMessage(env, body, data, mtype)


def _refusal(data: dict[str, Any], why: str) -> ParseFailure:
    """The refusal `parse_message` gives (error path only: it validates with pydantic, imported
    here on the first refusal so that the sidecar starts without it)."""
    from bridge.protocol.parse import _parse

    result = _parse(data)
    if isinstance(result, ParseFailure):
        return result
    # The two validators disagree (a bug to fix in wiretypes): refuse, saying what msgspec saw.
    return ParseFailure(ErrorCode.MALFORMED_MESSAGE, why or "invalid message", result.message_id)

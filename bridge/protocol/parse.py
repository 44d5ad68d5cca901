"""Total parsing: any input becomes a typed message or a typed failure, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import ACCEPTED_VERSIONS, PROTOCOL
from bridge.protocol.enums import MessageType
from bridge.protocol.envelope import Envelope
from bridge.protocol.frames import (
    MAX_DEPTH,
    MAX_FRAME_BYTES,
    OVERSIZE_READ_FACTOR,
    ParseFailure,
    _decode,
    _readable,
    _str_or_none,
    too_deep,
)
from bridge.protocol.message import EnvelopeFields
from bridge.protocol.payloads import PAYLOAD_MODELS
from bridge.protocol.stamps import parse_ts

_TYPES = {t.value: t for t in MessageType}
P = TypeVar("P", bound=BaseModel)
__all__ = [
    "MAX_DEPTH",
    "MAX_FRAME_BYTES",
    "OVERSIZE_READ_FACTOR",
    "ParseFailure",
    "ParsedMessage",
    "parse_message",
    "parse_payload",
    "too_deep",
]


@dataclass(frozen=True, slots=True)
class ParsedMessage(EnvelopeFields):
    envelope: Envelope
    payload: BaseModel
    raw: dict[str, Any]

    @property
    def message_type(self) -> MessageType:
        return _TYPES[self.envelope.message_type]

    def dump(self) -> dict[str, Any]:
        """The message rebuilt from its models (unknown fields included), JSON-ready."""
        out = self.envelope.model_dump(mode="json", exclude_unset=True)
        out["payload"] = self.payload.model_dump(mode="json", exclude_unset=True)
        return out


def _describe(exc: ValidationError, prefix: str) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        where = f"{prefix}.{loc}" if loc else prefix
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def parse_payload(message_type: str, payload: Any) -> BaseModel | ParseFailure:
    """Validate one payload against its message type's model."""
    mtype = _TYPES.get(message_type) if isinstance(message_type, str) else None
    if mtype is None:
        return ParseFailure(
            ErrorCode.UNKNOWN_MESSAGE_TYPE, f"unknown message_type {message_type!r}"
        )
    if not isinstance(payload, dict):
        return ParseFailure(ErrorCode.MALFORMED_MESSAGE, "payload: expected an object")
    try:
        return PAYLOAD_MODELS[mtype].model_validate(payload)
    except ValidationError as exc:
        return ParseFailure(ErrorCode.MALFORMED_MESSAGE, _describe(exc, "payload"))


def parse_message(raw: Any, max_bytes: int = MAX_FRAME_BYTES) -> ParsedMessage | ParseFailure:
    """Parse one frame; a frame over `max_bytes` (UTF-8) is refused. Never raises."""
    try:
        return _parse(raw, max_bytes)
    except Exception as exc:
        return ParseFailure(
            ErrorCode.MALFORMED_MESSAGE, f"unparseable message ({type(exc).__name__})"
        )


def _parse(raw: Any, max_bytes: int = MAX_FRAME_BYTES) -> ParsedMessage | ParseFailure:
    data = _decode(raw, max_bytes)
    if isinstance(data, ParseFailure):
        return data
    mtype_raw = _str_or_none(data.get("message_type"))

    def fail(
        code: ErrorCode, text: str
    ) -> ParseFailure:  # what could be read is only gathered on failure
        return ParseFailure(code, text, *_readable(data))

    if data.get("protocol") != PROTOCOL:
        return fail(ErrorCode.MALFORMED_MESSAGE, 'protocol: must be "MPAC"')
    version = data.get("version")
    if not isinstance(version, str):
        return fail(ErrorCode.MALFORMED_MESSAGE, "version: required string")
    if version not in ACCEPTED_VERSIONS:
        accepted = ", ".join(sorted(ACCEPTED_VERSIONS))
        return fail(
            ErrorCode.VERSION_MISMATCH,
            f"version {version!r} is not supported (accepted: {accepted})",
        )
    for name in ("message_type", "message_id", "session_id", "sender", "ts", "payload"):
        if name not in data:
            return fail(ErrorCode.MALFORMED_MESSAGE, f"{name}: field required")
    if mtype_raw is None:
        return fail(ErrorCode.MALFORMED_MESSAGE, "message_type: expected a string")
    mtype = _TYPES.get(mtype_raw)
    if mtype is None:
        return fail(ErrorCode.UNKNOWN_MESSAGE_TYPE, f"unknown message_type {mtype_raw!r}")
    try:
        env = Envelope.model_validate({k: v for k, v in data.items() if k != "payload"})
    except ValidationError as exc:
        return fail(ErrorCode.MALFORMED_MESSAGE, _describe(exc, "envelope"))
    if parse_ts(env.ts) is None:
        return fail(
            ErrorCode.MALFORMED_MESSAGE, f"ts: {env.ts[:40]!r} is not an RFC 3339 timestamp"
        )
    payload = data["payload"]
    if not isinstance(payload, dict):
        return fail(ErrorCode.MALFORMED_MESSAGE, "payload: expected an object")
    try:
        model = PAYLOAD_MODELS[mtype].model_validate(payload)
    except ValidationError as exc:
        return fail(ErrorCode.MALFORMED_MESSAGE, _describe(exc, "payload"))
    return ParsedMessage(env, model, data)

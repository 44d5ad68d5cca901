"""Timestamps, the Lamport value of a watermark, and a fast envelope builder: the parts of the
envelope the sidecar needs at every message, without its pydantic model (`envelope.Envelope`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bridge.protocol.constants import PROTOCOL, PROTOCOL_VERSION

if TYPE_CHECKING:
    from pydantic import BaseModel

_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


_last_second: tuple[int, str] = (-(1 << 62), "")  # (whole second, "YYYY-MM-DDTHH:MM:SS")


def format_ts(now: float) -> str:
    """RFC 3339 UTC with microseconds and a ``Z`` suffix."""
    global _last_second
    second, frac = divmod(round(now * 1_000_000), 1_000_000)
    cached = _last_second  # one tuple, replaced whole: safe to share between threads
    if cached[0] != second:
        cached = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        _last_second = cached
    return f"{cached[1]}.{frac:06d}Z"


def parse_ts(text: Any) -> float | None:
    """Seconds since the epoch for an RFC 3339 timestamp, or None when it is not one."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    m = _TS.match(text)
    if m is None:
        return None
    try:
        return datetime.fromisoformat(
            text.upper()
        ).timestamp()  # 3.11+: "Z" and any fraction length
    except (ValueError, OverflowError):
        return None


def lamport_of(watermark: Any) -> int | None:
    """The Lamport value a watermark carries: `value` for lamport_clock, else `lamport_value`."""
    if not isinstance(watermark, dict):
        return None
    value = (
        watermark.get("value")
        if watermark.get("kind") == "lamport_clock"
        else watermark.get("lamport_value")
    )
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def build_envelope(
    message_type: str,
    payload: dict[str, Any] | BaseModel,  # a model only from callers that import pydantic
    *,
    session_id: str,
    sender: dict[str, Any],
    now: float,
    message_id: str,
    lamport: int,
    coordinator_epoch: int | None = None,
    in_reply_to: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A complete JSON-ready envelope. Keys whose value is None are left out."""
    if isinstance(payload, dict):
        body = {k: v for k, v in payload.items() if v is not None}
    else:
        body = payload.model_dump(mode="json", exclude_none=True)
    env: dict[str, Any] = {
        "protocol": PROTOCOL,
        "version": PROTOCOL_VERSION,
        "message_type": str(message_type),
        "message_id": message_id,
        "session_id": session_id,
        "sender": sender,
        "ts": format_ts(now),
        "payload": body,
        "watermark": {"kind": "lamport_clock", "value": lamport},
    }
    if coordinator_epoch is not None:
        env["coordinator_epoch"] = coordinator_epoch
    if in_reply_to is not None:
        env["in_reply_to"] = in_reply_to
    if extensions:
        env["extensions"] = extensions
    return env

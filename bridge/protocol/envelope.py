"""The MPAC envelope as pydantic models (the reference parser, `parse.parse_message`). The
timestamps and the envelope builder live in `stamps` (no pydantic) and are re-exported here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridge.protocol.payloads import Watermark
from bridge.protocol.stamps import build_envelope, format_ts, lamport_of, parse_ts

__all__ = ["Envelope", "Sender", "build_envelope", "format_ts", "lamport_of", "parse_ts"]


class Sender(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)
    principal_id: str = Field(min_length=1)
    principal_type: str = Field(min_length=1)
    sender_instance_id: str = Field(min_length=1)


class Envelope(BaseModel):
    """The envelope without its payload (the payload is validated by its own model)."""

    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)
    protocol: str
    version: str
    message_type: str
    message_id: str = Field(min_length=1)
    session_id: str = Field(min_length=1)
    sender: Sender
    ts: str
    watermark: Watermark | None = None
    in_reply_to: str | None = None
    trace_id: str | None = None
    policy_ref: str | None = None
    signature: str | None = None
    coordinator_epoch: int | None = Field(default=None, ge=1)
    extensions: dict[str, Any] | None = None

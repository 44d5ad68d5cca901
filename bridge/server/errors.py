"""PROTOCOL_ERROR envelopes the transport itself sends (before admission, limits, store outages)."""

from __future__ import annotations

import time
from typing import Any

from bridge.protocol.constants import EXT
from bridge.protocol.stamps import build_envelope

SIDECAR = {
    "principal_id": "service:sidecar",
    "principal_type": "service",
    "sender_instance_id": "sidecar",
}

# Extension code (docs/protocol.md, "Fleet decisions"): the coordinator cannot record changes now
# because its store does not answer; nothing of the message was applied; retry later.
COORDINATOR_UNAVAILABLE = "COORDINATOR_UNAVAILABLE"


def transport_error(
    session_id: str,
    code: str,
    text: str,
    refers_to: str | None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"error_code": code, "description": text, "refers_to": refers_to}
    if extensions:
        payload["extensions"] = {EXT: extensions}
    return build_envelope(
        "PROTOCOL_ERROR",
        payload,
        session_id=session_id,
        sender=SIDECAR,
        now=time.time(),
        message_id=f"sidecar-{time.monotonic_ns()}",
        lamport=0,
    )

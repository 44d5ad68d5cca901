"""The WebSocket close codes the sidecar sends (re-exported by bridge.protocol.constants)."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    """WebSocket close codes (RFC 6455 section 7.4.1) the sidecar sends."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the sidecar is shutting down
    POLICY_VIOLATION = 1008  # refused: no such session, no admitted HELLO, credential, rate limit
    MESSAGE_TOO_BIG = 1009  # a frame over the read limit (sent by the websockets library)
    SERVICE_RESTART = (
        1012  # reconnect: the session moved to another node, or recovered from an outage
    )
    TRY_AGAIN_LATER = 1013  # the coordinator (its store) is unavailable for now

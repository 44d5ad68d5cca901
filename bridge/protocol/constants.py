"""The constants every part of mpac-bridge shares: the protocol and versions we speak, our
extension namespace, and the WebSocket close codes the sidecar uses. Pure: no imports beyond the
standard library, so the lightest tools (editor hooks) can use it."""

from __future__ import annotations

from enum import IntEnum

PROTOCOL = "MPAC"
PROTOCOL_VERSION = "0.1.15"  # what we send
ACCEPTED_VERSIONS: frozenset[str] = frozenset({"0.1.13", "0.1.14", "0.1.15"})  # what we read (D1)

# Our extension namespace: `extensions["mpac-bridge"]` in envelopes and payloads carries what the
# spec has no field for (compact state, presence, worktrees, claim decisions, ...).
EXT = "mpac-bridge"


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

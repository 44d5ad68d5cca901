"""The client's own notices, delivered to subscribers alongside the coordinator's messages.

`_CONNECTION` (payload `state`: connected, reconnecting, disconnected, closed; `rejoined` after a
reconnect) and `_COORDINATOR` (payload `available`: false after two heartbeat intervals without a
COORDINATOR_STATUS, true when one arrives again). Their types start with `_`, so they can never
be confused with a protocol message.
"""

from __future__ import annotations

from typing import Any

CONNECTION, COORDINATOR = "_CONNECTION", "_COORDINATOR"


def _payload(msg: Any, kind: str) -> dict[str, Any] | None:
    if not isinstance(msg, dict) or msg.get("message_type") != kind:
        return None
    p = msg.get("payload")
    return p if isinstance(p, dict) else {}


def connection_state(msg: Any) -> str | None:
    """The state a `_CONNECTION` notice announces; None for any other message."""
    p = _payload(msg, CONNECTION)
    return None if p is None else str(p.get("state"))


def message_type(msg: Any) -> str:
    """The type of a message or notice ('' when it has none)."""
    t = msg.get("message_type") if isinstance(msg, dict) else None
    return t if isinstance(t, str) else ""

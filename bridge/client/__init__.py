"""The participant client every front-end uses: the MCP server, the dashboard, the language server
and the hooks. `SessionClient` joins and sends (its request helpers are the only place a
front-end's message is built); `Session` and the records in `bridge.client.records` are the typed,
read-only picture of the session they show."""

from __future__ import annotations

from bridge.lazy import exports

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)

if TYPE_CHECKING:
    from bridge.client.backoff import Backoff
    from bridge.client.client import JoinRefused, SessionClient
    from bridge.client.env import client_from_env
    from bridge.client.follow import follow_sidecar
    from bridge.client.records import (
        Conflict,
        FileState,
        Holding,
        Intent,
        Participant,
        Policies,
        SameFile,
        as_time,
        format_time,
    )
    from bridge.client.reply import ClaimReply, Reply
    from bridge.client.scope import scope_items, scope_paths
    from bridge.client.session import Session
    from bridge.client.text import duration, short
    from bridge.client.tls import ssl_context_for
    from bridge.client.view import SessionView
    from bridge.protocol.constants import EXT

# Exports load on first use, so a quick command importing `bridge.client.text` does not pay for
# websockets and pydantic.
_EXPORTS = {
    "Backoff": "backoff",
    "JoinRefused": "client",
    "SessionClient": "client",
    "client_from_env": "env",
    "follow_sidecar": "follow",
    "Conflict": "records",
    "FileState": "records",
    "Holding": "records",
    "Intent": "records",
    "Participant": "records",
    "Policies": "records",
    "SameFile": "records",
    "as_time": "records",
    "format_time": "records",
    "ClaimReply": "reply",
    "Reply": "reply",
    "scope_items": "scope",
    "scope_paths": "scope",
    "Session": "session",
    "duration": "text",
    "short": "text",
    "ssl_context_for": "tls",
    "SessionView": "view",
    "EXT": "view",  # bridge.protocol.constants.EXT, by way of the view
}
__all__ = [
    "EXT",
    "Backoff",
    "ClaimReply",
    "Conflict",
    "FileState",
    "Holding",
    "Intent",
    "JoinRefused",
    "Participant",
    "Policies",
    "Reply",
    "SameFile",
    "Session",
    "SessionClient",
    "SessionView",
    "as_time",
    "client_from_env",
    "duration",
    "follow_sidecar",
    "format_time",
    "scope_items",
    "scope_paths",
    "short",
    "ssl_context_for",
]


__getattr__ = exports("bridge.client", _EXPORTS, globals())

"""The session at a glance, for an editor's status bar: counts, who holds what, open conflicts. Pure.

Two ways to get it (both carry the same object, keys in camelCase as editors expect):
  mpac/status   notification the server sends each time the summary changes, only to a client that
                asks for it with the client capability `experimental.mpacStatus: true`
  mpac.status   command (workspace/executeCommand, no arguments) that returns it on demand
"""

from __future__ import annotations

from typing import Any

from bridge.client import SessionView
from bridge.protocol.scope import normalize_scope
from lsp.diagnostics import who

STATUS_NOTIFICATION = "mpac/status"
STATUS_COMMAND = "mpac.status"
CAPABILITY = "mpacStatus"  # in the client's `experimental` capabilities


def wants_status(experimental: Any) -> bool:
    """True when the client's `experimental` capabilities ask for the status notification."""
    return isinstance(experimental, dict) and experimental.get(CAPABILITY) is True


def _kind(participant: dict[str, Any]) -> str:
    ptype = participant.get("principal_type")
    if isinstance(ptype, str) and ptype:
        return ptype
    pid = str(participant.get("principal_id", ""))
    return pid.split(":", 1)[0] if ":" in pid else "agent"


def _online(participant: dict[str, Any]) -> bool:
    return participant.get("connected", True) is not False and participant.get("status") != "offline"


def _files(scope: Any) -> list[str]:
    if not isinstance(scope, dict):
        return []
    try:
        norm = normalize_scope(scope)
    except Exception:  # a scope we cannot read lists no files; it never breaks the summary
        return []
    return norm.files() or sorted(norm.entities) or sorted(norm.tasks) or sorted(norm.uris)


def summary(view: SessionView, me: str, connection: str) -> dict[str, Any]:
    """Counts (online agents, live intents, unresolved conflicts) and the lists behind them."""
    agents = [p for p in view.participants.values() if _kind(p) == "agent" and _online(p)]
    holders = [{
        "principalId": i["principal_id"],
        "name": who(view, i["principal_id"]),
        "kind": _kind(view.participants.get(i["principal_id"]) or {"principal_id": i["principal_id"]}),
        "intentId": i["intent_id"],
        "objective": i.get("objective", ""),
        "state": str(i.get("state", "ACTIVE")).lower(),
        "files": _files(i.get("scope")),
        "mine": i["principal_id"] == me,
    } for i in view.live_intents()]
    conflicts = [{
        "conflictId": c["conflict_id"],
        "category": c.get("category"),
        "state": str(c.get("state", "OPEN")).lower(),
        "principals": [who(view, p) for p in c.get("principals") or []],
        "description": c.get("description", ""),
    } for c in view.conflicts.values()]
    return {
        "connection": connection,
        "sessionId": view.session_id,
        "me": me,
        "agents": len(agents),
        "intents": len(holders),
        "conflicts": len(conflicts),
        "holders": holders,
        "openConflicts": conflicts,
        "error": "",
    }


def not_joined(me: str, connection: str, error: str = "") -> dict[str, Any]:
    """The summary while the server is not in a session: still joining, or given up (with why)."""
    return {"connection": connection, "sessionId": "", "me": me, "agents": 0, "intents": 0, "conflicts": 0,
            "holders": [], "openConflicts": [], "error": error}

"""The session at a glance, for an editor's status bar: counts, who holds what, open conflicts. Pure.

Two ways to get it (both carry the same object, keys in camelCase as editors expect):
  mpac/status   notification the server sends each time the summary changes, only to a client that
                asks for it with the client capability `experimental.mpacStatus: true`
  mpac.status   command (workspace/executeCommand, no arguments) that returns it on demand
"""

from __future__ import annotations

from typing import Any

from bridge.client import Participant, Session
from lsp.diagnostics import who

STATUS_NOTIFICATION = "mpac/status"
STATUS_COMMAND = "mpac.status"
CAPABILITY = "mpacStatus"  # in the client's `experimental` capabilities


def wants_status(experimental: Any) -> bool:
    """True when the client's `experimental` capabilities ask for the status notification."""
    return isinstance(experimental, dict) and experimental.get(CAPABILITY) is True


def summary(session: Session, connection: str) -> dict[str, Any]:
    """Counts (online agents, live intents, unresolved conflicts) and the lists behind them."""
    agents = [p for p in session.participants() if p.kind == "agent" and p.online]

    def kind(pid: str) -> str:
        return (session.participant(pid) or Participant.of({"principal_id": pid})).kind

    holders = [
        {
            "principalId": i.principal_id,
            "name": who(session, i.principal_id),
            "kind": kind(i.principal_id),
            "intentId": i.intent_id,
            "objective": i.objective,
            "state": i.state.lower(),
            "files": i.files,
            "mine": i.principal_id == session.me,
        }
        for i in session.intents()
    ]
    conflicts = [
        {
            "conflictId": c.conflict_id,
            "category": c.category,
            "state": c.state.lower(),
            "principals": [who(session, p) for p in c.principals],
            "description": c.description,
        }
        for c in session.conflicts()
    ]
    return {
        "connection": connection,
        "sessionId": session.session_id,
        "me": session.me,
        "agents": len(agents),
        "intents": len(holders),
        "conflicts": len(conflicts),
        "holders": holders,
        "openConflicts": conflicts,
        "error": "",
    }


def not_joined(me: str, connection: str, error: str = "") -> dict[str, Any]:
    """The summary while the server is not in a session: still joining, or given up (with why)."""
    return {
        "connection": connection,
        "sessionId": "",
        "me": me,
        "agents": 0,
        "intents": 0,
        "conflicts": 0,
        "holders": [],
        "openConflicts": [],
        "error": error,
    }

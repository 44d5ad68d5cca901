"""The tools' results built from the client's typed records and replies: intents, conflicts and
holders as the result models, and a coordinator answer as a SimpleResult. Shared by the tool
modules (`bridge.mcp.reading`, `tasks`, `conflicts`, `submit`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

from bridge.client import Conflict, Intent, Reply, Session, format_time
from bridge.client.scope import is_symbol_id
from bridge.mcp.models import ConflictInfo, Holder, IntentInfo, SameFileNote, SimpleResult


def intent_info(i: Intent) -> IntentInfo:
    return IntentInfo(
        intent_id=i.intent_id,
        principal_id=i.principal_id,
        objective=i.objective,
        files=i.files,
        state=i.state,
        expires_in_sec=None if i.expires_at is None else round(i.expires_at - time.time(), 1),
        deferred_by=list(i.deferred_by),
        worktree=i.worktree,
        branch=i.branch,
    )


def conflict_info(c: Conflict) -> ConflictInfo:
    return ConflictInfo.model_validate(c, from_attributes=True)  # its fields are the record's


def holder_info(i: Intent, shared: list[str] | None = None) -> Holder:
    # Unix seconds in the view; agents get RFC 3339, as in a blocked begin_task
    exp = i.expires_at
    shared = shared or i.files
    files = [f for f in shared if not is_symbol_id(f)] or sorted(
        {f.split("::", 1)[0] for f in shared}
    )
    return Holder(
        principal_id=i.principal_id,
        intent_id=i.intent_id,
        objective=i.objective,
        files=files,
        symbols=[f for f in shared if is_symbol_id(f)],
        expires_at=format_time(exp) if exp is not None and exp > 0 else None,
    )


def holders_here(
    session: Session, files: list[str], worktree: str | None, symbols: Sequence[str] = ()
) -> list[Holder]:
    """Who holds these files (or symbols) in our checkout (another worktree's intent on a path does
    not hold our copy of it: docs/protocol.md "Worktrees")."""
    return [
        holder_info(h.intent, list(h.shared))
        for h in session.holders(files, symbols=symbols)
        if h.race_locked and h.intent.state == "ACTIVE" and h.intent.worktree == worktree
    ]


def same_file_notes(
    session: Session, files: list[str], symbols: list[str], worktree: str | None
) -> list[SameFileNote]:
    return [
        SameFileNote(
            principal_id=n.intent.principal_id,
            intent_id=n.intent.intent_id,
            objective=n.intent.objective,
            file=n.path,
            symbols=list(n.symbols),
        )
        for n in session.same_file(files, symbols)
        if n.intent.worktree == worktree
    ]


# no answer: an error, not a refusal
LOCAL = frozenset({"TIMEOUT", "NOT_CONNECTED", "CONNECTION_LOST"})


def answer(reply: Reply, done: str, hint: Callable[[], str] | None = None) -> SimpleResult:
    """The coordinator's answer as a tool result. On a refusal, `hint` adds what the agent can use
    instead (the coordinator decides; the hint only reads the view)."""
    if reply.ok:
        return SimpleResult(status="ok", message=done, details={"message_id": reply.request_id})
    status: Literal["error", "rejected"] = "error" if reply.error_code in LOCAL else "rejected"
    extra = f"; {hint()}" if hint is not None and status == "rejected" else ""
    return SimpleResult(status=status, message=f"{reply.failure}{extra}")


def my_intents_hint(session: Session) -> Callable[[], str]:
    return lambda: (
        f"your live intents: {[i.intent_id for i in session.mine()] or 'none'} (list_my_tasks)"
    )


def open_conflicts_hint(session: Session) -> Callable[[], str]:
    return lambda: f"open conflicts: {sorted(session.conflict_ids()) or 'none'} (who_is_working)"

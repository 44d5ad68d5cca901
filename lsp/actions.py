"""Code actions, the "who is working here" text and hover text for one file. Pure.

The actions carry commands the server executes (workspace/executeCommand):
  mpac.claim [uri]                  announce an intent on the file, or take over a suspended one
  mpac.release [uri]                withdraw my intents covering the file
  mpac.acknowledgeConflict [id]     CONFLICT_ACK (seen) for an open conflict on the file
  mpac.showWho [uri]                show who is working on the file (also returned as "message";
                                    [uri, {"show": false}] only returns it)
The session summary command (mpac.status) is in lsp.status.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from bridge.client import Intent, Session
from lsp.diagnostics import holders, utc_clock, who
from lsp.tracked import Tracked

CLAIM, RELEASE, ACK, SHOW_WHO = (
    "mpac.claim",
    "mpac.release",
    "mpac.acknowledgeConflict",
    "mpac.showWho",
)
COMMANDS = (CLAIM, RELEASE, ACK, SHOW_WHO)


def _action(
    title: str,
    command: str,
    args: list[Any],
    diagnostics: list[types.Diagnostic] | None = None,
    kind: str = types.CodeActionKind.QuickFix,
) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=kind,
        diagnostics=diagnostics or None,
        command=types.Command(title=title, command=command, arguments=args),
    )


def code_actions(
    session: Session, t: Tracked, diagnostics: list[types.Diagnostic] | None = None
) -> list[types.CodeAction]:
    """The actions offered for the file, most useful first."""
    diags = list(diagnostics or [])
    of_kind = {
        k: [d for d in diags if isinstance(d.data, dict) and d.data.get("kind") == k]
        for k in ("intent", "conflict")
    }
    out: list[types.CodeAction] = []
    if session.mine([t.rel]):
        out.append(_action("Release my claim", RELEASE, [t.uri]))
    else:
        suspended = [i for i in holders(session, t.rel) if i.suspended]
        title = "Claim this file"
        if suspended:
            title += f" (take over {who(session, suspended[0].principal_id)}'s suspended intent)"
        out.append(_action(title, CLAIM, [t.uri], of_kind["intent"]))
    for c in session.conflicts_on(t.rel):
        if c.state == "OPEN":
            related = [
                d
                for d in of_kind["conflict"]
                if isinstance(d.data, dict) and d.data.get("conflict_id") == c.conflict_id
            ]
            out.append(
                _action(f"Acknowledge conflict {c.conflict_id}", ACK, [c.conflict_id], related)
            )
    out.append(
        _action("Show who is working here", SHOW_WHO, [t.uri], kind=types.CodeActionKind.Empty)
    )
    return out


def intent_line(session: Session, intent: Intent) -> str:
    extra = (
        "; can be taken over" if intent.suspended else f"; expires {utc_clock(intent.expires_at)}"
    )
    return f"{who(session, intent.principal_id)}: {intent.objective} (intent {intent.intent_id}, {intent.state.lower()}{extra})"


def who_text(session: Session, rel: str) -> str:
    """Plain text: everyone whose live intent covers `rel`, then open conflicts and the last commit."""
    lines = [f"{rel}:"]
    covering = [h.intent for h in session.covering([rel])]
    if not covering:
        lines.append("  nobody has announced an intent on this file")
    for intent in covering:
        mark = " (you)" if intent.principal_id == session.me else ""
        lines.append(f"  {intent_line(session, intent)}{mark}")
    for c in session.conflicts_on(rel):
        lines.append(f"  conflict {c.conflict_id} ({c.category}, {c.state.lower()})")
    last = session.file(rel)
    if last is not None:
        lines.append(
            f"  last commit: {who(session, last.principal_id or '?')}, operation {last.op_id}"
        )
    return "\n".join(lines)


def hover_markdown(session: Session, rel: str) -> str | None:
    """Markdown details of the intents and conflicts on `rel` (None when there is nothing to say)."""
    others = holders(session, rel)
    conflicts = session.conflicts_on(rel)
    if not others and not conflicts:
        return None
    parts = ["**mpac-bridge**"]
    for i in others:
        parts.append(
            f"- **{who(session, i.principal_id)}** - {i.objective}\n"
            f"  - intent `{i.intent_id}`, {i.state.lower()}"
            + (
                "; the owner is unavailable, it can be taken over"
                if i.suspended
                else f", expires {utc_clock(i.expires_at)}"
            )
        )
    for c in conflicts:
        people = " and ".join(who(session, p) for p in c.principals)
        parts.append(
            f"- conflict `{c.conflict_id}` ({c.category}, {c.severity}, "
            f"{c.state.lower()}) between {people}: {c.description}"
        )
    return "\n".join(parts)

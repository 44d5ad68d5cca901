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

from bridge.client import SessionView
from lsp.diagnostics import conflicts_on, holders, my_intents, utc_clock, who
from lsp.tracked import Tracked

CLAIM, RELEASE, ACK, SHOW_WHO = "mpac.claim", "mpac.release", "mpac.acknowledgeConflict", "mpac.showWho"
COMMANDS = (CLAIM, RELEASE, ACK, SHOW_WHO)


def _action(title: str, command: str, args: list[Any], diagnostics: list[types.Diagnostic] | None = None,
            kind: str = types.CodeActionKind.QuickFix) -> types.CodeAction:
    return types.CodeAction(title=title, kind=kind, diagnostics=diagnostics or None,
                            command=types.Command(title=title, command=command, arguments=args))


def code_actions(view: SessionView, me: str, t: Tracked, diagnostics: list[types.Diagnostic] | None = None) -> list[types.CodeAction]:
    """The actions offered for the file, most useful first."""
    diags = list(diagnostics or [])
    of_kind = {k: [d for d in diags if isinstance(d.data, dict) and d.data.get("kind") == k] for k in ("intent", "conflict")}
    out: list[types.CodeAction] = []
    mine = my_intents(view, me, t.rel)
    if mine:
        out.append(_action("Release my claim", RELEASE, [t.uri]))
    else:
        suspended = [i for i in holders(view, me, t.rel) if i.get("state") == "SUSPENDED"]
        title = "Claim this file"
        if suspended:
            title += f" (take over {who(view, suspended[0]['principal_id'])}'s suspended intent)"
        out.append(_action(title, CLAIM, [t.uri], of_kind["intent"]))
    for c in conflicts_on(view, t.rel):
        if c.get("state") == "OPEN":
            related = [d for d in of_kind["conflict"] if d.data.get("conflict_id") == c["conflict_id"]]
            out.append(_action(f"Acknowledge conflict {c['conflict_id']}", ACK, [c["conflict_id"]], related))
    out.append(_action("Show who is working here", SHOW_WHO, [t.uri], kind=types.CodeActionKind.Empty))
    return out


def intent_line(view: SessionView, intent: dict[str, Any]) -> str:
    state = str(intent.get("state", "ACTIVE")).lower()
    extra = "; can be taken over" if intent.get("state") == "SUSPENDED" else f"; expires {utc_clock(intent.get('expires_at'))}"
    return f"{who(view, intent['principal_id'])}: {intent.get('objective', '')} (intent {intent['intent_id']}, {state}{extra})"


def who_text(view: SessionView, me: str, rel: str) -> str:
    """Plain text: everyone whose live intent covers `rel`, then open conflicts and the last commit."""
    lines = [f"{rel}:"]
    covering = [i for i, _ov in view.overlapping([rel])]
    if not covering:
        lines.append("  nobody has announced an intent on this file")
    for intent in covering:
        mark = " (you)" if intent["principal_id"] == me else ""
        lines.append(f"  {intent_line(view, intent)}{mark}")
    for c in conflicts_on(view, rel):
        lines.append(f"  conflict {c['conflict_id']} ({c.get('category')}, {str(c.get('state')).lower()})")
    target = view.targets.get(rel)
    if target:
        lines.append(f"  last commit: {who(view, target.get('principal_id', '?'))}, operation {target.get('op_id')}")
    return "\n".join(lines)


def hover_markdown(view: SessionView, me: str, rel: str) -> str | None:
    """Markdown details of the intents and conflicts on `rel` (None when there is nothing to say)."""
    others = holders(view, me, rel)
    conflicts = conflicts_on(view, rel)
    if not others and not conflicts:
        return None
    parts = ["**mpac-bridge**"]
    for i in others:
        parts.append(
            f"- **{who(view, i['principal_id'])}** - {i.get('objective', '')}\n"
            f"  - intent `{i['intent_id']}`, {str(i.get('state', 'ACTIVE')).lower()}"
            + ("; the owner is unavailable, it can be taken over" if i.get("state") == "SUSPENDED"
               else f", expires {utc_clock(i.get('expires_at'))}")
        )
    for c in conflicts:
        people = " and ".join(who(view, p) for p in c.get("principals") or [])
        parts.append(f"- conflict `{c['conflict_id']}` ({c.get('category')}, {c.get('severity')}, "
                     f"{str(c.get('state')).lower()}) between {people}: {c.get('description', '')}")
    return "\n".join(parts)

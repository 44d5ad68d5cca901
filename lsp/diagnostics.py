"""Diagnostics computed from the session view for one tracked file. Pure: no I/O, no clock.

Sources (each one cause, stored separately so that each clears on its own):
  intent         Warning: another participant's live intent covers the file (on the lines of each
                 symbol it claims, when it claims symbols: issue 19)
  conflict       Error: an open conflict involves the file
  stale          Information: someone else committed to the file after the buffer was loaded
  disk           Information: the file changed on disk while someone else held it
  uncoordinated  Warning: the person saved the file while someone else held it
"""

from __future__ import annotations

import time
from typing import Any

from lsprotocol import types

from bridge.client import Conflict, Intent, Session
from lsp.tracked import Tracked

SOURCE = "mpac-bridge"
SOURCES = ("intent", "conflict", "stale", "disk", "uncoordinated")
FIRST_LINE = types.Range(
    start=types.Position(line=0, character=0), end=types.Position(line=1, character=0)
)


def who(session: Session, principal_id: str) -> str:
    """A readable name: the display name with the principal id when they differ."""
    name = session.name_of(principal_id)
    return principal_id if name == principal_id else f"{name} ({principal_id})"


def utc_clock(ts: float | None) -> str:
    """'14:05:09 UTC' for a Unix time; '?' when unknown."""
    return "?" if ts is None else time.strftime("%H:%M:%S UTC", time.gmtime(ts))


def _diag(
    severity: types.DiagnosticSeverity,
    code: str,
    message: str,
    data: dict[str, Any],
    where: types.Range = FIRST_LINE,
) -> types.Diagnostic:
    return types.Diagnostic(
        range=where, message=message, severity=severity, source=SOURCE, code=code, data=data
    )


def symbol_range(t: Tracked, name: str) -> types.Range | None:
    """The lines of a symbol in the last buffer version that parsed (a name covers what is nested
    in it); None when unknown (never parsed, not in the buffer, or the whole file)."""
    if t.symbols is None or name == "*":
        return None
    spans = t.symbols.ranges([name])
    if not spans:
        return None
    return types.Range(
        start=types.Position(line=spans[0][0] - 1, character=0),
        end=types.Position(line=spans[-1][1], character=0),
    )


def held_ranges(session: Session, t: Tracked) -> list[types.Range]:
    """The ranges of the symbols of this file others hold (for hovers)."""
    return [
        r
        for i in holders(session, t.rel)
        for n in sorted(i.symbols.get(t.rel, ()))
        if (r := symbol_range(t, n))
    ]


def holders(session: Session, rel: str) -> list[Intent]:
    """Other participants' live intents whose scope covers `rel`."""
    return [h.intent for h in session.holders([rel])]


def intent_diagnostic(session: Session, intent: Intent) -> types.Diagnostic:
    owner = who(session, intent.principal_id)
    data = {
        "kind": "intent",
        "intent_id": intent.intent_id,
        "principal_id": intent.principal_id,
        "state": intent.state,
    }
    if intent.suspended:
        msg = (
            f"{owner} held this file ({intent.objective}; intent {intent.intent_id}) but is unavailable: "
            "the intent is suspended and can be taken over (code action: Claim this file)"
        )
    else:
        msg = (
            f"{owner} is working on this file: {intent.objective} "
            f"(intent {intent.intent_id}, expires {utc_clock(intent.expires_at)})"
        )
    return _diag(types.DiagnosticSeverity.Warning, "intent", msg, data)


def intent_diagnostics(session: Session, intent: Intent, t: Tracked) -> list[types.Diagnostic]:
    """One Warning per symbol of this file the intent claims, on the symbol's lines; one on the
    first line for a whole-file claim (or a symbol not found in the buffer)."""
    names = intent.symbols.get(t.rel)
    if not names or "*" in names:
        return [intent_diagnostic(session, intent)]
    owner = who(session, intent.principal_id)
    out = []
    for name in sorted(names):
        where = symbol_range(t, name)
        data = {
            "kind": "intent",
            "intent_id": intent.intent_id,
            "principal_id": intent.principal_id,
            "state": intent.state,
            "symbol": name,
        }
        missing = " (not in this buffer)" if where is None and t.symbols is not None else ""
        if intent.suspended:
            msg = (
                f"{owner} held {name}{missing} ({intent.objective}; intent {intent.intent_id}) but is unavailable: "
                "the intent is suspended and can be taken over (code action: Claim this file)"
            )
        else:
            msg = (
                f"{owner} is working on {name}{missing} in this file: {intent.objective} "
                f"(intent {intent.intent_id}, expires {utc_clock(intent.expires_at)})"
            )
        out.append(
            _diag(types.DiagnosticSeverity.Warning, "intent", msg, data, where or FIRST_LINE)
        )
    return out


def conflict_diagnostic(session: Session, c: Conflict) -> types.Diagnostic:
    people = " and ".join(who(session, p) for p in c.principals) or "participants"
    state = "" if c.state == "OPEN" else f" [{c.state.lower()}]"
    desc = f": {c.description}" if c.description else ""
    msg = f"Conflict {c.conflict_id} ({c.category}, {c.severity}) between {people}{state}{desc}"
    data = {"kind": "conflict", "conflict_id": c.conflict_id, "state": c.state}
    return _diag(types.DiagnosticSeverity.Error, "conflict", msg, data)


def stale_diagnostic(session: Session, t: Tracked) -> types.Diagnostic | None:
    """Someone else committed to the file after the buffer was loaded, and the buffer does not match it."""
    last = session.file(t.rel)
    if not t.open or last is None or last.op_id == t.baseline_op or last.principal_id == session.me:
        return None
    if t.buffer_ref is not None and last.state_ref == t.buffer_ref:
        return None
    msg = (
        f"{who(session, last.principal_id or '?')} committed a change to this file after you opened it "
        f"(operation {last.op_id}); reload the file before editing"
    )
    data = {"kind": "stale", "op_id": last.op_id, "principal_id": last.principal_id}
    return _diag(types.DiagnosticSeverity.Information, "stale", msg, data)


def compute(session: Session, t: Tracked) -> dict[str, list[types.Diagnostic]]:
    """Every source's diagnostics for one tracked file."""
    held = holders(session, t.rel)
    out: dict[str, list[types.Diagnostic]] = {s: [] for s in SOURCES}
    out["intent"] = [d for i in held for d in intent_diagnostics(session, i, t)]
    out["conflict"] = [conflict_diagnostic(session, c) for c in session.conflicts_on(t.rel)]
    stale = stale_diagnostic(session, t)
    if stale is not None:
        out["stale"] = [stale]
    if t.open and t.disk_change:
        names = (
            ", ".join(who(session, p) for p in t.disk_change.get("holders", []))
            or "another participant"
        )
        out["disk"] = [
            _diag(
                types.DiagnosticSeverity.Information,
                "changed-on-disk",
                f"This file changed on disk while {names} held it; your buffer may be out of date",
                {"kind": "disk", **t.disk_change},
            )
        ]
    if t.uncoordinated and held:
        names = ", ".join(f"{who(session, i.principal_id)} (intent {i.intent_id})" for i in held)
        out["uncoordinated"] = [
            _diag(
                types.DiagnosticSeverity.Warning,
                "uncoordinated",
                f"uncoordinated edit: held by {names}; you saved this file while they hold it",
                {"kind": "uncoordinated", "holders": [i.principal_id for i in held]},
            )
        ]
    return out

"""Diagnostics computed from the session view for one tracked file. Pure: no I/O, no clock.

Sources (each one cause, stored separately so that each clears on its own):
  intent         Warning: another participant's live intent covers the file
  conflict       Error: an open conflict involves the file
  stale          Information: someone else committed to the file after the buffer was loaded
  disk           Information: the file changed on disk while someone else held it
  uncoordinated  Warning: the person saved the file while someone else held it
"""

from __future__ import annotations

import time
from typing import Any

from lsprotocol import types

from bridge.client import SessionView
from bridge.protocol.scope import normalize_scope, overlap
from lsp.tracked import Tracked

SOURCE = "mpac-bridge"
SOURCES = ("intent", "conflict", "stale", "disk", "uncoordinated")
FIRST_LINE = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=1, character=0))


def who(view: SessionView, principal_id: str) -> str:
    """A readable name: the display name with the principal id when they differ."""
    name = (view.participants.get(principal_id) or {}).get("display_name") or principal_id
    return principal_id if name == principal_id else f"{name} ({principal_id})"


def utc_clock(ts: Any) -> str:
    """'14:05:09 UTC' for a Unix time; '?' when unknown."""
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        return "?"
    return time.strftime("%H:%M:%S UTC", time.gmtime(ts))


def _diag(severity: types.DiagnosticSeverity, code: str, message: str, data: dict[str, Any]) -> types.Diagnostic:
    return types.Diagnostic(range=FIRST_LINE, message=message, severity=severity, source=SOURCE, code=code, data=data)


def holders(view: SessionView, me: str, rel: str) -> list[dict[str, Any]]:
    """Other participants' live intents whose scope covers `rel`."""
    return [intent for intent, _ov in view.overlapping([rel], exclude_principal=me)]


def my_intents(view: SessionView, me: str, rel: str) -> list[dict[str, Any]]:
    """My own live intents whose scope covers `rel`."""
    return [i for i, _ov in view.overlapping([rel]) if i["principal_id"] == me]


def _covers(intent: dict[str, Any], rel: str) -> bool:
    probe = normalize_scope({"kind": "file_set", "resources": [rel]})
    ov = overlap(probe, normalize_scope(intent.get("scope") or {}))
    return ov is not None and ov.basis != "opaque"


def conflicts_on(view: SessionView, rel: str) -> list[dict[str, Any]]:
    """Open conflicts involving `rel`: a related intent covers it, or a related operation targets it."""
    ops_here = {t.get("op_id") for path, t in view.targets.items() if path == rel}
    out = []
    for c in view.conflicts.values():
        related = [view.intents[i] for i in c.get("related_intents", []) if i in view.intents]
        if any(_covers(i, rel) for i in related) or ops_here & set(c.get("related_ops") or []):
            out.append(c)
    return sorted(out, key=lambda c: c["conflict_id"])


def intent_diagnostic(view: SessionView, intent: dict[str, Any]) -> types.Diagnostic:
    owner = who(view, intent["principal_id"])
    data = {"kind": "intent", "intent_id": intent["intent_id"], "principal_id": intent["principal_id"], "state": intent.get("state")}
    if intent.get("state") == "SUSPENDED":
        msg = (f"{owner} held this file ({intent.get('objective', '')}; intent {intent['intent_id']}) but is unavailable: "
               "the intent is suspended and can be taken over (code action: Claim this file)")
    else:
        msg = (f"{owner} is working on this file: {intent.get('objective', '')} "
               f"(intent {intent['intent_id']}, expires {utc_clock(intent.get('expires_at'))})")
    return _diag(types.DiagnosticSeverity.Warning, "intent", msg, data)


def conflict_diagnostic(view: SessionView, c: dict[str, Any]) -> types.Diagnostic:
    people = " and ".join(who(view, p) for p in c.get("principals") or []) or "participants"
    state = "" if c.get("state") == "OPEN" else f" [{str(c.get('state', '')).lower()}]"
    desc = f": {c['description']}" if c.get("description") else ""
    msg = f"Conflict {c['conflict_id']} ({c.get('category')}, {c.get('severity')}) between {people}{state}{desc}"
    data = {"kind": "conflict", "conflict_id": c["conflict_id"], "state": c.get("state")}
    return _diag(types.DiagnosticSeverity.Error, "conflict", msg, data)


def stale_diagnostic(view: SessionView, me: str, t: Tracked) -> types.Diagnostic | None:
    """Someone else committed to the file after the buffer was loaded, and the buffer does not match it."""
    target = view.targets.get(t.rel)
    if not t.open or not target or target.get("op_id") == t.baseline_op or target.get("principal_id") == me:
        return None
    if t.buffer_ref is not None and target.get("state_ref") == t.buffer_ref:
        return None
    msg = (f"{who(view, target.get('principal_id', '?'))} committed a change to this file after you opened it "
           f"(operation {target.get('op_id')}); reload the file before editing")
    data = {"kind": "stale", "op_id": target.get("op_id"), "principal_id": target.get("principal_id")}
    return _diag(types.DiagnosticSeverity.Information, "stale", msg, data)


def compute(view: SessionView, me: str, t: Tracked) -> dict[str, list[types.Diagnostic]]:
    """Every source's diagnostics for one tracked file."""
    held = holders(view, me, t.rel)
    out: dict[str, list[types.Diagnostic]] = {s: [] for s in SOURCES}
    out["intent"] = [intent_diagnostic(view, i) for i in held]
    out["conflict"] = [conflict_diagnostic(view, c) for c in conflicts_on(view, t.rel)]
    stale = stale_diagnostic(view, me, t)
    if stale is not None:
        out["stale"] = [stale]
    if t.open and t.disk_change:
        names = ", ".join(who(view, p) for p in t.disk_change.get("holders", [])) or "another participant"
        out["disk"] = [_diag(types.DiagnosticSeverity.Information, "changed-on-disk",
                             f"This file changed on disk while {names} held it; your buffer may be out of date",
                             {"kind": "disk", **t.disk_change})]
    if t.uncoordinated and held:
        names = ", ".join(f"{who(view, i['principal_id'])} (intent {i['intent_id']})" for i in held)
        out["uncoordinated"] = [_diag(types.DiagnosticSeverity.Warning, "uncoordinated",
                                      f"uncoordinated edit: held by {names}; you saved this file while they hold it",
                                      {"kind": "uncoordinated", "holders": [i["principal_id"] for i in held]})]
    return out

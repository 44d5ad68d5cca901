"""What the dashboard remembers beyond the client's view: per-intent and per-conflict history,
operations with their state refs, last-seen times and heartbeat statuses. Pure, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.client import Session, short
from tui.model import LogEntry, as_dict, describe, duration, escape, hms

OP_TYPES = ("OP_PROPOSE", "OP_COMMIT", "OP_REJECT", "OP_SUPERSEDE")


@dataclass
class History:
    limit: int = 50
    by_id: dict[str, list[LogEntry]] = field(default_factory=dict)
    ops: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)

    def record(self, msg: dict[str, Any], now: float) -> LogEntry:
        entry = describe(msg, now)
        p = as_dict(msg.get("payload"))
        if entry.sender and msg.get("message_type") != "_CONNECTION":
            self.seen[entry.sender] = max(self.seen.get(entry.sender, 0.0), entry.ts)
        if msg.get("message_type") == "HEARTBEAT" and isinstance(p.get("status"), str):
            self.status[entry.sender] = p["status"]
        ids = {
            p.get(k)
            for k in ("intent_id", "original_intent_id", "new_intent_id", "conflict_id", "op_id")
        }
        ids.update(p.get("related_intents") or [])
        ids.update(p.get("observed_intent_ids") or [])
        ids.update(x for x in (p.get("intent_a"), p.get("intent_b")) if x)
        ids.update(p.get("related_ops") or [])
        for i in ids:
            if isinstance(i, str):
                hist = self.by_id.setdefault(i, [])
                hist.append(entry)
                del hist[: -self.limit]
        if msg.get("message_type") in OP_TYPES and isinstance(p.get("op_id"), str):
            op = self.ops.setdefault(p["op_id"], {"op_id": p["op_id"]})
            op["state"] = {
                "OP_COMMIT": "COMMITTED",
                "OP_REJECT": "REJECTED",
                "OP_PROPOSE": "PROPOSED",
                "OP_SUPERSEDE": "SUPERSEDED",
            }[msg["message_type"]]
            for k in ("intent_id", "target", "state_ref_before", "state_ref_after", "op_kind"):
                if p.get(k) is not None:
                    op[k] = p[k]
            op.setdefault("principal_id", entry.sender)
        return entry

    def ops_of(self, intent_id: str) -> list[dict[str, Any]]:
        return [o for o in self.ops.values() if o.get("intent_id") == intent_id]


def _history_lines(entries: list[LogEntry]) -> list[str]:
    return [
        f"  {hms(e.ts)} {escape(short(e.sender) or '-')} {e.mtype} {escape(e.text)}"
        for e in entries
    ] or ["  (none seen)"]


def _op_lines(ops: list[dict[str, Any]]) -> list[str]:
    out = []
    for o in ops:
        out.append(
            f"  {escape(o['op_id'])} {o.get('state', '?')} {escape(str(o.get('target', '')))}"
        )
        out.append(
            f"    {escape(str(o.get('state_ref_before')))} → {escape(str(o.get('state_ref_after')))}"
        )
    return out or ["  (none)"]


def intent_detail(session: Session, h: History, intent_id: str, now: float) -> tuple[str, str]:
    i = session.intent(intent_id)
    if i is None:
        return f"Intent {intent_id}", "This intent is no longer live."
    lines = [
        f"[b]Owner[/]      {escape(i.principal_id)}",
        f"[b]State[/]      {i.state}   [b]Priority[/] {i.priority}",
        f"[b]Expires in[/] {duration(i.ttl_left(now))}",
        f"[b]Deferred by[/] {escape(', '.join(i.deferred_by) or '-')}",
        "[b]Objective[/]",
        f"  {escape(i.objective)}",
        "[b]Scope[/]",
        f"  kind: {escape(i.scope_kind)}",
        *[f"  {escape(f)}" for f in i.files],
        "[b]Conflicts[/]",
        *(
            [
                f"  {escape(c.conflict_id)} {c.category} {c.state}"
                for c in session.conflicts_of(intent_id)
            ]
            or ["  (none)"]
        ),
        "[b]Operations[/]",
        *_op_lines(h.ops_of(intent_id)),
        "[b]History[/]",
        *_history_lines(h.by_id.get(intent_id, [])),
    ]
    return f"Intent {intent_id}", "\n".join(lines)


def conflict_detail(session: Session, h: History, conflict_id: str, now: float) -> tuple[str, str]:
    c = session.conflict(conflict_id)
    if c is None:
        return f"Conflict {conflict_id}", "This conflict is resolved or closed."
    intents = []
    for iid in c.related_intents:
        i = session.intent(iid)
        desc = (
            f"{short(i.principal_id)}: {i.objective} [{', '.join(i.files)}]"
            if i
            else "(no longer live)"
        )
        intents.append(f"  {escape(iid)} {escape(desc)}")
    ops = [h.ops.get(o, {"op_id": o}) for o in c.related_ops]
    for iid in c.related_intents:
        ops.extend(o for o in h.ops_of(iid) if o not in ops)
    lines = [
        f"[b]Category[/] {c.category}   [b]Severity[/] {c.severity}   [b]State[/] {c.state}",
        f"[b]Parties[/]  {escape(', '.join(c.principals))}",
        f"[b]Age[/]      {duration(None if c.created_at is None else now - c.created_at)}"
        + (f"   [b]Escalated to[/] {escape(c.escalated_to)}" if c.escalated_to else ""),
        "[b]Description[/]",
        f"  {escape(c.description or '-')}",
        "[b]Intents[/]",
        *(intents or ["  (none)"]),
        "[b]Operations[/]",
        *_op_lines(ops),
        "[b]History[/]",
        *_history_lines(h.by_id.get(conflict_id, [])),
    ]
    return f"Conflict {conflict_id}", "\n".join(lines)

"""Conflict and governance layers: detection, reports, acknowledgement, escalation, resolution
(with its outcome applied) and auto-dismissal."""

from __future__ import annotations

from typing import Any

from bridge.core.base import EXT, CoreBase
from bridge.core.outbound import To
from bridge.core.records import Conflict, Intent, Operation
from bridge.protocol.codes import ErrorCode
from bridge.protocol.enums import ConflictState, IntentState, OpState
from bridge.protocol.parse import ParsedMessage
from bridge.protocol.payloads import ConflictAck, ConflictEscalate, ConflictReport, Resolution
from bridge.protocol.scope import NormScope, Overlap
from bridge.protocol.states import CONFLICT_TABLE, ConflictEvent, IntentEvent, OpEvent, next_state
from bridge.protocol.worktree import label

AUTHORITY_ROLES = frozenset({"owner", "arbiter"})
WORKTREE_RULE = "scope.overlap.worktree.v1"  # one path claimed in two worktrees (issue 13.4)
CATEGORY_BY_BASIS = {
    "file_set": ("scope_overlap", "high"),
    "resource_path": ("scope_overlap", "medium"),
    "canonical_uri": ("scope_overlap", "medium"),
    "entity_set": ("scope_overlap", "medium"),
    "task_set": ("resource_contention", "medium"),
    "opaque": ("scope_overlap", "low"),
    "dependency": ("dependency_breakage", "medium"),
}


class ConflictLayer(CoreBase):
    # --- detection ---------------------------------------------------------------------------

    def detect_conflicts(self, intent: Intent, norm: NormScope, msg: ParsedMessage, hits: list | None = None) -> None:
        """Overlaps the race lock did not refuse become CONFLICT_REPORTs (one per pair)."""
        already = {i for cid in self.conflicts_by_intent.get(intent.intent_id, set()) for i in self.conflicts[cid].related_intents}
        found: list[tuple[str, Overlap]] = []
        if hits is None:
            hits = self.index.overlapping(norm, exclude=intent.intent_id)
        for iid, ov in hits:
            if iid == intent.intent_id:
                continue
            if self.intents[iid].principal_id != intent.principal_id:
                found.append((iid, ov))
        for iid, ov in self.index.impacted(norm, exclude=intent.intent_id):
            if self.intents[iid].principal_id != intent.principal_id:
                found.append((iid, ov))
        for iid, ov in found:
            if iid not in already:
                already.add(iid)
                self.raise_conflict(self.intents[iid], intent, ov, msg.message_id)

    def raise_conflict(self, first: Intent, second: Intent, ov: Overlap, cause: str | None = None) -> Conflict:
        category, severity = CATEGORY_BY_BASIS.get(ov.basis, ("scope_overlap", "medium"))
        cid = self.new_id("conflict")
        shared = ", ".join(ov.shared[:5]) or "their scopes"
        rule = f"scope.overlap.{ov.basis}.v1"
        apart = first.worktree != second.worktree and ov.race_locked  # one path, two checkouts (issue 13.4)
        if apart:
            severity, rule = "medium", WORKTREE_RULE
            text = (f"{first.principal_id} ({label(first.worktree, first.branch)}) and {second.principal_id} "
                    f"({label(second.worktree, second.branch)}) both intend to change {shared} in different worktrees: "
                    "no write is lost, but the branches will conflict when they are merged")
        elif category == "dependency_breakage":
            text = f"{second.principal_id} and {first.principal_id}: one edits {shared}, which the other's work depends on"
        else:
            text = f"{first.principal_id} and {second.principal_id} both intend to change {shared}"
        conflict = Conflict(
            conflict_id=cid,
            category=category,
            severity=severity,
            state=ConflictState.OPEN,
            related_intents=[first.intent_id, second.intent_id],
            related_ops=[],
            principals=[first.principal_id, second.principal_id],
            created_at=self.now,
            description=text,
            basis={"kind": "rule", "rule_id": rule},
        )
        payload: dict[str, Any] = {
            "conflict_id": cid,
            "related_intents": conflict.related_intents,
            "related_ops": [],
            "category": category,
            "severity": severity,
            "basis": conflict.basis,
            "based_on_watermark": {"kind": "lamport_clock", "value": self.clock.value},
            "description": text,
            "suggested_action": "coordinate" if category != "dependency_breakage" else "review_dependency",
            # D9: reference clients route on these
            "principal_a": first.principal_id,
            "principal_b": second.principal_id,
            "intent_a": first.intent_id,
            "intent_b": second.intent_id,
            "extensions": {EXT: {"shared": list(ov.shared), "basis": ov.basis, **({"worktrees": {
                i.intent_id: {"id": i.worktree, "branch": i.branch} for i in (first, second)}} if apart else {})}},
        }
        conflict.report = self.emit("CONFLICT_REPORT", payload, To.ALL, in_reply_to=cause)
        self.store_conflict(conflict)
        if not apart:  # two worktrees: a note about a future merge, never timed out into a frozen scope
            self.arm_resolution_timer(conflict)
        return conflict

    def store_conflict(self, conflict: Conflict) -> None:
        self.count("conflicts")
        self.take_id("conflict", conflict.conflict_id, conflict.principals[0] if conflict.principals else "")
        self.conflicts[conflict.conflict_id] = conflict
        for iid in conflict.related_intents:
            self.conflicts_by_intent.setdefault(iid, set()).add(conflict.conflict_id)
        self.note({"event": "conflict", "conflict_id": conflict.conflict_id, "category": conflict.category})

    # --- bookkeeping hooks called by the intent and operation layers -------------------------

    def op_committed_for_conflicts(self, op: Operation) -> None:
        for cid in sorted(self.conflicts_by_intent.get(op.intent_id or "", set())):
            c = self.conflicts.get(cid)
            # Commits in two worktrees touch two files: they never settle (or keep open) a worktree note.
            if c is not None and op.op_id not in c.related_ops and c.basis.get("rule_id") != WORKTREE_RULE:
                c.related_ops.append(op.op_id)

    def op_ended_for_conflicts(self, op_id: str) -> None:
        return None  # auto-dismissal is evaluated when the related intents end

    def op_settled(self, op_id: str) -> bool:
        if op_id in self.ops:
            return False
        rec = self.committed.get(op_id)
        return rec is None or rec["state"] != OpState.COMMITTED

    def intent_ended_for_conflicts(self, intent_id: str) -> None:
        """§17.9: a conflict whose related intents all ended, and whose ops are settled, is dismissed."""
        for cid in sorted(self.conflicts_by_intent.get(intent_id, set())):
            c = self.conflicts.get(cid)
            if c is None:
                continue
            if any(i in self.intents for i in c.related_intents):
                continue
            if not all(self.op_settled(o) for o in c.related_ops):
                continue
            self.finish_conflict(c, ConflictEvent.AUTO_DISMISS)
            self.emit(
                "RESOLUTION",
                {
                    "resolution_id": self.new_id("resolution"),
                    "conflict_id": cid,
                    "decision": "dismissed",
                    "rationale": "all_related_entities_terminated",
                },
                To.ALL,
            )

    def finish_conflict(self, c: Conflict, event: ConflictEvent) -> None:
        new = next_state(CONFLICT_TABLE, ConflictState(c.state), event)
        if new is None:
            return
        if new == ConflictState.RESOLVED:
            new = next_state(CONFLICT_TABLE, new, ConflictEvent.CLOSE)  # C12: automatic
        c.state = new  # type: ignore[assignment]
        self.conflicts.pop(c.conflict_id, None)
        self.frozen.discard(c.conflict_id)
        for iid in c.related_intents:
            ids = self.conflicts_by_intent.get(iid)
            if ids is not None:
                ids.discard(c.conflict_id)
                if not ids:
                    del self.conflicts_by_intent[iid]
        self.ended_conflicts.put(c.conflict_id, str(c.state))
        self.count(f"conflicts_{c.state}")
        self.note({"event": "conflict_closed", "conflict_id": c.conflict_id, "state": str(c.state)})

    # --- participant messages ----------------------------------------------------------------

    def find_conflict(self, msg: ParsedMessage, cid: str) -> Conflict | None:
        c = self.conflicts.get(cid)
        if c is None:
            ended = self.ended_conflicts.get(cid)
            code = ErrorCode.RESOLUTION_CONFLICT if ended and msg.message_type == "RESOLUTION" else ErrorCode.INVALID_REFERENCE
            why = f"conflict {cid!r} is already {ended}" if ended else f"no conflict {cid!r} in this session"
            self.error(code, why, msg.message_id, msg.sender_id)
        return c

    def on_report(self, msg: ParsedMessage) -> bool:
        p: ConflictReport = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        if self.id_taken("conflict", p.conflict_id) or p.conflict_id in self.conflicts:
            self.error(ErrorCode.INVALID_REFERENCE, f"conflict_id {p.conflict_id!r} is already used", msg.message_id, pid)
            return False
        intents = p.intents()
        unknown = [i for i in intents if self.intent_state(i) is None]
        unknown_ops = [o for o in (p.related_ops or []) if o not in self.ops and o not in self.committed]
        if unknown or unknown_ops:
            self.error(ErrorCode.INVALID_REFERENCE, f"unknown related intents/ops: {', '.join(unknown + unknown_ops)}", msg.message_id, pid)
            return False
        principals = list(dict.fromkeys(p.principals() + [self.intents[i].principal_id for i in intents if i in self.intents]))
        c = Conflict(
            conflict_id=p.conflict_id,
            category=p.category,
            severity=p.severity,
            state=ConflictState.OPEN,
            related_intents=intents,
            related_ops=list(p.related_ops or []),
            principals=principals,
            created_at=self.now,
            description=p.description or "",
            basis=p.basis.dump() if p.basis else {"kind": "human_report"},
            report=msg.raw,
        )
        self.store_conflict(c)
        self.arm_resolution_timer(c)
        self.relay(msg.raw)
        return True

    def on_ack(self, msg: ParsedMessage) -> bool:
        p: ConflictAck = msg.payload  # type: ignore[assignment]
        c = self.find_conflict(msg, p.conflict_id)
        if c is None:
            return False
        pid = msg.sender_id
        if pid not in c.principals and not (self.roles_of(pid) & AUTHORITY_ROLES):
            self.error(ErrorCode.AUTHORIZATION_FAILED, "only a related participant, an owner or an arbiter may acknowledge", msg.message_id, pid)
            return False
        event = ConflictEvent.DISPUTE if p.ack_type == "disputed" else ConflictEvent.ACK
        new = next_state(CONFLICT_TABLE, ConflictState(c.state), event)
        if new is None:
            self.error(ErrorCode.INVALID_REFERENCE, f"conflict {c.conflict_id!r} is {c.state}", msg.message_id, pid)
            return False
        c.state = new
        c.acks[pid] = p.ack_type
        self.relay(msg.raw)
        return True

    def on_escalate(self, msg: ParsedMessage) -> bool:
        p: ConflictEscalate = msg.payload  # type: ignore[assignment]
        c = self.find_conflict(msg, p.conflict_id)
        if c is None:
            return False
        pid = msg.sender_id
        if pid not in c.principals and not (self.roles_of(pid) & AUTHORITY_ROLES):
            self.error(ErrorCode.AUTHORIZATION_FAILED, "only a related participant, an owner or an arbiter may escalate", msg.message_id, pid)
            return False
        if not (self.roles_of(p.escalate_to) & AUTHORITY_ROLES):
            self.error(
                ErrorCode.AUTHORIZATION_FAILED,
                f"{p.escalate_to} is not a participant with the owner or arbiter role",
                msg.message_id,
                pid,
            )
            return False
        new = next_state(CONFLICT_TABLE, ConflictState(c.state), ConflictEvent.ESCALATE)
        if new is None:
            self.error(ErrorCode.INVALID_REFERENCE, f"conflict {c.conflict_id!r} is {c.state}", msg.message_id, pid)
            return False
        c.state, c.escalated_to, c.escalated_at = new, p.escalate_to, self.now
        if c.frozen_at is None:
            self.arm_resolution_timer(c)  # the escalation target gets a fresh timeout
        self.relay(msg.raw)
        return True

    def may_resolve(self, pid: str, c: Conflict) -> bool:
        roles = self.roles_of(pid)
        if c.state == ConflictState.ESCALATED:
            return pid == c.escalated_to or "arbiter" in roles
        if roles & AUTHORITY_ROLES:
            return True
        # Without a governance profile, the related principals may settle it between themselves.
        return self.config.compliance_profile == "core" and pid in c.principals

    def on_resolution(self, msg: ParsedMessage) -> bool:
        p: Resolution = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        c = self.find_conflict(msg, p.conflict_id)
        if c is None:
            return False
        if not self.may_resolve(pid, c):
            who = c.escalated_to if c.state == ConflictState.ESCALATED else "an owner or arbiter"
            self.error(ErrorCode.AUTHORIZATION_FAILED, f"conflict {c.conflict_id!r} can be resolved only by {who}", msg.message_id, pid)
            return False
        outcome = p.outcome.dump() if p.outcome else {}
        rejected = [x for x in outcome.get("rejected") or [] if isinstance(x, str)]
        committed = [x for x in rejected if (self.committed.get(x) or {}).get("state") == OpState.COMMITTED]
        if committed and not outcome.get("rollback"):
            self.error(
                ErrorCode.MALFORMED_MESSAGE,
                f"outcome rejects committed operation(s) {', '.join(committed)}; outcome.rollback is required",
                msg.message_id,
                pid,
            )
            return False
        event = ConflictEvent.DISMISS if p.decision == "dismissed" else ConflictEvent.RESOLVE
        c.resolution_id = p.resolution_id or self.new_id("resolution")
        c.resolved_by = pid
        self.finish_conflict(c, event)
        out = msg.raw
        if p.resolution_id is None:  # D3: give the resolution an id everyone can refer to
            out = dict(msg.raw)
            out["payload"] = dict(msg.raw["payload"], resolution_id=c.resolution_id)
        self.relay(out)
        # A7: apply the outcome. Rejected intents are withdrawn (and their owners back off);
        # rejected proposals are rejected; rejected committed ops are recorded as rolled back.
        for ref in rejected:
            intent = self.intents.get(ref)
            if intent is not None:
                norm = self._norms.get(ref)
                self.end_intent(intent, IntentEvent.RESOLUTION_REJECTED, f"rejected_by_resolution:{c.resolution_id}")
                if norm is not None:
                    self.record_backoff(intent.principal_id, norm)
                continue
            op = self.ops.get(ref)
            if op is not None:
                self.end_op(op, OpEvent.REJECT, "rejected_by_resolution")
        if not rejected and p.decision in ("rejected",):
            pass
        self.note({"event": "resolution", "conflict_id": c.conflict_id, "decision": p.decision, "by": pid})
        return True

    def withdraw_state(self, intent_id: str) -> str | None:
        return None if intent_id in self.intents else IntentState.WITHDRAWN

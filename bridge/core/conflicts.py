"""Conflict layer: detection (CONFLICT_REPORT for overlaps the race lock let through), reports from
participants, the records' bookkeeping (related ops, resolution deadline) and auto-dismissal once
every related intent has ended (§17.9). Deciding a conflict (acknowledgement, escalation,
resolution, timeouts) is the governance layer's."""

from __future__ import annotations

from typing import Any

from bridge.core.emit import Emitter
from bridge.core.outbound import To
from bridge.core.records import Conflict, Intent, Operation
from bridge.core.state import SessionState
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import EXT
from bridge.protocol.enums import ConflictState, OpState
from bridge.protocol.read import WireMessage
from bridge.protocol.scope import NormScope, Overlap
from bridge.protocol.states import CONFLICT_TABLE, ConflictEvent, next_state
from bridge.protocol.wiretypes import ConflictReport
from bridge.protocol.worktree import label

Hits = list[tuple[str, Overlap]]
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


class ConflictLayer:
    def __init__(self, state: SessionState, emitter: Emitter) -> None:
        self.state = state
        self.emitter = emitter

    # --- detection ---------------------------------------------------------------------------

    def detect(
        self, intent: Intent, norm: NormScope, msg: WireMessage, hits: Hits | None = None
    ) -> None:
        """Overlaps the race lock did not refuse become CONFLICT_REPORTs (one per pair)."""
        st = self.state
        already = {
            i
            for cid in st.conflicts_by_intent.get(intent.intent_id)
            for i in st.conflicts[cid].related_intents
        }
        found: list[tuple[str, Overlap]] = []
        if hits is None:
            hits = st.index.overlapping(norm, exclude=intent.intent_id)
        for iid, ov in hits:
            if iid == intent.intent_id:
                continue
            if st.intents[iid].principal_id != intent.principal_id:
                found.append((iid, ov))
        for iid, dep in st.index.impacted(norm, exclude=intent.intent_id):
            if st.intents[iid].principal_id != intent.principal_id:
                found.append((iid, dep))
        for iid, ov in found:
            if iid not in already:
                already.add(iid)
                self.raise_conflict(st.intents[iid], intent, ov, msg.message_id)

    def raise_conflict(
        self, first: Intent, second: Intent, ov: Overlap, cause: str | None = None
    ) -> Conflict:
        st = self.state
        category, severity = CATEGORY_BY_BASIS.get(ov.basis, ("scope_overlap", "medium"))
        cid = st.new_id("conflict")
        shared = ", ".join(ov.shared[:5]) or "their scopes"
        rule = f"scope.overlap.{ov.basis}.v1"
        # one path in two checkouts (issue 13.4)
        apart = first.worktree != second.worktree and ov.race_locked
        if apart:
            severity, rule = "medium", WORKTREE_RULE
            text = (
                f"{first.principal_id} ({label(first.worktree, first.branch)}) and {second.principal_id} "
                f"({label(second.worktree, second.branch)}) both intend to change {shared} in different worktrees: "
                "no write is lost, but the branches will conflict when they are merged"
            )
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
            created_at=st.now,
            description=text,
            basis={"kind": "rule", "rule_id": rule},
        )
        ours: dict[str, Any] = {"shared": list(ov.shared), "basis": ov.basis}
        if apart:
            ours["worktrees"] = {
                i.intent_id: {"id": i.worktree, "branch": i.branch} for i in (first, second)
            }
        payload: dict[str, Any] = {
            "conflict_id": cid,
            "related_intents": conflict.related_intents,
            "related_ops": [],
            "category": category,
            "severity": severity,
            "basis": conflict.basis,
            "based_on_watermark": {"kind": "lamport_clock", "value": st.clock.value},
            "description": text,
            "suggested_action": "coordinate"
            if category != "dependency_breakage"
            else "review_dependency",
            # D9: reference clients route on these
            "principal_a": first.principal_id,
            "principal_b": second.principal_id,
            "intent_a": first.intent_id,
            "intent_b": second.intent_id,
            "extensions": {EXT: ours},
        }
        conflict.report = self.emitter.emit("CONFLICT_REPORT", payload, To.ALL, in_reply_to=cause)
        self.store(conflict)
        if (
            not apart
        ):  # two worktrees: a note about a future merge, never timed out into a frozen scope
            self.arm_resolution_timer(conflict)
        return conflict

    def store(self, conflict: Conflict) -> None:
        st = self.state
        st.count("conflicts")
        st.take_id(
            "conflict", conflict.conflict_id, conflict.principals[0] if conflict.principals else ""
        )
        st.add_conflict(conflict)
        self.emitter.note(
            {
                "event": "conflict",
                "conflict_id": conflict.conflict_id,
                "category": conflict.category,
            }
        )

    def arm_resolution_timer(self, c: Conflict) -> None:
        """The conflict must be resolved by now + resolution_timeout (the governance layer acts when
        the deadline passes); a timeout of 0 disables it."""
        st = self.state
        if st.config.resolution_timeout_sec <= 0:
            return
        c.due_at = st.now + st.config.resolution_timeout_sec
        st.timers.conflict.push(c.due_at, c.conflict_id)

    # --- bookkeeping called by the intent and operation layers -------------------------------

    def op_committed(self, op: Operation) -> None:
        st = self.state
        for cid in sorted(st.conflicts_by_intent.get(op.intent_id or "")):
            c = st.conflicts.get(cid)
            # Commits in two worktrees touch two files: they never settle (or keep open) a worktree note.
            if (
                c is not None
                and op.op_id not in c.related_ops
                and c.basis.get("rule_id") != WORKTREE_RULE
            ):
                c.related_ops.append(op.op_id)

    def op_settled(self, op_id: str) -> bool:
        st = self.state
        if op_id in st.ops:
            return False
        rec = st.committed.get(op_id)
        return rec is None or rec["state"] != OpState.COMMITTED

    def intent_ended(self, intent_id: str) -> None:
        """§17.9: a conflict whose related intents all ended, and whose ops are settled, is dismissed."""
        st = self.state
        if (
            intent_id not in st.conflicts_by_intent
        ):  # the common case: the intent was in no conflict
            return
        for cid in sorted(st.conflicts_by_intent.get(intent_id)):
            c = st.conflicts.get(cid)
            if c is None:
                continue
            if any(i in st.intents for i in c.related_intents):
                continue
            if not all(self.op_settled(o) for o in c.related_ops):
                continue
            self.finish(c, ConflictEvent.AUTO_DISMISS)
            self.emitter.emit(
                "RESOLUTION",
                {
                    "resolution_id": st.new_id("resolution"),
                    "conflict_id": cid,
                    "decision": "dismissed",
                    "rationale": "all_related_entities_terminated",
                },
                To.ALL,
            )

    def finish(self, c: Conflict, event: ConflictEvent) -> None:
        """The conflict ends (resolved conflicts are closed at once, C12) and is remembered."""
        st = self.state
        new = next_state(CONFLICT_TABLE, ConflictState(c.state), event)
        if new is None:
            return
        if new == ConflictState.RESOLVED:
            new = next_state(CONFLICT_TABLE, new, ConflictEvent.CLOSE) or new  # C12: automatic
        c.state = new
        st.remove_conflict(c)
        st.ended_conflicts.put(c.conflict_id, str(c.state))
        st.count(f"conflicts_{c.state}")
        self.emitter.note(
            {"event": "conflict_closed", "conflict_id": c.conflict_id, "state": str(c.state)}
        )

    # --- participant messages ----------------------------------------------------------------

    def find(self, msg: WireMessage, cid: str) -> Conflict | None:
        """The open conflict `cid`, or None with the sender told why."""
        st = self.state
        c = st.conflicts.get(cid)
        if c is None:
            ended = st.ended_conflicts.get(cid)
            code = (
                ErrorCode.RESOLUTION_CONFLICT
                if ended and msg.message_type == "RESOLUTION"
                else ErrorCode.INVALID_REFERENCE
            )
            why = (
                f"conflict {cid!r} is already {ended}"
                if ended
                else f"no conflict {cid!r} in this session"
            )
            self.emitter.error(code, why, msg.message_id, msg.sender_id)
        return c

    def on_report(self, msg: WireMessage) -> bool:
        st, emitter = self.state, self.emitter
        p = msg.payload_as(ConflictReport)
        pid = msg.sender_id
        if st.id_taken("conflict", p.conflict_id) or p.conflict_id in st.conflicts:
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"conflict_id {p.conflict_id!r} is already used",
                msg.message_id,
                pid,
            )
            return False
        intents = p.intents()
        unknown = [i for i in intents if st.intent_state(i) is None]
        unknown_ops = [
            o for o in (p.related_ops or []) if o not in st.ops and o not in st.committed
        ]
        if unknown or unknown_ops:
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"unknown related intents/ops: {', '.join(unknown + unknown_ops)}",
                msg.message_id,
                pid,
            )
            return False
        principals = list(
            dict.fromkeys(
                p.principals() + [st.intents[i].principal_id for i in intents if i in st.intents]
            )
        )
        c = Conflict(
            conflict_id=p.conflict_id,
            category=p.category,
            severity=p.severity,
            state=ConflictState.OPEN,
            related_intents=intents,
            related_ops=list(p.related_ops or []),
            principals=principals,
            created_at=st.now,
            description=p.description or "",
            basis=msg.part("basis") if p.basis else {"kind": "human_report"},
            report=msg.raw,
        )
        self.store(c)
        self.arm_resolution_timer(c)
        emitter.relay(msg.raw)
        return True

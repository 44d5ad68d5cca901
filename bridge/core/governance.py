"""Governance layer: deciding conflicts. CONFLICT_ACK, CONFLICT_ESCALATE and RESOLUTION (with its
outcome applied), and the resolution timeout with frozen scope and its progressive degradation
(spec §18.6; digest 8.6), decided in docs/protocol.md under A12."""

from __future__ import annotations

from bridge.core.conflicts import ConflictLayer
from bridge.core.emit import Emitter
from bridge.core.intents import IntentLayer
from bridge.core.operations import OperationLayer
from bridge.core.outbound import To
from bridge.core.records import Conflict
from bridge.core.state import SessionState
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import EXT
from bridge.protocol.enums import ConflictState, OpState
from bridge.protocol.read import WireMessage
from bridge.protocol.states import CONFLICT_TABLE, ConflictEvent, IntentEvent, OpEvent, next_state
from bridge.protocol.wiretypes import ConflictAck, ConflictEscalate, Resolution

AUTHORITY_ROLES = frozenset({"owner", "arbiter"})
PRIORITY = {"low": 0, "normal": 1, "high": 2, "critical": 3}


class GovernanceLayer:
    def __init__(
        self,
        state: SessionState,
        emitter: Emitter,
        conflicts: ConflictLayer,
        intents: IntentLayer,
        operations: OperationLayer,
    ) -> None:
        self.state = state
        self.emitter = emitter
        self.conflicts = conflicts
        self.intents = intents
        self.operations = operations

    # --- participant messages ----------------------------------------------------------------

    def party_to(self, msg: WireMessage, cid: str, verb: str) -> Conflict | None:
        """The open conflict `cid` when the sender is one of its principals, an owner or an
        arbiter; else None, with the sender told why."""
        c = self.conflicts.find(msg, cid)
        if c is None:
            return None
        pid = msg.sender_id
        if pid not in c.principals and not (self.state.roles_of(pid) & AUTHORITY_ROLES):
            text = f"only a related participant, an owner or an arbiter may {verb}"
            self.emitter.error(ErrorCode.AUTHORIZATION_FAILED, text, msg.message_id, pid)
            return None
        return c

    def next_conflict_state(
        self, msg: WireMessage, c: Conflict, event: ConflictEvent
    ) -> ConflictState | None:
        """The conflict's state after `event`, or None (the sender told) when its table refuses it."""
        new = next_state(CONFLICT_TABLE, ConflictState(c.state), event)
        if new is None:
            text = f"conflict {c.conflict_id!r} is {c.state}"
            self.emitter.error(ErrorCode.INVALID_REFERENCE, text, msg.message_id, msg.sender_id)
        return new

    def on_ack(self, msg: WireMessage) -> bool:
        p = msg.payload_as(ConflictAck)
        c = self.party_to(msg, p.conflict_id, "acknowledge")
        if c is None:
            return False
        event = ConflictEvent.DISPUTE if p.ack_type == "disputed" else ConflictEvent.ACK
        new = self.next_conflict_state(msg, c, event)
        if new is None:
            return False
        c.state = new
        c.acks[msg.sender_id] = p.ack_type
        self.emitter.relay(msg.raw)
        return True

    def on_escalate(self, msg: WireMessage) -> bool:
        st, emitter = self.state, self.emitter
        p = msg.payload_as(ConflictEscalate)
        c = self.party_to(msg, p.conflict_id, "escalate")
        if c is None:
            return False
        if not (st.roles_of(p.escalate_to) & AUTHORITY_ROLES):
            text = f"{p.escalate_to} is not a participant with the owner or arbiter role"
            emitter.error(ErrorCode.AUTHORIZATION_FAILED, text, msg.message_id, msg.sender_id)
            return False
        new = self.next_conflict_state(msg, c, ConflictEvent.ESCALATE)
        if new is None:
            return False
        c.state, c.escalated_to, c.escalated_at = new, p.escalate_to, st.now
        if c.frozen_at is None:
            self.conflicts.arm_resolution_timer(c)  # the escalation target gets a fresh timeout
        emitter.relay(msg.raw)
        return True

    def may_resolve(self, pid: str, c: Conflict) -> bool:
        roles = self.state.roles_of(pid)
        if c.state == ConflictState.ESCALATED:
            return pid == c.escalated_to or "arbiter" in roles
        if roles & AUTHORITY_ROLES:
            return True
        # Without a governance profile, the related principals may settle it between themselves.
        return self.state.config.compliance_profile == "core" and pid in c.principals

    def on_resolution(self, msg: WireMessage) -> bool:
        st, emitter = self.state, self.emitter
        p = msg.payload_as(Resolution)
        pid = msg.sender_id
        c = self.conflicts.find(msg, p.conflict_id)
        if c is None:
            return False
        if not self.may_resolve(pid, c):
            who = c.escalated_to if c.state == ConflictState.ESCALATED else "an owner or arbiter"
            emitter.error(
                ErrorCode.AUTHORIZATION_FAILED,
                f"conflict {c.conflict_id!r} can be resolved only by {who}",
                msg.message_id,
                pid,
            )
            return False
        outcome = msg.part("outcome")
        rejected = [x for x in outcome.get("rejected") or [] if isinstance(x, str)]
        committed = [
            x for x in rejected if (st.committed.get(x) or {}).get("state") == OpState.COMMITTED
        ]
        if committed and not outcome.get("rollback"):
            text = f"outcome rejects committed operation(s) {', '.join(committed)}; outcome.rollback is required"
            emitter.error(ErrorCode.MALFORMED_MESSAGE, text, msg.message_id, pid)
            return False
        event = ConflictEvent.DISMISS if p.decision == "dismissed" else ConflictEvent.RESOLVE
        c.resolution_id = p.resolution_id or st.new_id("resolution")
        c.resolved_by = pid
        self.conflicts.finish(c, event)
        out = msg.raw
        if p.resolution_id is None:  # D3: give the resolution an id everyone can refer to
            out = dict(msg.raw)
            out["payload"] = dict(msg.raw["payload"], resolution_id=c.resolution_id)
        emitter.relay(out)
        # A7: apply the outcome. Rejected intents are withdrawn (and their owners back off);
        # rejected proposals are rejected; rejected committed ops are recorded as rolled back.
        for ref in rejected:
            intent = st.intents.get(ref)
            if intent is not None:
                norm = st.norms.get(ref)
                self.intents.end(
                    intent,
                    IntentEvent.RESOLUTION_REJECTED,
                    f"rejected_by_resolution:{c.resolution_id}",
                )
                if norm is not None:
                    self.intents.record_backoff(intent.principal_id, norm)
                continue
            op = st.ops.get(ref)
            if op is not None:
                self.operations.end(op, OpEvent.REJECT, "rejected_by_resolution")
        emitter.note(
            {"event": "resolution", "conflict_id": c.conflict_id, "decision": p.decision, "by": pid}
        )
        return True

    # --- timers ------------------------------------------------------------------------------

    def run_timers(self) -> None:
        st = self.state
        while (due := st.timers.conflict.pop_due(st.now)) is not None:
            when, cid = due
            c = st.conflicts.get(cid)
            if c is None or c.due_at != when:
                continue  # ended, or re-armed
            if c.frozen_at is None:
                self.resolution_timeout(c)
            elif c.phase == 1:
                self.phase_two(c)
            else:
                self.phase_three(c)

    def available_arbiter(self, exclude: list[str]) -> str | None:
        st = self.state
        for pid in sorted(st.participants):
            part = st.participants[pid]
            if (
                "arbiter" in part.roles
                and part.is_available
                and part.connected
                and pid not in exclude
            ):
                return pid
        return None

    def system_escalate(self, c: Conflict, arbiter: str, reason: str) -> None:
        new = next_state(CONFLICT_TABLE, ConflictState(c.state), ConflictEvent.ESCALATE)
        if new is None:
            return
        c.state, c.escalated_to, c.escalated_at = new, arbiter, self.state.now
        self.emitter.emit(
            "CONFLICT_ESCALATE",
            {"conflict_id": c.conflict_id, "escalate_to": arbiter, "reason": reason},
            To.ALL,
        )

    def resolution_timeout(self, c: Conflict) -> None:
        """§18.6.1: escalate to an available arbiter; if there is none (or it already had its
        chance), freeze the conflicted scope."""
        timeout = int(self.state.config.resolution_timeout_sec)
        self.emitter.emit(
            "PROTOCOL_ERROR",
            {
                "error_code": str(ErrorCode.RESOLUTION_TIMEOUT),
                "refers_to": c.report.get("message_id") if c.report else None,
                "description": f"conflict {c.conflict_id} has waited {timeout} s without a resolution",
                "extensions": {EXT: {"conflict_id": c.conflict_id}},
            },
            To.ALL,
        )
        arbiter = self.available_arbiter(exclude=[])
        if arbiter is not None and c.state != ConflictState.ESCALATED:
            self.system_escalate(c, arbiter, "resolution_timeout")
            self.conflicts.arm_resolution_timer(c)
            return
        self.freeze(c)

    def freeze(self, c: Conflict) -> None:
        st = self.state
        c.frozen_at, c.phase = st.now, 1
        st.frozen.add(c.conflict_id)
        c.due_at = st.now + st.config.frozen_phase2_sec  # phase 1 lasts frozen_phase_1 (60 s)
        st.timers.conflict.push(c.due_at, c.conflict_id)
        self.emitter.note({"event": "scope_frozen", "conflict_id": c.conflict_id})

    def phase_two(self, c: Conflict) -> None:
        """Auto-escalate to an arbiter; let a single strictly higher-priority intent proceed."""
        st, emitter = self.state, self.emitter
        c.phase = 2
        c.due_at = (
            (c.frozen_at or st.now) + st.config.frozen_phase2_sec + st.config.frozen_phase3_sec
        )
        st.timers.conflict.push(c.due_at, c.conflict_id)
        arbiter = self.available_arbiter(exclude=[c.escalated_to or ""])
        if arbiter is not None and c.state != ConflictState.ESCALATED:
            self.system_escalate(c, arbiter, "frozen_scope_phase_2")
        ranked = sorted(
            (
                (PRIORITY.get(st.intents[i].priority, 1), i)
                for i in c.related_intents
                if i in st.intents
            ),
            reverse=True,
        )
        if len(ranked) >= 2 and ranked[0][0] > ranked[1][0]:
            c.partial_winner = ranked[0][1]
            losers = [st.intents[i].principal_id for _p, i in ranked[1:]]
            winner = st.intents[c.partial_winner]
            emitter.emit(
                "PROTOCOL_ERROR",
                {
                    "error_code": str(ErrorCode.SCOPE_FROZEN),
                    "refers_to": None,
                    "description": f"scope of conflict {c.conflict_id} stays frozen for you; {winner.principal_id}'s "
                    f"{winner.priority}-priority intent {winner.intent_id} may proceed",
                    "extensions": {
                        EXT: {"conflict_id": c.conflict_id, "partial_unfreeze": winner.intent_id}
                    },
                },
                To.only(*losers),
            )
            emitter.note(
                {
                    "event": "partial_unfreeze",
                    "conflict_id": c.conflict_id,
                    "intent_id": c.partial_winner,
                }
            )
        else:
            emitter.emit(
                "PROTOCOL_ERROR",
                {
                    "error_code": str(ErrorCode.RESOLUTION_TIMEOUT),
                    "refers_to": None,
                    "description": f"conflict {c.conflict_id} is still frozen; an owner or arbiter should resolve it",
                    "extensions": {EXT: {"conflict_id": c.conflict_id, "phase": 2}},
                },
                To.ALL,
            )

    def phase_three(self, c: Conflict) -> None:
        """First committer wins: the earliest committed related op is kept, pending ones lose."""
        st = self.state
        # receipt order of the related ops that were ever committed (a later one may supersede it)
        committed = [
            o
            for o in c.related_ops
            if (st.committed.get(o) or {}).get("state") in (OpState.COMMITTED, OpState.SUPERSEDED)
        ]
        pending = [st.ops[o] for o in sorted(st.ops) if st.ops[o].intent_id in c.related_intents]
        for op in pending:
            self.operations.end(op, OpEvent.REJECT, "frozen_scope_fallback")
        self.conflicts.finish(c, ConflictEvent.PHASE3_FALLBACK)
        self.emitter.emit(
            "RESOLUTION",
            {
                "resolution_id": st.new_id("resolution"),
                "conflict_id": c.conflict_id,
                "decision": "policy_override",
                "rationale": "frozen_scope_progressive_fallback_phase_3",
                "outcome": {"accepted": committed[:1], "rejected": [op.op_id for op in pending]},
            },
            To.ALL,
        )

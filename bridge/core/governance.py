"""Governance timers: the resolution timeout, frozen scope and its progressive degradation
(spec §18.6; digest 8.6), decided in docs/protocol.md under A12."""

from __future__ import annotations

import heapq

from bridge.core.base import EXT, CoreBase
from bridge.core.outbound import To
from bridge.core.records import Conflict
from bridge.protocol.codes import ErrorCode
from bridge.protocol.enums import ConflictState, OpState
from bridge.protocol.parse import ParsedMessage
from bridge.protocol.scope import NormScope, contains, normalize_scope, overlap
from bridge.protocol.states import CONFLICT_TABLE, ConflictEvent, OpEvent, next_state

PRIORITY = {"low": 0, "normal": 1, "high": 2, "critical": 3}


class GovernanceLayer(CoreBase):
    # --- timers ------------------------------------------------------------------------------

    def arm_resolution_timer(self, c: Conflict) -> None:
        if self.config.resolution_timeout_sec <= 0:
            return
        c.due_at = self.now + self.config.resolution_timeout_sec
        self.push(self.conflict_heap, c.due_at, c.conflict_id)

    def available_arbiter(self, exclude: list[str]) -> str | None:
        for pid in sorted(self.participants):
            part = self.participants[pid]
            if "arbiter" in part.roles and part.is_available and part.connected and pid not in exclude:
                return pid
        return None

    def run_conflict_timers(self) -> None:
        while self.conflict_heap and self.conflict_heap[0][0] <= self.now:
            when, cid = heapq.heappop(self.conflict_heap)
            c = self.conflicts.get(cid)
            if c is None or c.due_at != when:
                continue  # ended, or re-armed
            if c.frozen_at is None:
                self.resolution_timeout(c)
            elif c.phase == 1:
                self.phase_two(c)
            else:
                self.phase_three(c)

    def system_escalate(self, c: Conflict, arbiter: str, reason: str) -> None:
        new = next_state(CONFLICT_TABLE, ConflictState(c.state), ConflictEvent.ESCALATE)
        if new is None:
            return
        c.state, c.escalated_to, c.escalated_at = new, arbiter, self.now
        self.emit("CONFLICT_ESCALATE", {"conflict_id": c.conflict_id, "escalate_to": arbiter, "reason": reason}, To.ALL)

    def resolution_timeout(self, c: Conflict) -> None:
        """§18.6.1: escalate to an available arbiter; if there is none (or it already had its
        chance), freeze the conflicted scope."""
        self.emit(
            "PROTOCOL_ERROR",
            {"error_code": str(ErrorCode.RESOLUTION_TIMEOUT), "refers_to": c.report.get("message_id") if c.report else None,
             "description": f"conflict {c.conflict_id} has waited {int(self.config.resolution_timeout_sec)} s without a resolution",
             "extensions": {EXT: {"conflict_id": c.conflict_id}}},
            To.ALL,
        )
        arbiter = self.available_arbiter(exclude=[])
        if arbiter is not None and c.state != ConflictState.ESCALATED:
            self.system_escalate(c, arbiter, "resolution_timeout")
            self.arm_resolution_timer(c)
            return
        self.freeze(c)

    def freeze(self, c: Conflict) -> None:
        c.frozen_at, c.phase = self.now, 1
        self.frozen.add(c.conflict_id)
        c.due_at = self.now + self.config.frozen_phase2_sec  # phase 1 lasts frozen_phase_1 (60 s)
        self.push(self.conflict_heap, c.due_at, c.conflict_id)
        self.note({"event": "scope_frozen", "conflict_id": c.conflict_id})

    def phase_two(self, c: Conflict) -> None:
        """Auto-escalate to an arbiter; let a single strictly higher-priority intent proceed."""
        c.phase = 2
        c.due_at = (c.frozen_at or self.now) + self.config.frozen_phase2_sec + self.config.frozen_phase3_sec
        self.push(self.conflict_heap, c.due_at, c.conflict_id)
        arbiter = self.available_arbiter(exclude=[c.escalated_to or ""])
        if arbiter is not None and c.state != ConflictState.ESCALATED:
            self.system_escalate(c, arbiter, "frozen_scope_phase_2")
        ranked = sorted(((PRIORITY.get(self.intents[i].priority, 1), i) for i in c.related_intents if i in self.intents), reverse=True)
        if len(ranked) >= 2 and ranked[0][0] > ranked[1][0]:
            c.partial_winner = ranked[0][1]
            losers = [self.intents[i].principal_id for _p, i in ranked[1:]]
            winner = self.intents[c.partial_winner]
            self.emit(
                "PROTOCOL_ERROR",
                {"error_code": str(ErrorCode.SCOPE_FROZEN), "refers_to": None,
                 "description": f"scope of conflict {c.conflict_id} stays frozen for you; {winner.principal_id}'s "
                 f"{winner.priority}-priority intent {winner.intent_id} may proceed",
                 "extensions": {EXT: {"conflict_id": c.conflict_id, "partial_unfreeze": winner.intent_id}}},
                To.only(*losers),
            )
            self.note({"event": "partial_unfreeze", "conflict_id": c.conflict_id, "intent_id": c.partial_winner})
        else:
            self.emit(
                "PROTOCOL_ERROR",
                {"error_code": str(ErrorCode.RESOLUTION_TIMEOUT), "refers_to": None,
                 "description": f"conflict {c.conflict_id} is still frozen; an owner or arbiter should resolve it",
                 "extensions": {EXT: {"conflict_id": c.conflict_id, "phase": 2}}},
                To.ALL,
            )

    def phase_three(self, c: Conflict) -> None:
        """First committer wins: the earliest committed related op is kept, pending ones lose."""
        # receipt order of the related ops that were ever committed (a later one may supersede it)
        committed = [o for o in c.related_ops if (self.committed.get(o) or {}).get("state") in (OpState.COMMITTED, OpState.SUPERSEDED)]
        pending = [self.ops[o] for o in sorted(self.ops) if self.ops[o].intent_id in c.related_intents]
        for op in pending:
            self.end_op(op, OpEvent.REJECT, "frozen_scope_fallback")
        self.finish_conflict(c, ConflictEvent.PHASE3_FALLBACK)
        self.emit(
            "RESOLUTION",
            {"resolution_id": self.new_id("resolution"), "conflict_id": c.conflict_id, "decision": "policy_override",
             "rationale": "frozen_scope_progressive_fallback_phase_3",
             "outcome": {"accepted": committed[:1], "rejected": [op.op_id for op in pending]}},
            To.ALL,
        )

    # --- enforcement -------------------------------------------------------------------------

    def frozen_norms(self) -> list[tuple[Conflict, NormScope]]:
        out = []
        for cid in sorted(self.frozen):  # only frozen conflicts are looked at
            c = self.conflicts[cid]
            for iid in c.related_intents:
                norm = self._norms.get(iid)
                if norm is not None:
                    out.append((c, norm))
        return out

    def frozen_check(self, norm: NormScope, msg: ParsedMessage) -> bool | None:
        """Announce inside a frozen scope: refused. Partly overlapping: accepted with a warning."""
        if not self.frozen_count:
            return None
        partial = None
        for c, frozen in self.frozen_norms():
            if contains(frozen, norm):
                self.error(ErrorCode.SCOPE_FROZEN, f"this scope is frozen by unresolved conflict {c.conflict_id}", msg.message_id, msg.sender_id)
                return False
            if overlap(frozen, norm) is not None:
                partial = c
        if partial is not None:
            self.error(ErrorCode.SCOPE_FROZEN, f"warning: part of this scope is frozen by conflict {partial.conflict_id}; "
                       "writes to the frozen part will be refused", msg.message_id, msg.sender_id)
        return True

    def check_frozen_target(self, target: str, intent_id: str | None = None) -> None:
        from bridge.core.operations import Refusal

        if not self.frozen_count:
            return
        probe = normalize_scope({"kind": "file_set", "resources": [target]})
        for c, frozen in self.frozen_norms():
            if c.partial_winner is not None and intent_id == c.partial_winner:
                continue
            if overlap(frozen, probe) is not None:
                raise Refusal(ErrorCode.SCOPE_FROZEN, f"{target} is frozen by unresolved conflict {c.conflict_id}; wait for its resolution")

    @property
    def frozen_count(self) -> int:
        return len(self.frozen)

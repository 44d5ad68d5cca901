"""Operation layer: OP_PROPOSE, OP_COMMIT, OP_REJECT and OP_SUPERSEDE for both execution models,
and the lifecycle of operations (pending, committed, ended) that the other layers drive. Batches
are in batches.py."""

from __future__ import annotations

from typing import Any

from bridge.core.commits import CommitChecks
from bridge.core.conflicts import ConflictLayer
from bridge.core.emit import Emitter
from bridge.core.frozen import FrozenScopes
from bridge.core.outbound import To
from bridge.core.records import Operation, Target
from bridge.core.refusal import Refusal
from bridge.core.state import SessionState
from bridge.core.status import Status
from bridge.protocol.codes import ErrorCode
from bridge.protocol.enums import OpState
from bridge.protocol.read import WireMessage
from bridge.protocol.scope import normalize_path
from bridge.protocol.states import OP_TABLE, OpEvent, next_state
from bridge.protocol.wiretypes import OpCommit, OpPropose, OpReject, OpSupersede
from bridge.protocol.worktree import ref_key

REVIEW_ROLES = frozenset({"reviewer", "owner", "arbiter"})


def public_commit(raw: dict[str, Any]) -> dict[str, Any]:
    """D7: a reference client's non-spec `file_changes` never leaves the coordinator."""
    if "file_changes" not in raw.get("payload", {}):
        return raw
    out = dict(raw)
    out["payload"] = {k: v for k, v in raw["payload"].items() if k != "file_changes"}
    return out


class OperationLayer:
    def __init__(
        self,
        state: SessionState,
        emitter: Emitter,
        status: Status,
        checks: CommitChecks,
        frozen: FrozenScopes,
        conflicts: ConflictLayer,
    ) -> None:
        self.state = state
        self.emitter = emitter
        self.status = status
        self.checks = checks
        self.frozen = frozen
        self.conflicts = conflicts

    # --- state changes -----------------------------------------------------------------------

    def transition(self, op: Operation, event: OpEvent) -> bool:
        new = next_state(OP_TABLE, OpState(op.state), event)
        if new is None:
            return False
        op.state = new
        return True

    def end(self, op: Operation, event: OpEvent, reason: str, announce: bool = True) -> None:
        """A pending operation ends (rejected, abandoned); a rejection is announced unless the
        participant message that caused it is relayed instead."""
        if not self.transition(op, event):
            return
        self.state.count(f"ops_{op.state}")
        self.state.remove_op(op)
        if op.state == OpState.REJECTED and announce:
            self.emitter.emit(
                "OP_REJECT",
                {"op_id": op.op_id, "reason": reason},
                To.ALL,
                in_reply_to=op.message_id,
            )

    def reject_after_grace(self) -> None:
        """Proposals whose intent ended wait out the grace period, then are rejected (§15.7)."""
        st = self.state
        while (due := st.timers.grace.pop_due(st.now)) is not None:
            op = st.ops.get(due[1])
            if op is not None and op.state == OpState.PROPOSED and op.intent_id not in st.intents:
                self.end(op, OpEvent.INTENT_TERMINATED, "intent_terminated")

    def new_op(
        self,
        pid: str,
        op_id: str,
        target: str,
        op_kind: str | None,
        intent_id: str | None,
        state: OpState,
        message_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        batch_id: str | None = None,
    ) -> Operation:
        st = self.state
        op = Operation(
            op_id=op_id,
            principal_id=pid,
            target=normalize_path(target),
            op_kind=op_kind or "replace",
            state=state,
            intent_id=intent_id,
            state_ref_before=before,
            state_ref_after=after,
            batch_id=batch_id,
            created_at=st.now,
            message_id=message_id,
            worktree=self.checks.intent_worktree(intent_id),
        )
        st.take_id("op", op.op_id, pid)
        st.count("ops")
        if state in (OpState.PROPOSED, OpState.FROZEN):
            st.add_op(op)
        return op

    def apply_commit(
        self, op: Operation, envelope: dict[str, Any], base: str | None = None
    ) -> None:
        """Record a commit. `base` is the state the write starts from when it differs from the
        op's own state_ref_before (the first entry of a batch chain on one target)."""
        st = self.state
        op.state = OpState.COMMITTED
        st.count("ops_COMMITTED")
        st.remove_op(op)
        key = ref_key(op.target, op.worktree)
        prev = st.targets.get(key)
        if (
            prev is not None
            and prev.state_ref is not None
            and prev.state_ref == op.state_ref_before
        ):
            old = st.committed.get(prev.op_id)
            if old is not None:
                old["state"] = OpState.SUPERSEDED  # O18: implicit supersession
        st.committed.put(op.op_id, op.to_json())
        disk = self.checks.disk_ref(key)  # the lookup of the check that let the commit through
        landed = disk is None or disk == op.state_ref_after
        st.targets.put(
            key,
            Target(
                op.target,
                op.state_ref_after,
                op.op_id,
                op.principal_id,
                st.now,
                envelope,
                base=base or op.state_ref_before,
                landed=landed,
                intent_id=op.intent_id,
                worktree=op.worktree,
            ),
        )
        self.conflicts.op_committed(op)

    def refuse(self, msg: WireMessage, r: Refusal) -> bool:
        self.emitter.error(r.code, r.text, msg.message_id, msg.sender_id, r.ext)
        return False

    def authorize(self, op: Operation, in_reply_to: str, batch_id: str | None = None) -> None:
        """O4: automatic authorization (no review step in this version; see docs/protocol.md)."""
        op.authorized = True
        extra: dict[str, Any] = {
            "authorized_op_id": op.op_id,
            "authorized_by": self.state.coordinator_id,
        }
        if batch_id:
            extra["authorized_batch_id"] = batch_id
        self.status.coordinator_status("authorization", **extra)
        self.emitter.readdress_last(To.only(op.principal_id), in_reply_to)

    # --- handlers ----------------------------------------------------------------------------

    def on_propose(self, msg: WireMessage) -> bool:
        p = msg.payload_as(OpPropose)
        pid = msg.sender_id
        try:
            self.checks.check_new_op_id(p.op_id, pid)
            self.checks.check_intent(pid, p.intent_id, p.target)
            self.frozen.check_target(normalize_path(p.target), p.intent_id)
        except Refusal as r:
            return self.refuse(msg, r)
        op = self.new_op(
            pid, p.op_id, p.target, p.op_kind, p.intent_id, OpState.PROPOSED, msg.message_id
        )
        self.emitter.relay(msg.raw)
        if self.state.config.execution_model == "pre_commit":
            self.authorize(op, msg.message_id)
        return True

    def on_commit(self, msg: WireMessage) -> bool:
        st, checks = self.state, self.checks
        p = msg.payload_as(OpCommit)
        pid = msg.sender_id
        target = normalize_path(p.target)
        pending = st.ops.get(p.op_id)
        pre = st.config.execution_model == "pre_commit"
        try:
            if pending is not None:  # pre_commit completion (O5)
                if pending.principal_id != pid:
                    raise Refusal(
                        ErrorCode.AUTHORIZATION_FAILED,
                        f"operation {p.op_id!r} belongs to {pending.principal_id}",
                    )
                if pending.state == OpState.FROZEN:
                    raise Refusal(
                        ErrorCode.SCOPE_FROZEN,
                        f"operation {p.op_id!r} is frozen while its intent is suspended",
                    )
                if not pending.authorized:
                    raise Refusal(
                        ErrorCode.AUTHORIZATION_FAILED,
                        f"operation {p.op_id!r} has not been authorized yet",
                    )
                checks.check_intent(pid, pending.intent_id, target)
                # The completion follows the write: the disk may already show state_ref_after.
                checks.check_ref(
                    target, p.state_ref_before, after=p.state_ref_after, worktree=pending.worktree
                )
                pending.state_ref_before, pending.state_ref_after = (
                    p.state_ref_before,
                    p.state_ref_after,
                )
                self.apply_commit(pending, public_commit(msg.raw))
                self.emitter.relay(public_commit(msg.raw))
                return True
            checks.check_new_op_id(p.op_id, pid)
            checks.check_intent(pid, p.intent_id, target)
            self.frozen.check_target(target, p.intent_id)
            if not pre:
                checks.check_ref(
                    target,
                    p.state_ref_before,
                    after=p.state_ref_after,
                    worktree=checks.intent_worktree(p.intent_id),
                )
        except Refusal as r:
            return self.refuse(msg, r)
        # O3: in pre_commit, a commit is a request: proposed and authorized, not applied
        state = OpState.PROPOSED if pre else OpState.COMMITTED
        op = self.new_op(
            pid,
            p.op_id,
            p.target,
            p.op_kind,
            p.intent_id,
            state,
            msg.message_id,
            before=p.state_ref_before,
            after=p.state_ref_after,
        )
        if pre:
            self.authorize(op, msg.message_id)
            return True
        self.apply_commit(op, public_commit(msg.raw))
        self.emitter.relay(public_commit(msg.raw))
        return True

    def on_reject(self, msg: WireMessage) -> bool:
        st, emitter = self.state, self.emitter
        p = msg.payload_as(OpReject)
        pid = msg.sender_id
        op = st.ops.get(p.op_id)
        if op is None:
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"no pending operation {p.op_id!r}",
                msg.message_id,
                pid,
            )
            return False
        if not (st.roles_of(pid) & REVIEW_ROLES):
            emitter.error(
                ErrorCode.AUTHORIZATION_FAILED,
                "only a reviewer, owner or arbiter may reject an operation",
                msg.message_id,
                pid,
            )
            return False
        if next_state(OP_TABLE, OpState(op.state), OpEvent.REJECT) is None:
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"operation {p.op_id!r} is {op.state}",
                msg.message_id,
                pid,
            )
            return False
        emitter.relay(msg.raw)
        self.end(op, OpEvent.REJECT, p.reason, announce=False)
        return True

    def on_supersede(self, msg: WireMessage) -> bool:
        st, emitter = self.state, self.emitter
        p = msg.payload_as(OpSupersede)
        pid = msg.sender_id
        old = st.committed.get(p.supersedes_op_id)
        if old is None or old["state"] != OpState.COMMITTED:
            why = f"is {old['state']}" if old else "is not a committed operation"
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"operation {p.supersedes_op_id!r} {why}",
                msg.message_id,
                pid,
            )
            return False
        target = normalize_path(p.target)
        if target != old["target"]:
            emitter.error(
                ErrorCode.MALFORMED_MESSAGE,
                "OP_SUPERSEDE must target the same resource as the operation it replaces",
                msg.message_id,
                pid,
            )
            return False
        intent_id = p.intent_id or old.get("intent_id")
        try:
            self.checks.check_new_op_id(p.op_id, pid)
            self.checks.check_intent(pid, intent_id, target)
        except Refusal as r:
            return self.refuse(msg, r)
        old["state"] = OpState.SUPERSEDED
        op = self.new_op(
            pid,
            p.op_id,
            target,
            p.op_kind or old["op_kind"],
            intent_id,
            OpState.COMMITTED,
            msg.message_id,
            before=old["state_ref_after"],
            after=p.state_ref_after,
        )
        st.committed.put(op.op_id, op.to_json())
        key = ref_key(target, old.get("worktree"))
        cur = st.targets.get(key)
        if cur is not None and cur.op_id == old["op_id"] and p.state_ref_after is not None:
            st.targets.put(
                key,
                Target(
                    target,
                    p.state_ref_after,
                    op.op_id,
                    pid,
                    st.now,
                    msg.raw,
                    worktree=old.get("worktree"),
                ),
            )
        emitter.relay(msg.raw)
        return True

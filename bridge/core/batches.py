"""OP_BATCH_COMMIT: several operations in one message, `all_or_nothing` or `best_effort`; in
pre_commit, a batch is proposed and authorized first, then completed by the same batch_id (O15).
Entries of one batch on one target chain their state refs."""

from __future__ import annotations

from typing import Any

from bridge.core.commits import CommitChecks
from bridge.core.emit import Emitter
from bridge.core.frozen import FrozenScopes
from bridge.core.operations import OperationLayer, public_commit
from bridge.core.outbound import To
from bridge.core.refusal import Refusal
from bridge.core.state import SessionState
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import EXT
from bridge.protocol.enums import OpState
from bridge.protocol.read import WireMessage
from bridge.protocol.scope import normalize_path
from bridge.protocol.wiretypes import BatchEntry, OpBatchCommit
from bridge.protocol.worktree import ref_key


class BatchLayer:
    def __init__(
        self,
        state: SessionState,
        emitter: Emitter,
        checks: CommitChecks,
        frozen: FrozenScopes,
        operations: OperationLayer,
    ) -> None:
        self.state = state
        self.emitter = emitter
        self.checks = checks
        self.frozen = frozen
        self.operations = operations

    def on_batch(self, msg: WireMessage) -> bool:
        st, checks, emitter = self.state, self.checks, self.emitter
        p = msg.payload_as(OpBatchCommit)
        pid = msg.sender_id
        pre = st.config.execution_model == "pre_commit"
        if st.id_taken("batch", p.batch_id):
            if pre:
                return self.complete(msg, p)
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"batch_id {p.batch_id!r} was already used",
                msg.message_id,
                pid,
            )
            return False
        good: list[BatchEntry] = []
        failed: list[dict[str, Any]] = []
        pending_refs: dict[str, str | None] = {}
        seen: set[str] = set()
        for entry in p.operations:
            intent_id = entry.intent_id or p.intent_id
            target = normalize_path(entry.target)
            try:
                if entry.op_id in seen:
                    raise Refusal(
                        ErrorCode.MALFORMED_MESSAGE,
                        f"op_id {entry.op_id!r} appears twice in the batch",
                    )
                if p.intent_id and entry.intent_id and entry.intent_id != p.intent_id:
                    raise Refusal(
                        ErrorCode.MALFORMED_MESSAGE, "every entry must share the batch's intent_id"
                    )
                checks.check_new_op_id(entry.op_id, pid)
                checks.check_intent(pid, intent_id, target)
                self.frozen.check_target(target, intent_id)
                if not pre:
                    wid = checks.intent_worktree(intent_id)
                    checks.check_ref(
                        target,
                        entry.state_ref_before,
                        pending_refs,
                        after=entry.state_ref_after,
                        worktree=wid,
                    )
                    pending_refs[ref_key(target, wid)] = entry.state_ref_after
                seen.add(entry.op_id)
                good.append(entry)
            except Refusal as r:
                failed.append(
                    {
                        "op_id": entry.op_id,
                        "error_code": str(r.code),
                        "description": r.text,
                        **(r.ext or {}),
                    }
                )
        if failed and (p.atomicity == "all_or_nothing" or not good):
            emitter.emit(
                "OP_REJECT",
                {
                    "op_id": p.batch_id,
                    "reason": "batch_validation_failed",
                    "extensions": {EXT: {"rejected_ops": failed}},
                },
                To.only(pid),
                in_reply_to=msg.message_id,
            )
            return False
        st.take_id("batch", p.batch_id, pid)
        # a chain of entries on one target writes from its first base
        bases: dict[str, str | None] = {}
        for entry in good:
            op = self.operations.new_op(
                pid,
                entry.op_id,
                entry.target,
                entry.op_kind,
                entry.intent_id or p.intent_id,
                OpState.PROPOSED if pre else OpState.COMMITTED,
                msg.message_id,
                before=entry.state_ref_before,
                after=entry.state_ref_after,
                batch_id=p.batch_id,
            )
            if pre:
                self.operations.authorize(op, msg.message_id, p.batch_id)
            else:
                self.operations.apply_commit(
                    op,
                    public_commit(msg.raw),
                    bases.setdefault(ref_key(op.target, op.worktree), op.state_ref_before),
                )
        if not pre:
            emitter.relay(public_commit(msg.raw))
            for f in failed:  # best_effort: every failed entry is reported, never dropped silently
                emitter.emit(
                    "OP_REJECT",
                    {"op_id": f["op_id"], "reason": f["description"], "extensions": {EXT: f}},
                    To.ALL,
                    in_reply_to=msg.message_id,
                )
        return True

    def complete(self, msg: WireMessage, p: OpBatchCommit) -> bool:
        """pre_commit completion (O15): every entry must be an authorized proposal of this batch."""
        st = self.state
        pid = msg.sender_id
        pending = []
        refs: dict[str, str | None] = {}  # entries of one batch chain their refs
        try:
            for entry in p.operations:
                op = st.ops.get(entry.op_id)
                if op is None or op.batch_id != p.batch_id or op.principal_id != pid:
                    raise Refusal(
                        ErrorCode.INVALID_REFERENCE,
                        f"{entry.op_id!r} is not a pending entry of batch {p.batch_id!r}",
                    )
                if op.state != OpState.PROPOSED or not op.authorized:
                    raise Refusal(
                        ErrorCode.AUTHORIZATION_FAILED,
                        f"{entry.op_id!r} is {op.state} and not authorized",
                    )
                self.checks.check_ref(
                    op.target,
                    entry.state_ref_before,
                    refs,
                    after=entry.state_ref_after,
                    worktree=op.worktree,
                )
                refs[ref_key(op.target, op.worktree)] = entry.state_ref_after
                pending.append((op, entry))
        except Refusal as r:
            return self.operations.refuse(msg, r)
        bases: dict[str, str | None] = {}
        for op, entry in pending:
            op.state_ref_before, op.state_ref_after = entry.state_ref_before, entry.state_ref_after
            self.operations.apply_commit(
                op,
                public_commit(msg.raw),
                bases.setdefault(ref_key(op.target, op.worktree), op.state_ref_before),
            )
        self.emitter.relay(public_commit(msg.raw))
        return True

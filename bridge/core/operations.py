"""Operation layer: OP_PROPOSE, OP_COMMIT, OP_BATCH_COMMIT, OP_REJECT and OP_SUPERSEDE, with
optimistic concurrency on state refs for both execution models."""

from __future__ import annotations

import heapq
from types import SimpleNamespace
from typing import Any

from bridge.core.base import EXT
from bridge.core.landing import CommitLanding
from bridge.core.outbound import To
from bridge.core.records import Operation, Target
from bridge.core.symbols import symbol_target
from bridge.protocol.codes import ErrorCode
from bridge.protocol.enums import IntentState, OpState
from bridge.protocol.parse import ParsedMessage
from bridge.protocol.payloads import OpBatchCommit, OpCommit, OpPropose, OpReject, OpSupersede
from bridge.protocol.scope import normalize_path
from bridge.protocol.states import OP_TABLE, OpEvent, next_state
from bridge.protocol.worktree import ref_key

REVIEW_ROLES = frozenset({"reviewer", "owner", "arbiter"})


class Refusal(Exception):
    """A commit check failed (internal control flow; never leaves the core)."""

    def __init__(self, code: ErrorCode, text: str, ext: dict[str, Any] | None = None) -> None:
        super().__init__(text)
        self.code, self.text, self.ext = code, text, ext


class OperationLayer(CommitLanding):
    # --- state changes -----------------------------------------------------------------------

    def transition_op(self, op: Operation, event: OpEvent) -> bool:
        new = next_state(OP_TABLE, OpState(op.state), event)
        if new is None:
            return False
        op.state = new
        return True

    def end_op(self, op: Operation, event: OpEvent, reason: str, announce: bool = True) -> None:
        if not self.transition_op(op, event):
            return
        self.count(f"ops_{op.state}")
        self.ops.pop(op.op_id, None)
        if op.intent_id:
            ids = self.ops_by_intent.get(op.intent_id)
            if ids is not None:
                ids.discard(op.op_id)
                if not ids:
                    del self.ops_by_intent[op.intent_id]
        if op.state == OpState.REJECTED and announce:
            self.emit("OP_REJECT", {"op_id": op.op_id, "reason": reason}, To.ALL, in_reply_to=op.message_id)
        self.op_ended_for_conflicts(op.op_id)

    def reject_after_grace(self) -> None:
        while self.grace_heap and self.grace_heap[0][0] <= self.now:
            _, op_id = heapq.heappop(self.grace_heap)
            op = self.ops.get(op_id)
            if op is not None and op.state == OpState.PROPOSED and op.intent_id not in self.intents:
                self.end_op(op, OpEvent.INTENT_TERMINATED, "intent_terminated")

    # --- checks ------------------------------------------------------------------------------

    def check_intent(self, pid: str, intent_id: str | None, target: str) -> None:
        """The operation must name a live, ACTIVE intent of the sender whose scope covers the target."""
        if not intent_id:
            raise Refusal(ErrorCode.MALFORMED_MESSAGE, "intent_id is required: announce an intent covering the target first")
        intent = self.intents.get(intent_id)
        if intent is None:
            state = self.intent_state(intent_id)
            why = f"is {state}" if state else "does not exist"
            raise Refusal(ErrorCode.INVALID_REFERENCE, f"intent {intent_id!r} {why}; announce a new intent")
        if intent.principal_id != pid:
            raise Refusal(ErrorCode.AUTHORIZATION_FAILED, f"intent {intent_id!r} belongs to {intent.principal_id}")
        if intent.state != IntentState.ACTIVE:
            raise Refusal(ErrorCode.INVALID_REFERENCE, f"intent {intent_id!r} is {intent.state}; operations on it are refused")
        norm = self._norms[intent_id]
        from bridge.protocol.scope import normalize_scope, overlap

        t = normalize_scope({"kind": "file_set", "resources": [target]})
        in_symbols = symbol_target(norm, t)  # symbol scopes: only the files their symbols are in
        if in_symbols is not None:
            if in_symbols:
                return
            raise Refusal(ErrorCode.AUTHORIZATION_FAILED, f"target {target!r} is not a file of the symbols of intent "
                                                          f"{intent_id!r}; update the intent first")
        if not (t.paths & norm.paths) and (norm.opaque or norm.entities or norm.tasks or norm.uris):
            return  # non-path scopes cannot be checked against a path; accepted (see docs/protocol.md)
        ov = overlap(t, norm)
        if ov is None or ov.basis not in ("file_set", "resource_path"):
            raise Refusal(
                ErrorCode.AUTHORIZATION_FAILED,
                f"target {target!r} is outside the scope of intent {intent_id!r}; update the intent first",
            )

    def disk_ref(self, target: str) -> str | None:
        """What the injected lookup says the target is now (None when unknown or not injected).
        Read once per target and call: the check and the commit it lets through see one disk."""
        if self.state_ref_lookup is None:
            return None
        if target in self._disk:
            return self._disk[target]
        try:
            value = self.state_ref_lookup(target)
        except Exception:
            value = None
        self._disk[target] = value
        return value

    def intent_worktree(self, intent_id: str | None) -> str | None:
        intent = self.intents.get(intent_id or "")
        return intent.worktree if intent is not None else None

    def check_ref(self, target: str, before: str | None, pending: dict[str, str | None] | None = None, after: str | None = None,
                  worktree: str | None = None) -> None:
        """Optimistic concurrency: `before` must be the last committed ref, and the file on disk (when
        the lookup can see it) must be either `before` or, if the write already landed, `after`.
        Both are those of the committing intent's worktree (its own history and its own disk)."""
        key = ref_key(target, worktree)
        if pending is not None and key in pending:  # an earlier entry of the same batch
            current = pending[key]
            if current is not None and before != current:
                raise self.stale(target, before, current)
            return
        last = self.targets.get(key)
        disk = self.disk_ref(key)
        if last is not None:
            self.saw_disk(last, disk)
        # A file changed outside coordination (a human's editor) is current as the disk shows it,
        # unless the disk shows the base of a commit whose write is still to come (issue 13.1).
        if last is not None and last.state_ref is not None and before != last.state_ref:
            if disk is None or disk != before:
                raise self.stale(target, before, disk or last.state_ref, on_disk=disk is not None)
            pending = self.in_flight_refusal(target, before, last)
            if pending is not None:
                raise Refusal(ErrorCode.STALE_STATE_REF, *pending)
        if disk is not None and disk != before and disk != after:
            raise self.stale(target, before, disk, on_disk=True)

    @staticmethod
    def stale(target: str, before: str | None, current: str, on_disk: bool = False) -> Refusal:
        where = "on disk" if on_disk else "since your read"
        return Refusal(
            ErrorCode.STALE_STATE_REF,
            f"{target} changed {where}: state_ref_before {before!r} does not match the current {current!r}; "
            "re-read the file and retry",
            {EXT: {"target": target, "current_state_ref": current}},
        )

    def check_new_op_id(self, op_id: str, pid: str | None = None) -> None:
        if self.id_taken("op", op_id) is not None or op_id in self.ops:
            raise self.reused_op_id(op_id, pid)

    def reused_op_id(self, op_id: str, pid: str | None) -> Refusal:
        """A23 refusal. When its sender committed that op_id, the refusal also says so: an agent
        that lost its connection mid-commit resends the same op_id to settle the outcome."""
        rec = self.committed.get(op_id)
        if pid is None or rec is None or rec.get("principal_id") != pid:
            return Refusal(ErrorCode.INVALID_REFERENCE, f"op_id {op_id!r} was already used; choose a new id")
        last = self.targets.get(ref_key(rec["target"], rec.get("worktree")))
        info = {"op_id": op_id, "state": rec["state"], "target": rec["target"], "state_ref_before": rec.get("state_ref_before"),
                "state_ref_after": rec.get("state_ref_after"), "current": last is not None and last.op_id == op_id,
                "current_state_ref": last.state_ref if last is not None else None}
        return Refusal(ErrorCode.INVALID_REFERENCE, f"op_id {op_id!r} was already used: it is your commit of {rec['target']}, "
                       f"recorded ({rec['state']})", {EXT: {"committed": info}})

    def refuse(self, msg: ParsedMessage, r: Refusal) -> bool:
        self.error(r.code, r.text, msg.message_id, msg.sender_id, r.ext)
        return False

    # --- registration ------------------------------------------------------------------------

    def new_op(self, pid: str, p: Any, state: OpState, message_id: str, batch_id: str | None = None) -> Operation:
        op = Operation(
            op_id=p.op_id,
            principal_id=pid,
            target=normalize_path(p.target),
            op_kind=p.op_kind or "replace",
            state=state,
            intent_id=p.intent_id,
            state_ref_before=getattr(p, "state_ref_before", None),
            state_ref_after=getattr(p, "state_ref_after", None),
            batch_id=batch_id,
            created_at=self.now,
            message_id=message_id,
            worktree=self.intent_worktree(p.intent_id),
        )
        self.take_id("op", op.op_id, pid)
        self.count("ops")
        if state in (OpState.PROPOSED, OpState.FROZEN):
            self.ops[op.op_id] = op
            if op.intent_id:
                self.ops_by_intent.setdefault(op.intent_id, set()).add(op.op_id)
        return op

    def apply_commit(self, op: Operation, envelope: dict[str, Any], base: str | None = None) -> None:
        """Record a commit. `base` is the state the write starts from when it differs from the
        op's own state_ref_before (the first entry of a batch chain on one target)."""
        op.state = OpState.COMMITTED
        self.count("ops_COMMITTED")
        self.ops.pop(op.op_id, None)
        if op.intent_id and op.intent_id in self.ops_by_intent:
            self.ops_by_intent[op.intent_id].discard(op.op_id)
            if not self.ops_by_intent[op.intent_id]:
                del self.ops_by_intent[op.intent_id]
        key = ref_key(op.target, op.worktree)
        prev = self.targets.get(key)
        if prev is not None and prev.state_ref is not None and prev.state_ref == op.state_ref_before:
            old = self.committed.get(prev.op_id)
            if old is not None:
                old["state"] = OpState.SUPERSEDED  # O18: implicit supersession
        self.committed.put(op.op_id, op.to_json())
        disk = self.disk_ref(key)  # the lookup of the check that let the commit through
        landed = disk is None or disk == op.state_ref_after
        self.targets.put(key, Target(op.target, op.state_ref_after, op.op_id, op.principal_id, self.now, envelope,
                                     base=base or op.state_ref_before, landed=landed, intent_id=op.intent_id, worktree=op.worktree))
        self.op_committed_for_conflicts(op)

    @staticmethod
    def public_commit(raw: dict[str, Any]) -> dict[str, Any]:
        """D7: a reference client's non-spec `file_changes` never leaves the coordinator."""
        if "file_changes" not in raw.get("payload", {}):
            return raw
        out = dict(raw)
        out["payload"] = {k: v for k, v in raw["payload"].items() if k != "file_changes"}
        return out

    # --- handlers ----------------------------------------------------------------------------

    def on_propose(self, msg: ParsedMessage) -> bool:
        p: OpPropose = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        try:
            self.check_new_op_id(p.op_id, pid)
            self.check_intent(pid, p.intent_id, p.target)
            self.check_frozen_target(normalize_path(p.target), p.intent_id)
        except Refusal as r:
            return self.refuse(msg, r)
        op = self.new_op(pid, p, OpState.PROPOSED, msg.message_id)
        self.relay(msg.raw)
        if self.config.execution_model == "pre_commit":
            self.authorize(op, msg.message_id)
        return True

    def authorize(self, op: Operation, in_reply_to: str, batch_id: str | None = None) -> None:
        """O4: automatic authorization (no review step in this version; see docs/protocol.md)."""
        op.authorized = True
        extra: dict[str, Any] = {"authorized_op_id": op.op_id, "authorized_by": self.coordinator_id}
        if batch_id:
            extra["authorized_batch_id"] = batch_id
        self.coordinator_status("authorization", **extra)
        self._out[-1] = type(self._out[-1])(dict(self._out[-1].message, in_reply_to=in_reply_to), To.only(op.principal_id))

    def on_commit(self, msg: ParsedMessage) -> bool:
        p: OpCommit = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        target = normalize_path(p.target)
        pending = self.ops.get(p.op_id)
        try:
            if pending is not None:  # pre_commit completion (O5)
                if pending.principal_id != pid:
                    raise Refusal(ErrorCode.AUTHORIZATION_FAILED, f"operation {p.op_id!r} belongs to {pending.principal_id}")
                if pending.state == OpState.FROZEN:
                    raise Refusal(ErrorCode.SCOPE_FROZEN, f"operation {p.op_id!r} is frozen while its intent is suspended")
                if not pending.authorized:
                    raise Refusal(ErrorCode.AUTHORIZATION_FAILED, f"operation {p.op_id!r} has not been authorized yet")
                self.check_intent(pid, pending.intent_id, target)
                # The completion follows the write: the disk may already show state_ref_after.
                self.check_ref(target, p.state_ref_before, after=p.state_ref_after, worktree=pending.worktree)
                pending.state_ref_before, pending.state_ref_after = p.state_ref_before, p.state_ref_after
                self.apply_commit(pending, self.public_commit(msg.raw))
                self.relay(self.public_commit(msg.raw))
                return True
            self.check_new_op_id(p.op_id, pid)
            self.check_intent(pid, p.intent_id, target)
            self.check_frozen_target(target, p.intent_id)
            if self.config.execution_model != "pre_commit":
                self.check_ref(target, p.state_ref_before, after=p.state_ref_after, worktree=self.intent_worktree(p.intent_id))
        except Refusal as r:
            return self.refuse(msg, r)
        if self.config.execution_model == "pre_commit":  # O3: an initial request, not applied
            op = self.new_op(pid, p, OpState.PROPOSED, msg.message_id)
            self.authorize(op, msg.message_id)
            return True
        op = self.new_op(pid, p, OpState.COMMITTED, msg.message_id)
        self.apply_commit(op, self.public_commit(msg.raw))
        self.relay(self.public_commit(msg.raw))
        return True

    def on_batch(self, msg: ParsedMessage) -> bool:
        p: OpBatchCommit = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        pre = self.config.execution_model == "pre_commit"
        if self.id_taken("batch", p.batch_id):
            if pre:
                return self.complete_batch(msg, p)
            self.error(ErrorCode.INVALID_REFERENCE, f"batch_id {p.batch_id!r} was already used", msg.message_id, pid)
            return False
        good: list[Any] = []
        failed: list[dict[str, Any]] = []
        pending_refs: dict[str, str | None] = {}
        seen: set[str] = set()
        for entry in p.operations:
            intent_id = entry.intent_id or p.intent_id
            target = normalize_path(entry.target)
            try:
                if entry.op_id in seen:
                    raise Refusal(ErrorCode.MALFORMED_MESSAGE, f"op_id {entry.op_id!r} appears twice in the batch")
                if p.intent_id and entry.intent_id and entry.intent_id != p.intent_id:
                    raise Refusal(ErrorCode.MALFORMED_MESSAGE, "every entry must share the batch's intent_id")
                self.check_new_op_id(entry.op_id, pid)
                self.check_intent(pid, intent_id, target)
                self.check_frozen_target(target, intent_id)
                if not pre:
                    wid = self.intent_worktree(intent_id)
                    self.check_ref(target, entry.state_ref_before, pending_refs, after=entry.state_ref_after, worktree=wid)
                    pending_refs[ref_key(target, wid)] = entry.state_ref_after
                seen.add(entry.op_id)
                good.append(entry)
            except Refusal as r:
                failed.append({"op_id": entry.op_id, "error_code": str(r.code), "description": r.text, **(r.ext or {})})
        if failed and (p.atomicity == "all_or_nothing" or not good):
            self.emit(
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
        self.take_id("batch", p.batch_id, pid)
        bases: dict[str, str | None] = {}  # a chain of entries on one target writes from its first base
        for entry in good:
            entry_intent = entry.intent_id or p.intent_id
            holder = SimpleNamespace(
                op_id=entry.op_id,
                target=entry.target,
                op_kind=entry.op_kind,
                state_ref_before=entry.state_ref_before,
                state_ref_after=entry.state_ref_after,
                intent_id=entry_intent,
            )
            if pre:
                op = self.new_op(pid, holder, OpState.PROPOSED, msg.message_id, p.batch_id)
                self.authorize(op, msg.message_id, p.batch_id)
            else:
                op = self.new_op(pid, holder, OpState.COMMITTED, msg.message_id, p.batch_id)
                self.apply_commit(op, self.public_commit(msg.raw), bases.setdefault(ref_key(op.target, op.worktree), op.state_ref_before))
        if not pre:
            self.relay(self.public_commit(msg.raw))
            for f in failed:  # best_effort: every failed entry is reported, never dropped silently
                self.emit("OP_REJECT", {"op_id": f["op_id"], "reason": f["description"], "extensions": {EXT: f}}, To.ALL, in_reply_to=msg.message_id)
        return True

    def complete_batch(self, msg: ParsedMessage, p: OpBatchCommit) -> bool:
        """pre_commit completion (O15): every entry must be an authorized proposal of this batch."""
        pid = msg.sender_id
        pending = []
        refs: dict[str, str | None] = {}  # entries of one batch chain their refs
        try:
            for entry in p.operations:
                op = self.ops.get(entry.op_id)
                if op is None or op.batch_id != p.batch_id or op.principal_id != pid:
                    raise Refusal(ErrorCode.INVALID_REFERENCE, f"{entry.op_id!r} is not a pending entry of batch {p.batch_id!r}")
                if op.state != OpState.PROPOSED or not op.authorized:
                    raise Refusal(ErrorCode.AUTHORIZATION_FAILED, f"{entry.op_id!r} is {op.state} and not authorized")
                self.check_ref(op.target, entry.state_ref_before, refs, after=entry.state_ref_after, worktree=op.worktree)
                refs[ref_key(op.target, op.worktree)] = entry.state_ref_after
                pending.append((op, entry))
        except Refusal as r:
            return self.refuse(msg, r)
        bases: dict[str, str | None] = {}
        for op, entry in pending:
            op.state_ref_before, op.state_ref_after = entry.state_ref_before, entry.state_ref_after
            self.apply_commit(op, self.public_commit(msg.raw), bases.setdefault(ref_key(op.target, op.worktree), op.state_ref_before))
        self.relay(self.public_commit(msg.raw))
        return True

    def on_reject(self, msg: ParsedMessage) -> bool:
        p: OpReject = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        op = self.ops.get(p.op_id)
        if op is None:
            self.error(ErrorCode.INVALID_REFERENCE, f"no pending operation {p.op_id!r}", msg.message_id, pid)
            return False
        if not (self.roles_of(pid) & REVIEW_ROLES):
            self.error(ErrorCode.AUTHORIZATION_FAILED, "only a reviewer, owner or arbiter may reject an operation", msg.message_id, pid)
            return False
        if next_state(OP_TABLE, OpState(op.state), OpEvent.REJECT) is None:
            self.error(ErrorCode.INVALID_REFERENCE, f"operation {p.op_id!r} is {op.state}", msg.message_id, pid)
            return False
        self.relay(msg.raw)
        self.end_op(op, OpEvent.REJECT, p.reason, announce=False)
        return True

    def on_supersede(self, msg: ParsedMessage) -> bool:
        p: OpSupersede = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        old = self.committed.get(p.supersedes_op_id)
        if old is None or old["state"] != OpState.COMMITTED:
            why = f"is {old['state']}" if old else "is not a committed operation"
            self.error(ErrorCode.INVALID_REFERENCE, f"operation {p.supersedes_op_id!r} {why}", msg.message_id, pid)
            return False
        target = normalize_path(p.target)
        if target != old["target"]:
            self.error(ErrorCode.MALFORMED_MESSAGE, "OP_SUPERSEDE must target the same resource as the operation it replaces", msg.message_id, pid)
            return False
        try:
            self.check_new_op_id(p.op_id, pid)
            self.check_intent(pid, p.intent_id or old.get("intent_id"), target)
        except Refusal as r:
            return self.refuse(msg, r)
        old["state"] = OpState.SUPERSEDED
        holder = SimpleNamespace(
            op_id=p.op_id,
            target=target,
            op_kind=p.op_kind or old["op_kind"],
            intent_id=p.intent_id or old.get("intent_id"),
            state_ref_before=old["state_ref_after"],
            state_ref_after=p.state_ref_after,
        )
        op = self.new_op(pid, holder, OpState.COMMITTED, msg.message_id)
        self.committed.put(op.op_id, op.to_json())
        key = ref_key(target, old.get("worktree"))
        cur = self.targets.get(key)
        if cur is not None and cur.op_id == old["op_id"] and p.state_ref_after is not None:
            self.targets.put(key, Target(target, p.state_ref_after, op.op_id, pid, self.now, msg.raw, worktree=old.get("worktree")))
        self.relay(msg.raw)
        return True

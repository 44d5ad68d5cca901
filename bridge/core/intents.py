"""Intent layer: INTENT_ANNOUNCE (race lock, supersede, backoff), INTENT_UPDATE, INTENT_WITHDRAW,
and every transition of an intent with its cascade: TTL expiry, suspension and resumption, and the
end of an intent (its operations, the deferrals that watch it, its conflicts)."""

from __future__ import annotations

from typing import Any

from bridge.core.compact import frozen_scope, intern, pack, same, shared_number
from bridge.core.conflicts import ConflictLayer, Hits
from bridge.core.deferrals import DeferralLayer
from bridge.core.emit import Emitter
from bridge.core.frozen import FrozenScopes
from bridge.core.operations import OperationLayer
from bridge.core.outbound import To
from bridge.core.records import Intent
from bridge.core.state import SessionState
from bridge.core.symbols import holder_entry
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import EXT
from bridge.protocol.enums import IntentState, OpState
from bridge.protocol.read import WireMessage
from bridge.protocol.scope import NormScope
from bridge.protocol.stamps import format_ts
from bridge.protocol.states import INTENT_TABLE, IntentEvent, OpEvent, next_state
from bridge.protocol.wiretypes import IntentAnnounce, IntentUpdate, IntentWithdraw
from bridge.protocol.worktree import BadWorktree, worktree_of


class IntentLayer:
    def __init__(
        self,
        state: SessionState,
        emitter: Emitter,
        frozen: FrozenScopes,
        conflicts: ConflictLayer,
        operations: OperationLayer,
        deferrals: DeferralLayer,
    ) -> None:
        self.state = state
        self.emitter = emitter
        self.frozen = frozen
        self.conflicts = conflicts
        self.operations = operations
        self.deferrals = deferrals

    # --- checks shared by announce and update ------------------------------------------------

    def holders_blocking(
        self,
        pid: str,
        norm: NormScope,
        exclude: str | None = None,
        hits: Hits | None = None,
        worktree: str | None = None,
    ) -> list[dict[str, Any]]:
        """ACTIVE intents of other principals sharing file_set resources in the same worktree (the
        v0.1.15 race lock; another worktree's intent on the same path is an advisory conflict)."""
        st = self.state
        out = []
        for iid, ov in st.index.overlapping(norm, exclude=exclude) if hits is None else hits:
            other = st.intents[iid]
            if (
                ov.race_locked
                and other.principal_id != pid
                and other.state == IntentState.ACTIVE
                and other.worktree == worktree
            ):
                out.append(
                    holder_entry(
                        iid, other.principal_id, other.objective, format_ts(other.expires_at), ov
                    )
                )
        return out

    def refuse_stale(self, msg: WireMessage, holders: list[dict[str, Any]]) -> None:
        first = holders[0]
        files = ", ".join(first["files"][:5])
        self.emitter.error(
            ErrorCode.STALE_INTENT,
            f"{files} already claimed by intent {first['intent_id']} of {first['principal_id']} "
            f"({first['objective']!r}); defer, or wait until it ends",
            msg.message_id,
            msg.sender_id,
            {EXT: {"holders": holders}},
        )

    def backoff_left(self, pid: str, norm: NormScope) -> float:
        st = self.state
        left = 0.0
        if not st.backoff:  # the common case: nobody is backing off
            return left
        for res in norm.files() + sorted(norm.entities) + sorted(norm.tasks):
            entry = st.backoff.get(f"{pid}|{res}")
            if entry and entry[0] > st.now:
                left = max(left, entry[0] - st.now)
        return left

    def record_backoff(self, pid: str, norm: NormScope) -> None:
        """After a conflict-driven rejection: 30 s, doubling per repeat, capped at 300 s (§15.3.1)."""
        st = self.state
        for res in norm.files() + sorted(norm.entities) + sorted(norm.tasks):
            key = f"{pid}|{res}"
            prev = st.backoff.get(key)
            interval = st.config.backoff_initial_sec
            if prev and prev[0] + prev[1] > st.now:  # a repeat soon after the last window
                interval = min(prev[1] * 2, st.config.backoff_max_sec)
            st.backoff[key] = [st.now + interval, interval]

    # --- INTENT_ANNOUNCE ---------------------------------------------------------------------

    def on_announce(self, msg: WireMessage) -> bool:
        st, emitter = self.state, self.emitter
        p = msg.payload_as(IntentAnnounce)
        pid = intern(msg.sender_id)  # one string for every record and index naming it
        if st.id_taken("intent", p.intent_id) is not None:
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"intent_id {p.intent_id!r} was already used in this session; choose a new id",
                msg.message_id,
                pid,
            )
            return False
        scope = msg.raw["payload"]["scope"]  # validated above; kept exactly as the sender wrote it
        try:
            wid, branch = worktree_of(msg.raw["payload"])
        except BadWorktree as exc:
            emitter.error(ErrorCode.MALFORMED_MESSAGE, str(exc), msg.message_id, pid)
            return False
        norm = st.norm(scope)
        if self.frozen.check_announce(norm, msg) is False:  # SCOPE_FROZEN on full containment
            return False
        left = self.backoff_left(pid, norm)
        if left > 0:
            text = f"this scope was rejected by a resolution; retry in {int(left + 0.999)} s"
            emitter.error(
                ErrorCode.INTENT_BACKOFF,
                text,
                msg.message_id,
                pid,
                {"retry_after_sec": round(left, 3)},
            )
            return False
        hits = st.index.overlapping(norm)  # one index query serves every check below
        holders = self.holders_blocking(pid, norm, hits=hits, worktree=wid)
        if holders:
            self.refuse_stale(msg, holders)
            return False
        # Same principal: explicit supersede, then the auto-supersede path for shared files (A4).
        replaced: list[Intent] = []
        sup = p.supersedes_intent_id
        sup_owner = st.id_taken("intent", sup) if sup else None
        if sup_owner is not None and sup_owner != pid:
            text = f"supersedes_intent_id {sup!r} belongs to {sup_owner}; only your own intents can be superseded"
            emitter.error(ErrorCode.AUTHORIZATION_FAILED, text, msg.message_id, pid)
            return False
        if sup and sup in st.intents and st.intents[sup].principal_id == pid:
            replaced.append(st.intents[sup])
        for iid, ov in hits:
            other = st.intents[iid]
            same_owner = other.principal_id == pid and ov.race_locked and other.worktree == wid
            if same_owner and other.state == IntentState.ACTIVE and other not in replaced:
                replaced.append(other)
        ttl = shared_number(
            p.ttl_sec if p.ttl_sec is not None else st.config.default_intent_ttl_sec
        )
        # The record shares the decoded envelope's strings instead of the model's copies, and
        # keeps of the envelope (for late joiners) only what it does not hold itself.
        source = msg.raw
        payload = source["payload"]
        intent = Intent(
            intent_id=same(payload.get("intent_id"), p.intent_id),
            principal_id=pid,
            objective=same(payload.get("objective"), p.objective),
            scope=frozen_scope(scope),
            state=IntentState.ACTIVE,
            received_at=st.now,
            expires_at=st.now + ttl,
            ttl_sec=ttl,
            priority=p.priority or "normal",
            last_message_id=same(source.get("message_id"), msg.message_id),
            worktree=wid,
        )
        if p.assumptions or p.parent_intent_id is not None or branch is not None:  # rarely
            intent.assumptions = tuple(p.assumptions) if p.assumptions else ()
            intent.parent_intent_id = p.parent_intent_id
            intent.branch = branch
        intent.keep_announce(source, scope)
        st.take_id("intent", p.intent_id, pid)
        for old in replaced:
            if old.state == IntentState.ACTIVE:
                self.end(old, IntentEvent.SUPERSEDE, f"superseded_by:{p.intent_id}")
        self.register(intent, norm)
        # Spec order (§15.3): conflicts, then deferral cleanup, then the relay. The sender's ack is
        # therefore its last message, and its view already holds the conflicts when the ack lands.
        self.conflicts.detect(intent, norm, msg, [(i, ov) for i, ov in hits if i in st.intents])
        self.deferrals.principal_announced(pid)
        emitter.relay(msg.raw)
        return True

    def register(self, intent: Intent, norm: NormScope) -> None:
        st = self.state
        st.count("intents")
        st.add_intent(intent, norm)
        st.timers.expiry.push(intent.expires_at, intent.intent_id)

    # --- INTENT_UPDATE / INTENT_WITHDRAW -----------------------------------------------------

    def own_active_intent(self, msg: WireMessage, intent_id: str, verb: str) -> Intent | None:
        st, emitter = self.state, self.emitter
        intent = st.intents.get(intent_id)
        if intent is None:
            state = st.intent_state(intent_id)
            why = (
                f"intent {intent_id!r} is {state}"
                if state
                else f"no intent {intent_id!r} in this session"
            )
            emitter.error(
                ErrorCode.INVALID_REFERENCE, f"cannot {verb}: {why}", msg.message_id, msg.sender_id
            )
            return None
        if intent.principal_id != msg.sender_id:
            text = f"cannot {verb}: intent {intent_id!r} belongs to {intent.principal_id}"
            emitter.error(ErrorCode.AUTHORIZATION_FAILED, text, msg.message_id, msg.sender_id)
            return None
        if intent.state != IntentState.ACTIVE:
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"cannot {verb}: intent {intent_id!r} is {intent.state}",
                msg.message_id,
                msg.sender_id,
            )
            return None
        return intent

    def on_update(self, msg: WireMessage) -> bool:
        st = self.state
        p = msg.payload_as(IntentUpdate)
        intent = self.own_active_intent(msg, p.intent_id, "update")
        if intent is None:
            return False
        norm = None
        intent.detach_announce()  # the kept announce shares the values changed below
        if p.scope is not None:
            scope = msg.part("scope")
            norm = st.norm(scope)
            # A3: the race lock applies to the files the update adds; files the intent already
            # held stay held (another principal may share them only through a suspension).
            held = st.norms[intent.intent_id].paths
            holders = []
            for h in self.holders_blocking(
                msg.sender_id, norm, exclude=intent.intent_id, worktree=intent.worktree
            ):
                added = [f for f in h["files"] if f not in held]
                if added:
                    holders.append(dict(h, files=added))
            if holders:
                self.refuse_stale(msg, holders)
                return False
            intent.scope = frozen_scope(scope)
            st.rescope_intent(intent, norm)
        if p.objective is not None:
            intent.objective = p.objective
        if p.assumptions is not None:
            intent.assumptions = tuple(p.assumptions)
        if p.ttl_sec is not None:
            intent.ttl_sec = shared_number(p.ttl_sec)
            intent.expires_at = st.now + p.ttl_sec
            st.timers.expiry.push(intent.expires_at, intent.intent_id)
        intent.update = pack(msg.raw)
        intent.last_message_id = msg.message_id
        if norm is not None:
            self.conflicts.detect(intent, norm, msg)
        self.emitter.relay(msg.raw)
        return True

    def on_withdraw(self, msg: WireMessage) -> bool:
        p = msg.payload_as(IntentWithdraw)
        intent = self.own_active_intent(msg, p.intent_id, "withdraw")
        if intent is None:
            return False
        self.emitter.relay(msg.raw)
        self.end(intent, IntentEvent.WITHDRAW, p.reason or "withdrawn", notify=False)
        return True

    # --- transitions and cascades ------------------------------------------------------------

    def state_notice(self, intent: Intent, reason: str) -> None:
        """Tell everyone about a transition no participant message announced (expiry, suspension)."""
        ext = {EXT: {"state": intent.state, "reason": reason, "principal_id": intent.principal_id}}
        if intent.state in (IntentState.ACTIVE, IntentState.SUSPENDED):
            self.emitter.emit(
                "INTENT_UPDATE", {"intent_id": intent.intent_id, "extensions": ext}, To.ALL
            )
        else:
            self.emitter.emit(
                "INTENT_WITHDRAW",
                {"intent_id": intent.intent_id, "reason": reason, "extensions": ext},
                To.ALL,
            )

    def end(self, intent: Intent, event: IntentEvent, reason: str, notify: bool = True) -> bool:
        """The intent ends (when its state table allows `event`), with the cascade of §15.7."""
        st = self.state
        new = next_state(INTENT_TABLE, IntentState(intent.state), event)
        if new is None:
            return False
        iid = intent.intent_id
        intent.state = new
        st.remove_intent(intent)
        st.ended.put(iid, (intent.principal_id, str(new)))  # a tuple: the GC stops tracking it
        if (
            len(st.timers.expiry.entries) > 2 * len(st.intents) + 1024
        ):  # drop entries of ended intents
            st.timers.expiry.rebuild([(i.expires_at, k) for k, i in st.intents.items()])
        st.count(f"intents_{new}")
        st.claims.pop(iid, None)
        if notify:
            self.state_notice(intent, reason)
        # Expiry cascade (§15.7): proposals wait out the grace period, frozen ones end now.
        for op_id in sorted(st.ops_by_intent.get(iid)):
            op = st.ops.get(op_id)
            if op is None:
                continue
            if op.state == OpState.FROZEN:
                self.operations.end(op, OpEvent.INTENT_TERMINATED, "intent_terminated")
            elif op.state == OpState.PROPOSED:
                st.timers.grace.push(st.now + st.config.intent_expiry_grace_sec, op_id)
        self.deferrals.intent_ended(iid, intent.principal_id)
        self.conflicts.intent_ended(iid)
        self.emitter.note(
            {"event": "intent_ended", "intent_id": iid, "state": str(new), "reason": reason}
        )
        return True

    def suspend(self, intent: Intent, reason: str) -> None:
        """The owner left (`owner_left`, GOODBYE transfer) or went silent (`owner_unavailable`):
        the intent is SUSPENDED (claimable) and its proposals are frozen."""
        st = self.state
        event = (
            IntentEvent.GOODBYE_TRANSFER
            if reason == "owner_left"
            else IntentEvent.OWNER_UNAVAILABLE
        )
        new = next_state(INTENT_TABLE, IntentState(intent.state), event)
        if new is None:
            return
        intent.state = new
        intent.suspended_reason = reason
        for op_id in sorted(st.ops_by_intent.get(intent.intent_id)):
            op = st.ops.get(op_id)
            if op is not None and op.state == OpState.PROPOSED:
                self.operations.transition(op, OpEvent.INTENT_SUSPENDED)
        self.state_notice(intent, reason)

    def resume(self, intent: Intent) -> None:
        """I8: the owner of a SUSPENDED intent is back: ACTIVE again, its frozen proposals PROPOSED."""
        st = self.state
        new = next_state(INTENT_TABLE, IntentState(intent.state), IntentEvent.OWNER_RETURNED)
        if new is None:
            return
        intent.state = new
        for op_id in sorted(st.ops_by_intent.get(intent.intent_id)):
            op = st.ops.get(op_id)
            if op is not None and op.state == OpState.FROZEN:
                self.operations.transition(op, OpEvent.INTENT_RESTORED)
        self.state_notice(intent, "owner_returned")

    def expire(self) -> None:
        st = self.state
        while (due := st.timers.expiry.pop_due(st.now)) is not None:
            when, iid = due
            intent = st.intents.get(iid)
            if intent is None or intent.expires_at != when:
                continue  # ended, or its TTL was reset (a newer entry exists)
            self.end(intent, IntentEvent.TTL_EXPIRED, "ttl_expired")

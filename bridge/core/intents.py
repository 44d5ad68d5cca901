"""Intent layer: announce (race lock, supersede, backoff), update, withdraw, TTL expiry, deferrals,
suspension and claims."""

from __future__ import annotations

import heapq
from typing import Any

from bridge.core.base import EXT, CoreBase
from bridge.core.outbound import To
from bridge.core.records import Claim, Deferral, Intent
from bridge.core.symbols import holder_entry
from bridge.protocol.codes import ErrorCode
from bridge.protocol.enums import IntentState, OpState
from bridge.protocol.envelope import format_ts
from bridge.protocol.parse import ParsedMessage
from bridge.protocol.payloads import (
    IntentAnnounce,
    IntentClaim,
    IntentDeferred,
    IntentUpdate,
    IntentWithdraw,
)
from bridge.protocol.scope import NormScope, contains
from bridge.protocol.states import INTENT_TABLE, IntentEvent, OpEvent, next_state
from bridge.protocol.worktree import BadWorktree, worktree_ext, worktree_of


class IntentLayer(CoreBase):
    # --- checks shared by announce and update ------------------------------------------------

    def holders_blocking(self, pid: str, norm: NormScope, exclude: str | None = None, hits: list | None = None,
                         worktree: str | None = None) -> list[dict[str, Any]]:
        """ACTIVE intents of other principals sharing file_set resources in the same worktree (the
        v0.1.15 race lock; another worktree's intent on the same path is an advisory conflict)."""
        out = []
        for iid, ov in self.index.overlapping(norm, exclude=exclude) if hits is None else hits:
            other = self.intents[iid]
            if ov.race_locked and other.principal_id != pid and other.state == IntentState.ACTIVE and other.worktree == worktree:
                out.append(holder_entry(iid, other.principal_id, other.objective, format_ts(other.expires_at), ov))
        return out

    def refuse_stale(self, msg: ParsedMessage, holders: list[dict[str, Any]]) -> None:
        first = holders[0]
        files = ", ".join(first["files"][:5])
        self.error(
            ErrorCode.STALE_INTENT,
            f"{files} already claimed by intent {first['intent_id']} of {first['principal_id']} "
            f"({first['objective']!r}); defer, or wait until it ends",
            msg.message_id,
            msg.sender_id,
            {EXT: {"holders": holders}},
        )

    def backoff_left(self, pid: str, norm: NormScope) -> float:
        left = 0.0
        if not self.backoff:  # the common case: nobody is backing off
            return left
        for res in norm.files() + sorted(norm.entities) + sorted(norm.tasks):
            entry = self.backoff.get(f"{pid}|{res}")
            if entry and entry[0] > self.now:
                left = max(left, entry[0] - self.now)
        return left

    def record_backoff(self, pid: str, norm: NormScope) -> None:
        """After a conflict-driven rejection: 30 s, doubling per repeat, capped at 300 s (§15.3.1)."""
        for res in norm.files() + sorted(norm.entities) + sorted(norm.tasks):
            key = f"{pid}|{res}"
            prev = self.backoff.get(key)
            interval = self.config.backoff_initial_sec
            if prev and prev[0] + prev[1] > self.now:  # a repeat soon after the last window
                interval = min(prev[1] * 2, self.config.backoff_max_sec)
            self.backoff[key] = [self.now + interval, interval]

    # --- INTENT_ANNOUNCE ---------------------------------------------------------------------

    def on_announce(self, msg: ParsedMessage) -> bool:
        p: IntentAnnounce = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        owner = self.id_taken("intent", p.intent_id)
        if owner is not None:
            self.error(
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
            self.error(ErrorCode.MALFORMED_MESSAGE, str(exc), msg.message_id, pid)
            return False
        norm = self.norm(scope)
        frozen = self.frozen_check(norm, msg)  # conflict layer: SCOPE_FROZEN on full containment
        if frozen is False:
            return False
        left = self.backoff_left(pid, norm)
        if left > 0:
            self.error(
                ErrorCode.INTENT_BACKOFF,
                f"this scope was rejected by a resolution; retry in {int(left + 0.999)} s",
                msg.message_id,
                pid,
                {"retry_after_sec": round(left, 3)},
            )
            return False
        hits = self.index.overlapping(norm)  # one index query serves every check below
        holders = self.holders_blocking(pid, norm, hits=hits, worktree=wid)
        if holders:
            self.refuse_stale(msg, holders)
            return False
        # Same principal: explicit supersede, then the auto-supersede path for shared files (A4).
        replaced: list[Intent] = []
        sup = p.supersedes_intent_id
        sup_owner = self.id_taken("intent", sup) if sup else None
        if sup_owner is not None and sup_owner != pid:
            self.error(
                ErrorCode.AUTHORIZATION_FAILED,
                f"supersedes_intent_id {sup!r} belongs to {sup_owner}; only your own intents can be superseded",
                msg.message_id,
                pid,
            )
            return False
        if sup and sup in self.intents and self.intents[sup].principal_id == pid:
            replaced.append(self.intents[sup])
        for iid, ov in hits:
            other = self.intents[iid]
            same_owner = other.principal_id == pid and ov.race_locked and other.worktree == wid
            if same_owner and other.state == IntentState.ACTIVE and other not in replaced:
                replaced.append(other)
        ttl = p.ttl_sec if p.ttl_sec is not None else self.config.default_intent_ttl_sec
        intent = Intent(
            intent_id=p.intent_id,
            principal_id=pid,
            objective=p.objective,
            scope=scope,
            state=IntentState.ACTIVE,
            received_at=self.now,
            expires_at=self.now + ttl,
            ttl_sec=ttl,
            priority=p.priority or "normal",
            assumptions=list(p.assumptions or []),
            parent_intent_id=p.parent_intent_id,
            announce=msg.raw,
            last_message_id=msg.message_id,
            worktree=wid,
            branch=branch,
        )
        self.take_id("intent", p.intent_id, pid)
        for old in replaced:
            if old.state == IntentState.ACTIVE:
                self.end_intent(old, IntentEvent.SUPERSEDE, f"superseded_by:{p.intent_id}")
        self.register_intent(intent, norm)
        # Spec order (§15.3): conflicts, then deferral cleanup, then the relay. The sender's ack is
        # therefore its last message, and its view already holds the conflicts when the ack lands.
        self.detect_conflicts(intent, norm, msg, [(i, ov) for i, ov in hits if i in self.intents])
        self.resolve_deferrals_of(pid, "principal_announced")
        self.relay(msg.raw)
        return True

    def register_intent(self, intent: Intent, norm: NormScope) -> None:
        self.count("intents")
        self.intents[intent.intent_id] = intent
        self._norms[intent.intent_id] = norm
        self.index.add(intent.intent_id, norm)
        self.by_principal.setdefault(intent.principal_id, set()).add(intent.intent_id)
        self.push(self.expiry_heap, intent.expires_at, intent.intent_id)

    # --- INTENT_UPDATE / INTENT_WITHDRAW -----------------------------------------------------

    def own_active_intent(self, msg: ParsedMessage, intent_id: str, verb: str) -> Intent | None:
        intent = self.intents.get(intent_id)
        if intent is None:
            state = self.intent_state(intent_id)
            why = f"intent {intent_id!r} is {state}" if state else f"no intent {intent_id!r} in this session"
            self.error(ErrorCode.INVALID_REFERENCE, f"cannot {verb}: {why}", msg.message_id, msg.sender_id)
            return None
        if intent.principal_id != msg.sender_id:
            self.error(
                ErrorCode.AUTHORIZATION_FAILED,
                f"cannot {verb}: intent {intent_id!r} belongs to {intent.principal_id}",
                msg.message_id,
                msg.sender_id,
            )
            return None
        if intent.state != IntentState.ACTIVE:
            self.error(
                ErrorCode.INVALID_REFERENCE,
                f"cannot {verb}: intent {intent_id!r} is {intent.state}",
                msg.message_id,
                msg.sender_id,
            )
            return None
        return intent

    def on_update(self, msg: ParsedMessage) -> bool:
        p: IntentUpdate = msg.payload  # type: ignore[assignment]
        intent = self.own_active_intent(msg, p.intent_id, "update")
        if intent is None:
            return False
        norm = None
        if p.scope is not None:
            scope = p.scope.dump()
            norm = self.norm(scope)
            # A3: the race lock applies to the files the update adds; files the intent already
            # held stay held (another principal may share them only through a suspension).
            held = self._norms[intent.intent_id].paths
            holders = []
            for h in self.holders_blocking(msg.sender_id, norm, exclude=intent.intent_id, worktree=intent.worktree):
                added = [f for f in h["files"] if f not in held]
                if added:
                    holders.append(dict(h, files=added))
            if holders:
                self.refuse_stale(msg, holders)
                return False
            intent.scope = scope
            self._norms[intent.intent_id] = norm
            self.index.add(intent.intent_id, norm)
        if p.objective is not None:
            intent.objective = p.objective
        if p.assumptions is not None:
            intent.assumptions = list(p.assumptions)
        if p.ttl_sec is not None:
            intent.ttl_sec = p.ttl_sec
            intent.expires_at = self.now + p.ttl_sec
            self.push(self.expiry_heap, intent.expires_at, intent.intent_id)
        intent.update = msg.raw
        intent.last_message_id = msg.message_id
        if norm is not None:
            self.detect_conflicts(intent, norm, msg)
        self.relay(msg.raw)
        return True

    def on_withdraw(self, msg: ParsedMessage) -> bool:
        p: IntentWithdraw = msg.payload  # type: ignore[assignment]
        intent = self.own_active_intent(msg, p.intent_id, "withdraw")
        if intent is None:
            return False
        self.relay(msg.raw)
        self.end_intent(intent, IntentEvent.WITHDRAW, p.reason or "withdrawn", notify=False)
        return True

    # --- transitions and cascades ------------------------------------------------------------

    def state_notice(self, intent: Intent, reason: str) -> None:
        """Tell everyone about a transition no participant message announced (expiry, suspension)."""
        ext = {EXT: {"state": intent.state, "reason": reason, "principal_id": intent.principal_id}}
        if intent.state in (IntentState.ACTIVE, IntentState.SUSPENDED):
            self.emit("INTENT_UPDATE", {"intent_id": intent.intent_id, "extensions": ext}, To.ALL)
        else:
            self.emit("INTENT_WITHDRAW", {"intent_id": intent.intent_id, "reason": reason, "extensions": ext}, To.ALL)

    def end_intent(self, intent: Intent, event: IntentEvent, reason: str, notify: bool = True) -> bool:
        new = next_state(INTENT_TABLE, IntentState(intent.state), event)
        if new is None:
            return False
        iid = intent.intent_id
        intent.state = new
        self.intents.pop(iid, None)
        self._norms.pop(iid, None)
        self.index.remove(iid)
        owned = self.by_principal.get(intent.principal_id)
        if owned is not None:
            owned.discard(iid)
            if not owned:
                del self.by_principal[intent.principal_id]
        self.ended.put(iid, [intent.principal_id, str(new)])
        if len(self.expiry_heap) > 2 * len(self.intents) + 1024:  # drop entries of ended intents
            self.expiry_heap = [(i.expires_at, k) for k, i in self.intents.items()]
            heapq.heapify(self.expiry_heap)
        self.count(f"intents_{new}")
        self.claims.pop(iid, None)
        if notify:
            self.state_notice(intent, reason)
        # Expiry cascade (§15.7): proposals wait out the grace period, frozen ones end now.
        for op_id in sorted(self.ops_by_intent.get(iid, set())):
            op = self.ops.get(op_id)
            if op is None:
                continue
            if op.state == OpState.FROZEN:
                self.end_op(op, OpEvent.INTENT_TERMINATED, "intent_terminated")
            elif op.state == OpState.PROPOSED:
                self.push(self.grace_heap, self.now + self.config.intent_expiry_grace_sec, op_id)
        self.observed_intent_ended(iid, intent.principal_id)
        self.intent_ended_for_conflicts(iid)
        self.note({"event": "intent_ended", "intent_id": iid, "state": str(new), "reason": reason})
        return True

    def suspend_intent(self, intent: Intent, reason: str) -> None:
        event = IntentEvent.GOODBYE_TRANSFER if reason == "owner_left" else IntentEvent.OWNER_UNAVAILABLE
        new = next_state(INTENT_TABLE, IntentState(intent.state), event)
        if new is None:
            return
        intent.state = new
        intent.suspended_reason = reason
        for op_id in sorted(self.ops_by_intent.get(intent.intent_id, set())):
            op = self.ops.get(op_id)
            if op is not None and op.state == OpState.PROPOSED:
                self.transition_op(op, OpEvent.INTENT_SUSPENDED)
        self.state_notice(intent, reason)

    def owner_returned(self, pid: str) -> None:
        """I8: the owner is back: SUSPENDED -> ACTIVE, FROZEN -> PROPOSED, pending claims withdrawn."""
        for iid in sorted(self.by_principal.get(pid, set())):
            intent = self.intents[iid]
            if intent.state != IntentState.SUSPENDED:
                continue
            claim = self.claims.pop(iid, None)
            if claim is not None:
                self.emit(
                    "INTENT_CLAIM_STATUS",
                    {
                        "claim_id": claim.claim_id,
                        "original_intent_id": iid,
                        "decision": "withdrawn",
                        "reason": "original_owner_rejoined",
                    },
                    To.ALL,
                    in_reply_to=claim.message_id,
                )
            intent.state = next_state(INTENT_TABLE, IntentState.SUSPENDED, IntentEvent.OWNER_RETURNED)  # type: ignore[assignment]
            for op_id in sorted(self.ops_by_intent.get(iid, set())):
                op = self.ops.get(op_id)
                if op is not None and op.state == OpState.FROZEN:
                    self.transition_op(op, OpEvent.INTENT_RESTORED)
            self.state_notice(intent, "owner_returned")

    def expire_intents(self) -> None:
        while self.expiry_heap and self.expiry_heap[0][0] <= self.now:
            when, iid = heapq.heappop(self.expiry_heap)
            intent = self.intents.get(iid)
            if intent is None or intent.expires_at != when:
                continue  # ended, or its TTL was reset (a newer entry exists)
            self.end_intent(intent, IntentEvent.TTL_EXPIRED, "ttl_expired")

    # --- INTENT_DEFERRED ---------------------------------------------------------------------

    def on_deferred(self, msg: ParsedMessage) -> bool:
        p: IntentDeferred = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        if p.is_resolution:
            self.error(
                ErrorCode.AUTHORIZATION_FAILED,
                "only the coordinator sends the resolution form of INTENT_DEFERRED",
                msg.message_id,
                pid,
            )
            return False
        existing = self.deferrals.get(p.deferral_id)
        if (existing is not None and existing.principal_id != pid) or (
            existing is None and self.id_taken("deferral", p.deferral_id)
        ):
            self.error(ErrorCode.INVALID_REFERENCE, f"deferral_id {p.deferral_id!r} is already used", msg.message_id, pid)
            return False
        if existing is not None:  # idempotent retry of the same deferral
            self.drop_deferral(existing)
        ttl = p.ttl_sec if p.ttl_sec is not None else self.config.deferral_ttl_sec
        scope = p.scope.dump() if p.scope is not None else {}
        given = list(p.observed_intent_ids or [])
        observed = [i for i in given if self.intent_state(i) is not None or i not in self.participants]
        if not given and scope:
            observed = [iid for iid, _ov in self.index.overlapping(self.norm(scope)) if self.intents[iid].principal_id != pid]
        # Condition 3 of §15.5.1: an ending intent of a watched principal resolves the deferral.
        watch = sorted(set(p.observed_principals or []) | {i for i in given if i not in observed})
        d = Deferral(
            deferral_id=p.deferral_id,
            principal_id=pid,
            scope=scope,
            observed_intent_ids=observed,
            observed_principals=list(p.observed_principals or sorted({self.intents[i].principal_id for i in observed if i in self.intents})),
            received_at=self.now,
            expires_at=self.now + ttl,
            reason=p.reason or "yielded",
            message_id=msg.message_id,
            watch_principals=watch,
        )
        self.take_id("deferral", d.deferral_id, pid)
        self.deferrals[d.deferral_id] = d
        self.deferrals_by_principal.setdefault(pid, set()).add(d.deferral_id)
        for iid in observed:
            self.deferrals_by_intent.setdefault(iid, set()).add(d.deferral_id)
            if iid in self.intents and pid not in self.intents[iid].deferred_by:
                self.intents[iid].deferred_by.append(pid)
        for who in watch:
            self.deferrals_by_watched.setdefault(who, set()).add(d.deferral_id)
        self.push(self.deferral_heap, d.expires_at, d.deferral_id)
        payload = dict(msg.raw["payload"])
        payload.update({"principal_id": pid, "expires_at": format_ts(d.expires_at), "observed_intent_ids": given or observed})
        self.emit("INTENT_DEFERRED", payload, To.ALL, in_reply_to=msg.message_id)
        if self.observed_all_ended(d):  # already over at arrival (§15.5.1 b)
            self.resolve_deferral(d, "resolved", "observed_intents_terminated")
        return True

    def observed_all_ended(self, d: Deferral) -> bool:
        """Condition 1: every observed intent the coordinator knows of is terminal (unknown ids,
        such as principal ids in the wrong field, are not intents and do not count)."""
        known = [i for i in d.observed_intent_ids if self.intent_state(i) is not None]
        return bool(known) and all(i not in self.intents for i in known)

    def drop_deferral(self, d: Deferral) -> None:
        self.deferrals.pop(d.deferral_id, None)
        mine = self.deferrals_by_principal.get(d.principal_id)
        if mine is not None:
            mine.discard(d.deferral_id)
            if not mine:
                del self.deferrals_by_principal[d.principal_id]
        for iid in d.observed_intent_ids:
            ids = self.deferrals_by_intent.get(iid)
            if ids is not None:
                ids.discard(d.deferral_id)
                if not ids:
                    del self.deferrals_by_intent[iid]
            intent = self.intents.get(iid)
            if intent is not None and d.principal_id in intent.deferred_by:
                intent.deferred_by.remove(d.principal_id)
        for who in d.watch_principals:
            ids = self.deferrals_by_watched.get(who)
            if ids is not None:
                ids.discard(d.deferral_id)
                if not ids:
                    del self.deferrals_by_watched[who]

    def resolve_deferral(self, d: Deferral, status: str, reason: str) -> None:
        self.drop_deferral(d)
        self.emit(
            "INTENT_DEFERRED",
            {"deferral_id": d.deferral_id, "principal_id": d.principal_id, "status": status, "reason": reason},
            To.ALL,
            in_reply_to=d.message_id,
        )

    def resolve_deferrals_of(self, pid: str, reason: str) -> None:
        if pid not in self.deferrals_by_principal:
            return
        for did in sorted(self.deferrals_by_principal[pid]):
            self.resolve_deferral(self.deferrals[did], "resolved", reason)

    def observed_intent_ended(self, iid: str, owner: str | None = None) -> None:
        """An intent ended: resolve deferrals whose observed intents are all over (condition 1) and
        those watching its owner (condition 3). Both lookups are index hits, never scans."""
        due = {did for did in self.deferrals_by_intent.get(iid, ()) if self.observed_all_ended(self.deferrals[did])}
        if owner is not None:
            due |= self.deferrals_by_watched.get(owner, set())
        for did in sorted(due):
            d = self.deferrals.get(did)
            if d is not None:
                self.resolve_deferral(d, "resolved", "observed_intents_terminated")

    def expire_deferrals(self) -> None:
        while self.deferral_heap and self.deferral_heap[0][0] <= self.now:
            when, did = heapq.heappop(self.deferral_heap)
            d = self.deferrals.get(did)
            if d is not None and d.expires_at == when:
                self.resolve_deferral(d, "expired", "ttl")

    # --- INTENT_CLAIM (takeover of a suspended intent) ---------------------------------------

    def on_claim(self, msg: ParsedMessage) -> bool:
        p: IntentClaim = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        ext = (msg.raw["payload"].get("extensions") or {}).get(EXT) or {}
        if isinstance(ext, dict) and ext.get("decision") in ("approved", "rejected"):
            return self.on_claim_decision(msg, p.claim_id, ext)
        original = self.intents.get(p.original_intent_id)
        if original is None or original.state != IntentState.SUSPENDED:
            state = self.intent_state(p.original_intent_id)
            why = f"is {state}" if state else "does not exist"
            self.error(ErrorCode.INVALID_REFERENCE, f"intent {p.original_intent_id!r} {why}; only SUSPENDED intents can be claimed", msg.message_id, pid)
            return False
        if p.original_intent_id in self.claims:
            self.error(ErrorCode.CLAIM_CONFLICT, f"intent {p.original_intent_id!r} is already being claimed", msg.message_id, pid)
            return False
        if self.id_taken("intent", p.new_intent_id) or self.id_taken("claim", p.claim_id):
            self.error(ErrorCode.INVALID_REFERENCE, f"intent_id {p.new_intent_id!r} or claim_id {p.claim_id!r} is already used", msg.message_id, pid)
            return False
        scope = msg.raw["payload"]["scope"]
        if not contains(self._norms[original.intent_id], self.norm(scope)):
            self.error(ErrorCode.MALFORMED_MESSAGE, "a claim's scope must equal or narrow the original intent's scope", msg.message_id, pid)
            return False
        try:
            wid, branch = worktree_of(msg.raw["payload"])  # the claimer's checkout
        except BadWorktree as exc:
            self.error(ErrorCode.MALFORMED_MESSAGE, str(exc), msg.message_id, pid)
            return False
        claim = Claim(p.claim_id, pid, original.intent_id, p.new_intent_id, p.objective, scope, self.now, msg.message_id,
                      worktree=wid, branch=branch)
        self.take_id("claim", p.claim_id, pid)
        if not self.waits_for_decider(pid):  # A8: approval by no objection
            claim.approve_at = self.auto_approval_at(claim, original)
        if claim.approve_at is not None and claim.approve_at <= self.now:
            self.approve_claim(claim, self.coordinator_id, msg.message_id)
            return True
        self.claims[original.intent_id] = claim
        if claim.approve_at is not None:
            self.push(self.claim_heap, claim.approve_at, original.intent_id)
        self.relay(msg.raw)  # pending: everyone (owners and arbiters in particular) sees the claim
        return True

    def waits_for_decider(self, claimer: str) -> bool:
        """Whether a claim waits for an owner or arbiter to decide (A8): always in `governance`,
        never in `auto`, and in `arbiter_or_auto` while an owner or arbiter other than the claimer is
        connected and available. Otherwise it is approved by no objection."""
        mode = self.config.claim_approval_mode
        if mode != "arbiter_or_auto":
            return mode == "governance"
        return any(
            pid != claimer and part.connected and part.is_available and not {"owner", "arbiter"}.isdisjoint(part.roles)
            for pid, part in self.participants.items()
        )

    def auto_approval_at(self, claim: Claim, original: Intent) -> float:
        """Core rules: a handed-over intent (GOODBYE transfer) at once, a silent owner's after the grace."""
        if original.suspended_reason == "owner_left":
            return claim.received_at
        return claim.received_at + self.config.claim_grace_sec

    def claims_lost_decider(self) -> None:
        """An owner or arbiter left (GOODBYE, silence, lost connection): claims that were waiting for
        a human with none left fall back to the core rules (`arbiter_or_auto`)."""
        if not self.claims or self.config.claim_approval_mode != "arbiter_or_auto":
            return
        for original_id, claim in sorted(self.claims.items()):
            original = self.intents.get(original_id)
            if claim.approve_at is None and original is not None and not self.waits_for_decider(claim.claimer):
                claim.approve_at = max(self.now, self.auto_approval_at(claim, original))
                self.push(self.claim_heap, claim.approve_at, original_id)
        self.approve_due_claims()

    def on_claim_decision(self, msg: ParsedMessage, claim_id: str, ext: dict[str, Any]) -> bool:
        """A8: an owner or arbiter approves or rejects a pending claim by repeating its claim_id with
        `extensions["mpac-bridge"].decision`."""
        pid = msg.sender_id
        claim = next((c for c in self.claims.values() if c.claim_id == claim_id), None)
        if claim is None:
            self.error(ErrorCode.INVALID_REFERENCE, f"no pending claim {claim_id!r}", msg.message_id, pid)
            return False
        if not (self.roles_of(pid) & {"owner", "arbiter"}):
            self.error(ErrorCode.AUTHORIZATION_FAILED, "only an owner or an arbiter may approve or reject a claim", msg.message_id, pid)
            return False
        if ext["decision"] == "approved":
            self.approve_claim(claim, pid, msg.message_id)
            return True
        self.claims.pop(claim.original_intent_id, None)
        self.emit(
            "INTENT_CLAIM_STATUS",
            {"claim_id": claim.claim_id, "original_intent_id": claim.original_intent_id, "decision": "rejected",
             "reason": str(ext.get("reason") or f"rejected by {pid}")},
            To.ALL,
            in_reply_to=msg.message_id,
        )
        return True

    def approve_due_claims(self) -> None:
        while self.claim_heap and self.claim_heap[0][0] <= self.now:
            when, original_id = heapq.heappop(self.claim_heap)
            claim = self.claims.get(original_id)
            if claim is not None and claim.approve_at == when:
                self.approve_claim(claim, self.coordinator_id, claim.message_id or "")

    def approve_claim(self, claim: Claim, approver: str, in_reply_to: str) -> None:
        self.claims.pop(claim.original_intent_id, None)
        original = self.intents.get(claim.original_intent_id)
        if original is None or original.state != IntentState.SUSPENDED:
            self.emit(
                "INTENT_CLAIM_STATUS",
                {"claim_id": claim.claim_id, "original_intent_id": claim.original_intent_id, "decision": "rejected",
                 "reason": "intent_no_longer_suspended"},
                To.ALL,
                in_reply_to=in_reply_to,
            )
            return
        frozen_ops = sorted(self.ops_by_intent.get(original.intent_id, set()))
        self.end_intent(original, IntentEvent.CLAIM_APPROVED, f"claimed_by:{claim.claimer}", notify=False)
        for op_id in frozen_ops:
            op = self.ops.get(op_id)
            if op is not None:
                self.end_op(op, OpEvent.INTENT_TERMINATED, "intent_transferred")
        new = Intent(
            intent_id=claim.new_intent_id,
            principal_id=claim.claimer,
            objective=claim.objective,
            scope=claim.scope,
            state=IntentState.ACTIVE,
            received_at=self.now,
            expires_at=self.now + original.ttl_sec,
            ttl_sec=original.ttl_sec,
            priority=original.priority,
            parent_intent_id=original.intent_id,
            last_message_id=claim.message_id,
            worktree=claim.worktree,
            branch=claim.branch,
        )
        new.announce = self.envelope(
            "INTENT_ANNOUNCE",
            {"intent_id": new.intent_id, "objective": new.objective, "scope": claim.scope, "ttl_sec": new.ttl_sec,
             "extensions": {EXT: {"principal_id": claim.claimer, "claimed_from": original.intent_id,
                                  **worktree_ext(claim.worktree, claim.branch)[EXT]}}},
        )
        self.take_id("intent", new.intent_id, claim.claimer)
        self.register_intent(new, self.norm(claim.scope))
        self.emit(
            "INTENT_CLAIM_STATUS",
            {"claim_id": claim.claim_id, "original_intent_id": original.intent_id, "new_intent_id": new.intent_id,
             "decision": "approved", "approved_by": approver,
             "extensions": {EXT: {"claimer": claim.claimer, "objective": new.objective, "scope": claim.scope,
                                  **worktree_ext(claim.worktree, claim.branch)[EXT]}}},
            To.ALL,
            in_reply_to=in_reply_to,
        )

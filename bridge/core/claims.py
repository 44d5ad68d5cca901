"""Claims (INTENT_CLAIM, §14.7.4): taking over a SUSPENDED intent. A claim is approved by no
objection (at once for a handed-over intent, after the grace period for a silent owner's), or by an
owner or arbiter who repeats its claim_id with `extensions["mpac-bridge"].decision` (A8); it is
withdrawn when the original owner returns."""

from __future__ import annotations

from typing import Any

from bridge.core.compact import frozen_scope, pack
from bridge.core.emit import Emitter
from bridge.core.intents import IntentLayer
from bridge.core.operations import OperationLayer
from bridge.core.outbound import To
from bridge.core.records import Claim, Intent
from bridge.core.state import SessionState
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import EXT
from bridge.protocol.enums import IntentState
from bridge.protocol.read import WireMessage
from bridge.protocol.scope import contains
from bridge.protocol.states import IntentEvent, OpEvent
from bridge.protocol.wiretypes import IntentClaim
from bridge.protocol.worktree import BadWorktree, worktree_ext, worktree_of

DECIDERS = frozenset({"owner", "arbiter"})


class ClaimLayer:
    def __init__(
        self,
        state: SessionState,
        emitter: Emitter,
        intents: IntentLayer,
        operations: OperationLayer,
    ) -> None:
        self.state = state
        self.emitter = emitter
        self.intents = intents
        self.operations = operations

    def on_claim(self, msg: WireMessage) -> bool:
        st, emitter = self.state, self.emitter
        p = msg.payload_as(IntentClaim)
        pid = msg.sender_id
        ext = (msg.raw["payload"].get("extensions") or {}).get(EXT) or {}
        if isinstance(ext, dict) and ext.get("decision") in ("approved", "rejected"):
            return self.on_decision(msg, p.claim_id, ext)
        original = st.intents.get(p.original_intent_id)
        if original is None or original.state != IntentState.SUSPENDED:
            state = st.intent_state(p.original_intent_id)
            why = f"is {state}" if state else "does not exist"
            text = f"intent {p.original_intent_id!r} {why}; only SUSPENDED intents can be claimed"
            emitter.error(ErrorCode.INVALID_REFERENCE, text, msg.message_id, pid)
            return False
        if p.original_intent_id in st.claims:
            emitter.error(
                ErrorCode.CLAIM_CONFLICT,
                f"intent {p.original_intent_id!r} is already being claimed",
                msg.message_id,
                pid,
            )
            return False
        if st.id_taken("intent", p.new_intent_id) or st.id_taken("claim", p.claim_id):
            text = f"intent_id {p.new_intent_id!r} or claim_id {p.claim_id!r} is already used"
            emitter.error(ErrorCode.INVALID_REFERENCE, text, msg.message_id, pid)
            return False
        scope = msg.raw["payload"]["scope"]
        if not contains(st.norms[original.intent_id], st.norm(scope)):
            emitter.error(
                ErrorCode.MALFORMED_MESSAGE,
                "a claim's scope must equal or narrow the original intent's scope",
                msg.message_id,
                pid,
            )
            return False
        try:
            wid, branch = worktree_of(msg.raw["payload"])  # the claimer's checkout
        except BadWorktree as exc:
            emitter.error(ErrorCode.MALFORMED_MESSAGE, str(exc), msg.message_id, pid)
            return False
        claim = Claim(
            p.claim_id,
            pid,
            original.intent_id,
            p.new_intent_id,
            p.objective,
            scope,
            st.now,
            msg.message_id,
            worktree=wid,
            branch=branch,
        )
        st.take_id("claim", p.claim_id, pid)
        if not self.waits_for_decider(pid):  # A8: approval by no objection
            claim.approve_at = self.auto_approval_at(claim, original)
        if claim.approve_at is not None and claim.approve_at <= st.now:
            self.approve(claim, st.coordinator_id, msg.message_id)
            return True
        st.claims[original.intent_id] = claim
        if claim.approve_at is not None:
            st.timers.claim.push(claim.approve_at, original.intent_id)
        emitter.relay(
            msg.raw
        )  # pending: everyone (owners and arbiters in particular) sees the claim
        return True

    def waits_for_decider(self, claimer: str) -> bool:
        """Whether a claim waits for an owner or arbiter to decide (A8): always in `governance`,
        never in `auto`, and in `arbiter_or_auto` while an owner or arbiter other than the claimer is
        connected and available. Otherwise it is approved by no objection."""
        mode = self.state.config.claim_approval_mode
        if mode != "arbiter_or_auto":
            return mode == "governance"
        return any(
            pid != claimer
            and part.connected
            and part.is_available
            and not DECIDERS.isdisjoint(part.roles)
            for pid, part in self.state.participants.items()
        )

    def auto_approval_at(self, claim: Claim, original: Intent) -> float:
        """Core rules: a handed-over intent (GOODBYE transfer) at once, a silent owner's after the grace."""
        if original.suspended_reason == "owner_left":
            return claim.received_at
        return claim.received_at + self.state.config.claim_grace_sec

    def decider_lost(self) -> None:
        """An owner or arbiter left (GOODBYE, silence, lost connection): claims that were waiting for
        a human with none left fall back to the core rules (`arbiter_or_auto`)."""
        st = self.state
        if not st.claims or st.config.claim_approval_mode != "arbiter_or_auto":
            return
        for original_id, claim in sorted(st.claims.items()):
            original = st.intents.get(original_id)
            if (
                claim.approve_at is None
                and original is not None
                and not self.waits_for_decider(claim.claimer)
            ):
                claim.approve_at = max(st.now, self.auto_approval_at(claim, original))
                st.timers.claim.push(claim.approve_at, original_id)
        self.approve_due()

    def on_decision(self, msg: WireMessage, claim_id: str, ext: dict[str, Any]) -> bool:
        """A8: an owner or arbiter approves or rejects a pending claim by repeating its claim_id with
        `extensions["mpac-bridge"].decision`."""
        st, emitter = self.state, self.emitter
        pid = msg.sender_id
        claim = next((c for c in st.claims.values() if c.claim_id == claim_id), None)
        if claim is None:
            emitter.error(
                ErrorCode.INVALID_REFERENCE, f"no pending claim {claim_id!r}", msg.message_id, pid
            )
            return False
        if not (st.roles_of(pid) & DECIDERS):
            emitter.error(
                ErrorCode.AUTHORIZATION_FAILED,
                "only an owner or an arbiter may approve or reject a claim",
                msg.message_id,
                pid,
            )
            return False
        if ext["decision"] == "approved":
            self.approve(claim, pid, msg.message_id)
            return True
        st.claims.pop(claim.original_intent_id, None)
        emitter.emit(
            "INTENT_CLAIM_STATUS",
            {
                "claim_id": claim.claim_id,
                "original_intent_id": claim.original_intent_id,
                "decision": "rejected",
                "reason": str(ext.get("reason") or f"rejected by {pid}"),
            },
            To.ALL,
            in_reply_to=msg.message_id,
        )
        return True

    def approve_due(self) -> None:
        st = self.state
        while (due := st.timers.claim.pop_due(st.now)) is not None:
            when, original_id = due
            claim = st.claims.get(original_id)
            if claim is not None and claim.approve_at == when:
                self.approve(claim, st.coordinator_id, claim.message_id or "")

    def withdraw(self, original_id: str) -> None:
        """The original owner is back: a pending claim on its intent is withdrawn."""
        claim = self.state.claims.pop(original_id, None)
        if claim is None:
            return
        self.emitter.emit(
            "INTENT_CLAIM_STATUS",
            {
                "claim_id": claim.claim_id,
                "original_intent_id": original_id,
                "decision": "withdrawn",
                "reason": "original_owner_rejoined",
            },
            To.ALL,
            in_reply_to=claim.message_id,
        )

    def approve(self, claim: Claim, approver: str, in_reply_to: str) -> None:
        """The claimer takes over: the original intent ends (TRANSFERRED), its operations with it,
        and a new intent of the claimer's, announced by the coordinator, takes its place."""
        st, emitter = self.state, self.emitter
        st.claims.pop(claim.original_intent_id, None)
        original = st.intents.get(claim.original_intent_id)
        if original is None or original.state != IntentState.SUSPENDED:
            emitter.emit(
                "INTENT_CLAIM_STATUS",
                {
                    "claim_id": claim.claim_id,
                    "original_intent_id": claim.original_intent_id,
                    "decision": "rejected",
                    "reason": "intent_no_longer_suspended",
                },
                To.ALL,
                in_reply_to=in_reply_to,
            )
            return
        frozen_ops = sorted(st.ops_by_intent.get(original.intent_id))
        self.intents.end(
            original, IntentEvent.CLAIM_APPROVED, f"claimed_by:{claim.claimer}", notify=False
        )
        for op_id in frozen_ops:
            op = st.ops.get(op_id)
            if op is not None:
                self.operations.end(op, OpEvent.INTENT_TERMINATED, "intent_transferred")
        new = Intent(
            intent_id=claim.new_intent_id,
            principal_id=claim.claimer,
            objective=claim.objective,
            scope=frozen_scope(claim.scope),
            state=IntentState.ACTIVE,
            received_at=st.now,
            expires_at=st.now + original.ttl_sec,
            ttl_sec=original.ttl_sec,
            priority=original.priority,
            parent_intent_id=original.intent_id,
            last_message_id=claim.message_id,
            worktree=claim.worktree,
            branch=claim.branch,
        )
        where = worktree_ext(claim.worktree, claim.branch)[EXT]
        new.announce = pack(
            emitter.envelope(
                "INTENT_ANNOUNCE",
                {
                    "intent_id": new.intent_id,
                    "objective": new.objective,
                    "scope": claim.scope,
                    "ttl_sec": new.ttl_sec,
                    "extensions": {
                        EXT: {
                            "principal_id": claim.claimer,
                            "claimed_from": original.intent_id,
                            **where,
                        }
                    },
                },
            )
        )
        st.take_id("intent", new.intent_id, claim.claimer)
        self.intents.register(new, st.norm(claim.scope))
        emitter.emit(
            "INTENT_CLAIM_STATUS",
            {
                "claim_id": claim.claim_id,
                "original_intent_id": original.intent_id,
                "new_intent_id": new.intent_id,
                "decision": "approved",
                "approved_by": approver,
                "extensions": {
                    EXT: {
                        "claimer": claim.claimer,
                        "objective": new.objective,
                        "scope": claim.scope,
                        **where,
                    }
                },
            },
            To.ALL,
            in_reply_to=in_reply_to,
        )

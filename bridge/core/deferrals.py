"""Deferrals (INTENT_DEFERRED, §15.5): a participant yields to others' intents and is told when it
may go on: when every observed intent ended (condition 1), when the deferring principal announces
(condition 2), when a watched principal's intent ends (condition 3), or when the deferral expires."""

from __future__ import annotations

from bridge.core.emit import Emitter
from bridge.core.outbound import To
from bridge.core.records import Deferral
from bridge.core.state import SessionState
from bridge.protocol.codes import ErrorCode
from bridge.protocol.read import WireMessage
from bridge.protocol.stamps import format_ts
from bridge.protocol.wiretypes import IntentDeferred


class DeferralLayer:
    def __init__(self, state: SessionState, emitter: Emitter) -> None:
        self.state = state
        self.emitter = emitter

    def on_deferred(self, msg: WireMessage) -> bool:
        st, emitter = self.state, self.emitter
        p = msg.payload_as(IntentDeferred)
        pid = msg.sender_id
        if p.is_resolution:
            emitter.error(
                ErrorCode.AUTHORIZATION_FAILED,
                "only the coordinator sends the resolution form of INTENT_DEFERRED",
                msg.message_id,
                pid,
            )
            return False
        existing = st.deferrals.get(p.deferral_id)
        if (existing is not None and existing.principal_id != pid) or (
            existing is None and st.id_taken("deferral", p.deferral_id)
        ):
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"deferral_id {p.deferral_id!r} is already used",
                msg.message_id,
                pid,
            )
            return False
        if existing is not None:  # idempotent retry of the same deferral
            self.drop(existing)
        ttl = p.ttl_sec if p.ttl_sec is not None else st.config.deferral_ttl_sec
        scope = msg.part("scope")
        given = list(p.observed_intent_ids or [])
        observed = [i for i in given if st.intent_state(i) is not None or i not in st.participants]
        if not given and scope:
            observed = [
                iid
                for iid, _ov in st.index.overlapping(st.norm(scope))
                if st.intents[iid].principal_id != pid
            ]
        # Condition 3 of §15.5.1: an ending intent of a watched principal resolves the deferral.
        watch = sorted(set(p.observed_principals or []) | {i for i in given if i not in observed})
        watched = p.observed_principals or sorted(
            {st.intents[i].principal_id for i in observed if i in st.intents}
        )
        d = Deferral(
            deferral_id=p.deferral_id,
            principal_id=pid,
            scope=scope,
            observed_intent_ids=observed,
            observed_principals=list(watched),
            received_at=st.now,
            expires_at=st.now + ttl,
            reason=p.reason or "yielded",
            message_id=msg.message_id,
            watch_principals=watch,
        )
        st.take_id("deferral", d.deferral_id, pid)
        st.add_deferral(d)
        for iid in observed:
            intent = st.intents.get(iid)
            if intent is not None and pid not in intent.deferred_by:
                intent.deferred_by = (*intent.deferred_by, pid)
        st.timers.deferral.push(d.expires_at, d.deferral_id)
        payload = dict(msg.raw["payload"])
        payload.update(
            {
                "principal_id": pid,
                "expires_at": format_ts(d.expires_at),
                "observed_intent_ids": given or observed,
            }
        )
        emitter.emit("INTENT_DEFERRED", payload, To.ALL, in_reply_to=msg.message_id)
        if self.observed_all_ended(d):  # already over at arrival (§15.5.1 b)
            self.resolve(d, "resolved", "observed_intents_terminated")
        return True

    def observed_all_ended(self, d: Deferral) -> bool:
        """Condition 1: every observed intent the coordinator knows of is terminal (unknown ids,
        such as principal ids in the wrong field, are not intents and do not count)."""
        st = self.state
        known = [i for i in d.observed_intent_ids if st.intent_state(i) is not None]
        return bool(known) and all(i not in st.intents for i in known)

    def drop(self, d: Deferral) -> None:
        st = self.state
        st.remove_deferral(d)
        for iid in d.observed_intent_ids:
            intent = st.intents.get(iid)
            if intent is not None and d.principal_id in intent.deferred_by:
                intent.deferred_by = tuple(p for p in intent.deferred_by if p != d.principal_id)

    def resolve(self, d: Deferral, status: str, reason: str) -> None:
        self.drop(d)
        self.emitter.emit(
            "INTENT_DEFERRED",
            {
                "deferral_id": d.deferral_id,
                "principal_id": d.principal_id,
                "status": status,
                "reason": reason,
            },
            To.ALL,
            in_reply_to=d.message_id,
        )

    def principal_announced(self, pid: str) -> None:
        """Condition 2: the deferring principal announced an intent."""
        st = self.state
        for did in sorted(st.deferrals_by_principal.get(pid)):
            self.resolve(st.deferrals[did], "resolved", "principal_announced")

    def intent_ended(self, iid: str, owner: str | None = None) -> None:
        """An intent ended: resolve deferrals whose observed intents are all over (condition 1) and
        those watching its owner (condition 3). Both lookups are index hits, never scans."""
        st = self.state
        if not st.deferrals:  # the common case: nobody defers
            return
        due = {
            did
            for did in st.deferrals_by_intent.get(iid)
            if self.observed_all_ended(st.deferrals[did])
        }
        if owner is not None:
            due.update(st.deferrals_by_watched.get(owner))
        for did in sorted(due):
            d = st.deferrals.get(did)
            if d is not None:
                self.resolve(d, "resolved", "observed_intents_terminated")

    def expire(self) -> None:
        st = self.state
        while (due := st.timers.deferral.pop_due(st.now)) is not None:
            when, did = due
            d = st.deferrals.get(did)
            if d is not None and d.expires_at == when:
                self.resolve(d, "expired", "ttl")

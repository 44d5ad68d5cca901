"""Session layer: HELLO (credentials, roles, rejoin, late-join replay), HEARTBEAT, GOODBYE (with
its intent disposition) and SESSION_CLOSE."""

from __future__ import annotations

from typing import Any

from bridge.core.auth import CredentialVerifier, Verdict
from bridge.core.claims import ClaimLayer
from bridge.core.emit import Emitter
from bridge.core.intents import IntentLayer
from bridge.core.latejoin import LateJoin
from bridge.core.liveness import LivenessLayer
from bridge.core.operations import OperationLayer
from bridge.core.outbound import To
from bridge.core.records import Participant
from bridge.core.state import SessionState
from bridge.core.status import Status
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import EXT, PROTOCOL_VERSION
from bridge.protocol.enums import IntentState, OpState
from bridge.protocol.read import WireMessage
from bridge.protocol.states import IntentEvent, OpEvent
from bridge.protocol.wiretypes import Goodbye, Heartbeat, Hello

SPEC_ROLES = ("observer", "contributor", "reviewer", "owner", "arbiter")


class SessionLayer:
    def __init__(
        self,
        state: SessionState,
        emitter: Emitter,
        status: Status,
        intents: IntentLayer,
        operations: OperationLayer,
        claims: ClaimLayer,
        liveness: LivenessLayer,
        latejoin: LateJoin,
        verifier: CredentialVerifier | None,
    ) -> None:
        self.state = state
        self.emitter = emitter
        self.status = status
        self.intents = intents
        self.operations = operations
        self.claims = claims
        self.liveness = liveness
        self.latejoin = latejoin
        self.verifier = verifier

    # --- HELLO -------------------------------------------------------------------------------

    def grant_roles(
        self, pid: str, requested: list[str], verdict: Verdict | None
    ) -> tuple[list[str], list[str]]:
        """(granted roles, notes for SESSION_INFO.compatibility_errors)."""
        notes: list[str] = []
        if verdict is not None and verdict.roles is not None:
            allowed = list(verdict.roles)
        else:
            policy = self.state.config.role_policy
            allowed = list(policy.get(pid, policy.get("*", []))) if policy else []
        wanted: list[str] = []
        for role in requested or ["contributor"]:
            if role == "participant":  # D2: reference clients ask for "participant"
                notes.append("role 'participant' is not an MPAC role; granted 'contributor'")
                role = "contributor"
            if role not in SPEC_ROLES:
                notes.append(f"unknown role {role!r} not granted")
                continue
            if role not in wanted:
                wanted.append(role)
        if not allowed:  # no policy: grant what was asked (open profile, §23.1.5)
            return wanted or ["contributor"], notes
        granted = [r for r in wanted if r in allowed]
        for r in wanted:
            if r not in allowed:
                notes.append(f"role {r!r} not granted by the session's role policy")
        if not granted:
            fallback: list[str] = [r for r in ("contributor", "observer") if r in allowed]
            granted = fallback[:1] or allowed[:1]
        return granted, notes

    def verify(self, msg: WireMessage, p: Hello) -> Verdict:
        """The credential check of the authenticated profile (a failing verifier rejects)."""
        cred = msg.part("credential") if p.credential is not None else None
        if self.verifier is None:
            verdict = Verdict.reject("no credential verifier is configured")
        else:
            try:
                verdict = self.verifier(cred, self.state.session_id)
            except Exception as exc:
                verdict = Verdict.reject(f"credential check failed ({type(exc).__name__})")
        if verdict.accepted and verdict.principal_id and verdict.principal_id != msg.sender_id:
            verdict = Verdict.reject(
                f"this credential belongs to {verdict.principal_id}, not {msg.sender_id}"
            )
        return verdict

    def on_hello(self, msg: WireMessage) -> str | None:
        """Admit (or readmit) the sender; returns the admitted principal, or None when refused."""
        st, emitter = self.state, self.emitter
        p = msg.payload_as(Hello)
        pid = msg.sender_id
        verdict: Verdict | None = None
        if st.config.security_profile != "open":
            verdict = self.verify(msg, p)
            if not verdict.accepted:
                emitter.error(
                    ErrorCode.CREDENTIAL_REJECTED,
                    verdict.reason or "credential rejected",
                    msg.message_id,
                    None,
                )
                emitter.note(
                    {"event": "hello_rejected", "principal_id": pid, "reason": verdict.reason}
                )
                return None
        roles, notes = self.grant_roles(pid, list(p.roles), verdict)
        ext = (msg.raw["payload"].get("extensions") or {}).get(EXT)
        transient = (
            isinstance(ext, dict) and ext.get("transient") is True and set(roles) == {"observer"}
        )
        known = st.participants.get(pid)
        if known is None:
            part = Participant(
                principal_id=pid,
                principal_type=msg.envelope.sender.principal_type,
                display_name=p.display_name,
                roles=roles,
                capabilities=list(p.capabilities),
                instance_id=msg.sender_instance_id,
                joined_at=st.now,
                last_seen=st.now,
                backend=msg.part("backend") if p.backend else None,
            )
            st.participants[pid] = part
        else:
            part = known
            part.display_name, part.roles, part.capabilities = (
                p.display_name,
                roles,
                list(p.capabilities),
            )
            part.instance_id, part.last_seen, part.connected = msg.sender_instance_id, st.now, True
            part.is_available = True  # back (after GOODBYE or silence); its intents follow below
        part.status = "idle"
        part.transient = transient
        part.last_message_id = msg.message_id
        st.timers.liveness.push(st.now + st.config.unavailability_timeout_sec, pid)
        info: dict[str, Any] = {
            "session_id": st.session_id,
            "protocol_version": PROTOCOL_VERSION,
            "security_profile": st.config.security_profile,
            "compliance_profile": st.config.compliance_profile,
            "watermark_kind": "lamport_clock",
            "execution_model": st.config.execution_model,
            "state_ref_format": st.config.state_ref_format,
            "governance_policy": st.config.governance_policy(),
            "liveness_policy": st.config.liveness_policy(),
            "participant_count": sum(1 for q in st.participants.values() if not q.transient),
            "granted_roles": roles,
            "identity_verified": st.config.security_profile != "open",
            "compatibility_errors": notes,
            "extensions": {
                EXT: {
                    "state": self.latejoin.compact_state(),
                    "rejoined": known is not None,
                    "max_frame_bytes": st.config.max_frame_bytes,
                    "symbol_granularity": st.config.symbol_granularity,
                }
            },
        }
        if verdict is not None:
            info["identity_method"] = "bearer_token"
        emitter.emit("SESSION_INFO", info, To.only(pid), in_reply_to=msg.message_id)
        if transient:  # a probe reads the compact state in SESSION_INFO; nobody else hears of it
            emitter.note(
                {"event": "admitted", "principal_id": pid, "roles": roles, "transient": True}
            )
            return pid
        self.latejoin.replay_live_state(
            pid
        )  # late joiners learn the live state as ordinary messages
        # Others learn about the participant from its HELLO, minus any credential.
        public = dict(msg.raw)
        public["payload"] = {k: v for k, v in msg.raw["payload"].items() if k != "credential"}
        others = [q for q, other in st.participants.items() if q != pid and not other.transient]
        if others:
            emitter.relay(public, To.only(*others))
        if known is not None:
            self.liveness.owner_returned(pid)
        emitter.note(
            {"event": "admitted", "principal_id": pid, "roles": roles, "rejoin": known is not None}
        )
        return pid

    # --- HEARTBEAT / GOODBYE -----------------------------------------------------------------

    def on_heartbeat(self, msg: WireMessage) -> bool:
        st = self.state
        p = msg.payload_as(Heartbeat)
        part = st.participants[msg.sender_id]
        if part.status != p.status:
            part.status = p.status
            self.status.presence(part)  # heartbeats are not relayed: a status change is told (A26)
        if p.backend_health is not None:  # accepted and relayed; a status probe can plug in later
            part.backend = {**(part.backend or {}), "health": msg.part("backend_health")}
            others = [q for q in st.participants if q != msg.sender_id]
            if others:
                self.emitter.relay(msg.raw, To.only(*others))
        # last_seen / return from unavailability are handled for every message in `touch`.
        return True

    def on_goodbye(self, msg: WireMessage) -> bool:
        st = self.state
        p = msg.payload_as(Goodbye)
        pid = msg.sender_id
        if st.participants[pid].transient:  # a probe leaves no trace (observers own nothing)
            del st.participants[pid]
            return True
        disposition = p.intent_disposition or "withdraw"
        own = sorted(st.by_principal.get(pid))
        chosen = [i for i in (p.active_intents or own) if i in own]  # only the sender's own intents
        self.emitter.relay(msg.raw)
        for iid in chosen:
            intent = st.intents.get(iid)
            if intent is None:
                continue
            if disposition == "withdraw":
                self.intents.end(intent, IntentEvent.GOODBYE_WITHDRAW, "goodbye")
            elif disposition == "transfer" and intent.state == IntentState.ACTIVE:
                self.intents.suspend(intent, "owner_left")
        proposed = [
            o for o in st.ops.values() if o.principal_id == pid and o.state == OpState.PROPOSED
        ]
        for op in proposed:
            self.operations.end(op, OpEvent.SENDER_LEFT, "participant_left")
        part = st.participants[pid]
        part.connected = False
        part.is_available = False
        part.status = "offline"
        self.emitter.note({"event": "goodbye", "principal_id": pid, "disposition": disposition})
        self.claims.decider_lost()
        return True

    # --- SESSION_CLOSE -----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Digest 10.6. `completed_intents` counts SUPERSEDED and TRANSFERRED intents and those
        withdrawn by their owner after committing (A21); `resolved_conflicts` counts CLOSED ones."""
        st = self.state
        c = st.counters
        return {
            "total_intents": c.get("intents", 0),
            "completed_intents": c.get("intents_SUPERSEDED", 0) + c.get("intents_TRANSFERRED", 0),
            "expired_intents": c.get("intents_EXPIRED", 0),
            "withdrawn_intents": c.get("intents_WITHDRAWN", 0),
            "total_operations": c.get("ops", 0),
            "committed_operations": c.get("ops_COMMITTED", 0),
            "rejected_operations": c.get("ops_REJECTED", 0),
            "abandoned_operations": c.get("ops_ABANDONED", 0),
            "total_conflicts": c.get("conflicts", 0),
            "resolved_conflicts": c.get("conflicts_CLOSED", 0),
            "total_participants": len(st.participants),
            "duration_sec": round(st.now - st.created_at, 3),
        }

    def close(self, reason: str = "manual", disposition: str = "withdraw_all") -> None:
        st = self.state
        if st.closed:
            return
        if disposition == "withdraw_all":
            for intent in sorted(st.intents.values(), key=lambda i: i.intent_id):
                self.intents.end(
                    intent, IntentEvent.SESSION_CLOSE_WITHDRAW, "session_closed", notify=False
                )
        summary = self.summary()
        st.closed = True
        self.emitter.emit(
            "SESSION_CLOSE",
            {
                "reason": reason,
                "final_lamport_clock": st.clock.value + 1,
                "summary": summary,
                "active_intents_disposition": disposition,
            },
            To.ALL,
        )
        self.emitter.note({"event": "session_closed", "reason": reason})

    # --- recovery ----------------------------------------------------------------------------

    def recover(self, epoch: int | None = None) -> None:
        """After a restart (restore + journal replay): a new epoch (the next one, or `epoch` when
        larger), a new landing grace period, everyone disconnected until it rejoins, and
        COORDINATOR_STATUS event=recovered."""
        st = self.state
        st.epoch = max(st.epoch + 1, epoch or 0)
        st.recovered_at = st.now
        for pid in [p for p, part in st.participants.items() if part.transient]:
            del st.participants[pid]  # no connection survives a restart; probes leave no trace
        for part in st.participants.values():  # everyone must show a sign of life again
            st.timers.liveness.push(
                st.now + st.config.unavailability_timeout_sec, part.principal_id
            )
            part.last_seen = max(part.last_seen, st.now)
            part.connected = False  # until it rejoins: no connection survives a restart
        self.status.coordinator_status("recovered")

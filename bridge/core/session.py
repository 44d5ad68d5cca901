"""Session layer: HELLO, HEARTBEAT, GOODBYE, liveness, rejoin and SESSION_CLOSE."""

from __future__ import annotations

import heapq
from typing import Any

from bridge.core.auth import Verdict
from bridge.core.base import EXT, CoreBase
from bridge.core.outbound import To
from bridge.core.records import Participant
from bridge.protocol.codes import ErrorCode
from bridge.protocol.enums import IntentState, OpState
from bridge.protocol.envelope import PROTOCOL_VERSION
from bridge.protocol.parse import ParsedMessage
from bridge.protocol.payloads import Goodbye, Heartbeat, Hello
from bridge.protocol.states import IntentEvent, OpEvent

SPEC_ROLES = ("observer", "contributor", "reviewer", "owner", "arbiter")


class SessionLayer(CoreBase):
    # --- HELLO -------------------------------------------------------------------------------

    def _grant_roles(self, pid: str, requested: list[str], verdict: Verdict | None) -> tuple[list[str], list[str]]:
        notes: list[str] = []
        if verdict is not None and verdict.roles is not None:
            allowed = list(verdict.roles)
        else:
            policy = self.config.role_policy
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
            granted = [r for r in ("contributor", "observer") if r in allowed][:1] or allowed[:1]
        return granted, notes

    def on_hello(self, msg: ParsedMessage, bound: str | None) -> str | None:
        p: Hello = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        verdict: Verdict | None = None
        if self.config.security_profile != "open":
            cred = p.credential.dump() if p.credential is not None else None
            if self.credential_verifier is None:
                verdict = Verdict.reject("no credential verifier is configured")
            else:
                try:
                    verdict = self.credential_verifier(cred, self.session_id)
                except Exception as exc:
                    verdict = Verdict.reject(f"credential check failed ({type(exc).__name__})")
            if verdict.accepted and verdict.principal_id and verdict.principal_id != pid:
                verdict = Verdict.reject(f"this credential belongs to {verdict.principal_id}, not {pid}")
            if not verdict.accepted:
                self.error(ErrorCode.CREDENTIAL_REJECTED, verdict.reason or "credential rejected", msg.message_id, None)
                self.note({"event": "hello_rejected", "principal_id": pid, "reason": verdict.reason})
                return None
        roles, notes = self._grant_roles(pid, list(p.roles), verdict)
        ext = (msg.raw["payload"].get("extensions") or {}).get(EXT)
        transient = isinstance(ext, dict) and ext.get("transient") is True and set(roles) == {"observer"}
        known = self.participants.get(pid)
        ptype = msg.envelope.sender.principal_type
        if known is None:
            part = Participant(
                principal_id=pid,
                principal_type=ptype,
                display_name=p.display_name,
                roles=roles,
                capabilities=list(p.capabilities),
                instance_id=msg.sender_instance_id,
                joined_at=self.now,
                last_seen=self.now,
                backend=p.backend.dump() if p.backend else None,
            )
            self.participants[pid] = part
        else:
            part = known
            part.display_name, part.roles, part.capabilities = p.display_name, roles, list(p.capabilities)
            part.instance_id, part.last_seen, part.connected = msg.sender_instance_id, self.now, True
            part.is_available = True  # back (after GOODBYE or silence); its intents follow below
        part.status = "idle"
        part.transient = transient
        part.last_message_id = msg.message_id
        self.push(self.liveness_heap, self.now + self.config.unavailability_timeout_sec, pid)
        info: dict[str, Any] = {
            "session_id": self.session_id,
            "protocol_version": PROTOCOL_VERSION,
            "security_profile": self.config.security_profile,
            "compliance_profile": self.config.compliance_profile,
            "watermark_kind": "lamport_clock",
            "execution_model": self.config.execution_model,
            "state_ref_format": self.config.state_ref_format,
            "governance_policy": self.config.governance_policy(),
            "liveness_policy": self.config.liveness_policy(),
            "participant_count": sum(1 for q in self.participants.values() if not q.transient),
            "granted_roles": roles,
            "identity_verified": self.config.security_profile != "open",
            "compatibility_errors": notes,
            "extensions": {EXT: {"state": self.compact_state(), "rejoined": known is not None,
                                 "max_frame_bytes": self.config.max_frame_bytes,
                                 "symbol_granularity": self.config.symbol_granularity}},
        }
        if verdict is not None:
            info["identity_method"] = "bearer_token"
        self.emit("SESSION_INFO", info, To.only(pid), in_reply_to=msg.message_id)
        if transient:  # a probe reads the compact state in SESSION_INFO; nobody else hears of it
            self.note({"event": "admitted", "principal_id": pid, "roles": roles, "transient": True})
            return pid
        self.replay_live_state(pid)  # late joiners learn the live state as ordinary messages
        # Others learn about the participant from its HELLO, minus any credential.
        public = dict(msg.raw)
        public["payload"] = {k: v for k, v in msg.raw["payload"].items() if k != "credential"}
        others = [q for q, other in self.participants.items() if q != pid and not other.transient]
        if others:
            self.relay(public, To.only(*others))
        if known is not None:
            self.owner_returned(pid)
        self.note({"event": "admitted", "principal_id": pid, "roles": roles, "rejoin": known is not None})
        return pid

    # --- HEARTBEAT / GOODBYE -----------------------------------------------------------------

    def on_heartbeat(self, msg: ParsedMessage) -> None:
        p: Heartbeat = msg.payload  # type: ignore[assignment]
        part = self.participants[msg.sender_id]
        if part.status != p.status:
            part.status = p.status
            self.presence_notice(part)  # heartbeats are not relayed: a status change is told (A26)
        if p.backend_health is not None:  # accepted and relayed; a status probe can plug in later
            part.backend = {**(part.backend or {}), "health": p.backend_health.dump()}
            others = [q for q in self.participants if q != msg.sender_id]
            if others:
                self.relay(msg.raw, To.only(*others))
        # last_seen / return from unavailability are handled for every message in `touch`.

    def on_goodbye(self, msg: ParsedMessage) -> None:
        p: Goodbye = msg.payload  # type: ignore[assignment]
        pid = msg.sender_id
        if self.participants[pid].transient:  # a probe leaves no trace (observers own nothing)
            del self.participants[pid]
            return
        disposition = p.intent_disposition or "withdraw"
        own = sorted(self.by_principal.get(pid, set()))
        chosen = [i for i in (p.active_intents or own) if i in own]  # only the sender's own intents
        self.relay(msg.raw)
        for iid in chosen:
            intent = self.intents.get(iid)
            if intent is None:
                continue
            if disposition == "withdraw":
                self.end_intent(intent, IntentEvent.GOODBYE_WITHDRAW, "goodbye")
            elif disposition == "transfer" and intent.state == IntentState.ACTIVE:
                self.suspend_intent(intent, "owner_left")
        for op in [o for o in self.ops.values() if o.principal_id == pid and o.state == OpState.PROPOSED]:
            self.end_op(op, OpEvent.SENDER_LEFT, "participant_left")
        part = self.participants[pid]
        part.connected = False
        part.is_available = False
        part.status = "offline"
        self.note({"event": "goodbye", "principal_id": pid, "disposition": disposition})
        self.claims_lost_decider()

    def connection_lost(self, pid: str) -> bool:
        """The transport's last connection of `pid` closed without a GOODBYE (a crash, a cut-off slow
        consumer, a hook that exits). Presence changes at once and everyone is told; the intents stay
        until the unavailability timeout, so an agent that reconnects loses nothing. Returns whether
        the state changed."""
        part = self.participants.get(pid)
        if part is None:
            return False
        if part.transient:
            del self.participants[pid]
            return True
        if not part.connected:
            return False
        part.connected = False
        self.presence_notice(part)
        self.note({"event": "connection_lost", "principal_id": pid})
        self.claims_lost_decider()
        return True

    def presence_notice(self, part: Participant) -> None:
        """Tell everyone a participant's presence changed when no participant message says so: a
        COORDINATOR_STATUS carrying it in `extensions["mpac-bridge"].presence`."""
        presence = {"principal_id": part.principal_id, "connected": part.connected, "is_available": part.is_available, "status": part.status}
        self.coordinator_status("heartbeat", extensions={EXT: {"presence": presence}})

    def touch(self, pid: str, message_id: str) -> None:
        """Any accepted message is a sign of life (§14.7.1)."""
        part = self.participants.get(pid)
        if part is None:
            return
        part.last_seen = self.now
        part.last_message_id = message_id
        if not part.is_available or not part.connected:
            part.is_available, part.connected = True, True
            self.presence_notice(part)
            self.owner_returned(pid)
            self.push(self.liveness_heap, self.now + self.config.unavailability_timeout_sec, pid)
        # Otherwise the pending liveness entry is pushed forward when it comes due (no heap growth).

    def check_liveness(self) -> None:
        while self.liveness_heap and self.liveness_heap[0][0] <= self.now:
            _, pid = heapq.heappop(self.liveness_heap)
            part = self.participants.get(pid)
            if part is None or not part.is_available or part.status == "offline":
                continue
            due = part.last_seen + self.config.unavailability_timeout_sec
            if due > self.now:
                self.push(self.liveness_heap, due, pid)  # seen since: look again at the new deadline
                continue
            part.is_available = False
            suspended = []
            for iid in sorted(self.by_principal.get(pid, set())):
                intent = self.intents[iid]
                if intent.state == IntentState.ACTIVE:
                    self.suspend_intent(intent, "owner_unavailable")
                    suspended.append(iid)
            for op in [o for o in self.ops.values() if o.principal_id == pid]:
                self.end_op(op, OpEvent.SENDER_UNAVAILABLE, "participant_unavailable")
            self.emit(
                "PROTOCOL_ERROR",
                {
                    "error_code": str(ErrorCode.PARTICIPANT_UNAVAILABLE),
                    "refers_to": part.last_message_id,
                    "description": f"{pid} has been silent for {int(self.config.unavailability_timeout_sec)} s; "
                    f"its {len(suspended)} active intent(s) are suspended and can be taken over",
                    "extensions": {EXT: {"principal_id": pid, "suspended_intents": suspended}},
                },
                self.who_needs_unavailability(pid, suspended),
            )
            self.presence_notice(part)  # everyone else's view too (the error goes to those who act on it)
            self.note({"event": "unavailable", "principal_id": pid, "suspended": suspended})
            self.claims_lost_decider()

    def who_needs_unavailability(self, pid: str, suspended: list[str]) -> To:
        """Owners, arbiters and observers (they can act or watch), plus every principal whose live
        intents overlap the suspended ones (they may want to take over)."""
        need = {q for q, part in self.participants.items() if q != pid and set(part.roles) & {"owner", "arbiter", "observer"}}
        for iid in suspended:
            norm = self._norms.get(iid)
            if norm is not None:
                need |= {self.intents[o].principal_id for o, _ov in self.index.overlapping(norm, exclude=iid)}
        need.discard(pid)
        return To.only(*sorted(need))

    def coordinator_status(self, event: str = "heartbeat", **extra: Any) -> None:
        payload = {
            "event": event,
            "coordinator_id": self.coordinator_id,
            "session_health": "degraded" if self.conflicts else "healthy",
            "active_participants": self.available_count(),
            "open_conflicts": self.open_conflict_count(),
            "snapshot_lamport_clock": self.clock.value,
            **extra,
        }
        self.emit("COORDINATOR_STATUS", payload, To.ALL)

    def session_summary(self) -> dict[str, Any]:
        """Digest 10.6. `completed_intents` counts SUPERSEDED and TRANSFERRED intents and those
        withdrawn by their owner after committing (A21); `resolved_conflicts` counts CLOSED ones."""
        c = self.counters
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
            "total_participants": len(self.participants),
            "duration_sec": round(self.now - self.created_at, 3),
        }

    def close_session(self, reason: str = "manual", disposition: str = "withdraw_all") -> None:
        if self.closed:
            return
        if disposition == "withdraw_all":
            for intent in sorted(self.intents.values(), key=lambda i: i.intent_id):
                self.end_intent(intent, IntentEvent.SESSION_CLOSE_WITHDRAW, "session_closed", notify=False)
        summary = self.session_summary()
        self.closed = True
        self.emit(
            "SESSION_CLOSE",
            {
                "reason": reason,
                "final_lamport_clock": self.clock.value + 1,
                "summary": summary,
                "active_intents_disposition": disposition,
            },
            To.ALL,
        )
        self.note({"event": "session_closed", "reason": reason})

"""The pure coordinator: `handle(raw, now)` and `tick(now)` return the messages to send.

No sockets, no event loop, no clock reads. Everything it needs arrives as arguments, so the same
inputs always give the same outputs (which is what makes journal replay exact).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.core.auth import CredentialVerifier
from bridge.core.base import AuditSink, StateRefLookup
from bridge.core.config import CoordinatorConfig
from bridge.core.conflicts import ConflictLayer
from bridge.core.governance import GovernanceLayer
from bridge.core.intents import IntentLayer
from bridge.core.latejoin import LateJoin
from bridge.core.operations import OperationLayer
from bridge.core.outbound import HandleResult, Outbound, TickResult, To
from bridge.core.session import SessionLayer
from bridge.core.snapshot import SnapshotMixin
from bridge.protocol.codes import ErrorCode
from bridge.protocol.enums import COORDINATOR_ONLY_TYPES, MessageType
from bridge.protocol.envelope import format_ts, parse_ts
from bridge.protocol.parse import ParsedMessage, ParseFailure, parse_message

M = MessageType
OBSERVER_ONLY = frozenset({"observer"})
WRITE_TYPES = frozenset(
    {
        M.INTENT_ANNOUNCE,
        M.INTENT_UPDATE,
        M.INTENT_WITHDRAW,
        M.INTENT_DEFERRED,
        M.INTENT_CLAIM,
        M.OP_PROPOSE,
        M.OP_COMMIT,
        M.OP_BATCH_COMMIT,
        M.OP_SUPERSEDE,
        M.CONFLICT_REPORT,
    }
)


class Coordinator(SessionLayer, IntentLayer, OperationLayer, ConflictLayer, GovernanceLayer, LateJoin, SnapshotMixin):
    def __init__(
        self,
        config: CoordinatorConfig | None = None,
        session_id: str = "session",
        now: float = 0.0,
        state_ref_lookup: StateRefLookup | None = None,
        credential_verifier: CredentialVerifier | None = None,
        audit: AuditSink | None = None,
    ) -> None:
        self._init_state(config or CoordinatorConfig(), session_id, now, state_ref_lookup, credential_verifier, audit)
        self._unparsed = 0  # replies outside the causal order (not part of the state)
        self.handlers: dict[MessageType, Callable[[ParsedMessage], bool]] = {
            M.HEARTBEAT: self._heartbeat,
            M.GOODBYE: self._goodbye,
            M.INTENT_ANNOUNCE: self.on_announce,
            M.INTENT_UPDATE: self.on_update,
            M.INTENT_WITHDRAW: self.on_withdraw,
            M.INTENT_DEFERRED: self.on_deferred,
            M.INTENT_CLAIM: self.on_claim,
            M.OP_PROPOSE: self.on_propose,
            M.OP_COMMIT: self.on_commit,
            M.OP_BATCH_COMMIT: self.on_batch,
            M.OP_REJECT: self.on_reject,
            M.OP_SUPERSEDE: self.on_supersede,
            M.CONFLICT_REPORT: self.on_report,
            M.CONFLICT_ACK: self.on_ack,
            M.CONFLICT_ESCALATE: self.on_escalate,
            M.RESOLUTION: self.on_resolution,
            M.PROTOCOL_ERROR: self._participant_error,
        }

    def _heartbeat(self, msg: ParsedMessage) -> bool:
        self.on_heartbeat(msg)
        return True

    def _goodbye(self, msg: ParsedMessage) -> bool:
        self.on_goodbye(msg)
        return True

    def _participant_error(self, msg: ParsedMessage) -> bool:
        self.note({"event": "participant_error", "from": msg.sender_id, "payload": msg.raw.get("payload")})
        return True

    # --- the receive pipeline ----------------------------------------------------------------

    def _collect(self) -> tuple[list[Outbound], list[dict[str, Any]]]:
        out, sock = self._out, self._socket
        self._out, self._socket = [], []
        return out, sock

    def handle(self, raw: Any, now: float, bound_principal: str | None = None) -> HandleResult:
        """Process one inbound frame at time `now`. Never raises on input."""
        self.now = max(self.now, now)
        self._disk = {}
        result = HandleResult()
        before = self.clock.value
        try:
            parsed = parse_message(raw, self.config.max_frame_bytes)
            if isinstance(parsed, ParseFailure):
                self._refuse_unparsed(parsed, bound_principal)
            else:
                self._pipeline(parsed, bound_principal, result)
        except Exception as exc:
            self._out, self._socket = [], []
            self.note({"event": "internal_error", "error": repr(exc)})
            self.error(ErrorCode.MALFORMED_MESSAGE, f"internal error while handling the message ({type(exc).__name__})", None, bound_principal)
            result.accepted = False
        result.outbound, result.reply_to_socket = self._collect()
        # Anything that touched the state advanced the Lamport clock; journal exactly those calls.
        result.changed = self.clock.value != before
        return result

    def _refuse_unparsed(self, f: ParseFailure, bound: str | None) -> None:
        # Outside the causal order: report with the current clock value, without advancing it.
        payload = {"error_code": str(f.code), "description": f.description, "refers_to": f.refers_to}
        lamport = self.clock.value
        env = {
            "protocol": "MPAC",
            "version": "0.1.15",
            "message_type": "PROTOCOL_ERROR",
            "message_id": f"{self.coordinator_id}:e{self.epoch}:{lamport}:err{self._unparsed}",
            "session_id": self.session_id,
            "sender": self.sender(),
            "ts": format_ts(self.now),
            "payload": {k: v for k, v in payload.items() if v is not None},
            "watermark": {"kind": "lamport_clock", "value": lamport},
            "coordinator_epoch": self.epoch,
        }
        if f.refers_to:
            env["in_reply_to"] = f.refers_to
        self._unparsed += 1
        if bound is not None:
            self._out.append(Outbound(env, To.only(bound)))
        else:
            self._socket.append(env)

    def _pipeline(self, msg: ParsedMessage, bound: str | None, result: HandleResult) -> None:
        env = msg.envelope
        sender = env.sender
        pid = sender.principal_id
        mtype = msg.message_type
        mid = env.message_id
        # A HELLO is answered on its own connection: its sender is not (yet) bound to it, and an
        # error must never be routed to another connection of the principal it names.
        reply_to = bound if bound is not None else (pid if pid in self.participants and mtype != M.HELLO else None)
        if env.session_id != self.session_id:
            self._refuse_unparsed(
                ParseFailure(ErrorCode.INVALID_REFERENCE, f"unknown session {env.session_id!r}; this is {self.session_id!r}", mid),
                bound,
            )
            return
        if bound is not None and pid != bound:
            self.error(
                ErrorCode.AUTHORIZATION_FAILED,
                f"this connection is admitted as {bound}; it cannot send as {pid}",
                mid,
                bound,
            )
            return
        if self.closed and mtype != M.GOODBYE:
            self.error(ErrorCode.SESSION_CLOSED, "the session is closed; only GOODBYE is accepted", mid, reply_to)
            return
        if self.config.security_profile != "open" and not self._replay_ok(msg, reply_to):
            return
        self.counters["messages_in"] += 1
        lamport = msg.lamport
        self.clock.receive(lamport)  # Lamport receive rule (§12.7 rule 3)
        self.frontier.record(pid, sender.sender_instance_id, self.now, lamport)
        if mtype == M.HELLO:
            if self.audit_chain.sink is not None:
                public = dict(msg.raw, payload={k: v for k, v in msg.raw["payload"].items() if k != "credential"})
                self.audit_chain.append({"at": self.now, "kind": "in", "message": public})
            admitted = self.on_hello(msg, bound)
            result.accepted = admitted is not None
            result.admitted = admitted
            return
        if pid not in self.participants:  # HELLO-first gate (§14.1)
            self.error(ErrorCode.INVALID_REFERENCE, f"{pid} has not joined this session: send HELLO first", mid, reply_to)
            return
        if mtype in COORDINATOR_ONLY_TYPES:
            self.error(ErrorCode.AUTHORIZATION_FAILED, f"only the coordinator sends {mtype}", mid, pid)
            return
        if mtype in WRITE_TYPES and set(self.participants[pid].roles) <= OBSERVER_ONLY:
            self.error(ErrorCode.AUTHORIZATION_FAILED, f"observers cannot send {mtype}; ask for the contributor role", mid, pid)
            return
        if mtype != M.GOODBYE:
            self.touch(pid, mid)
        handler = self.handlers.get(mtype)
        if self.audit_chain.sink is not None:
            self.audit_chain.append({"at": self.now, "kind": "in", "message": msg.raw})
        result.accepted = bool(handler(msg)) if handler is not None else False

    def _replay_ok(self, msg: ParsedMessage, reply_to: str | None) -> bool:
        ts = parse_ts(msg.envelope.ts) or 0.0
        window = self.config.replay_window_sec
        if msg.message_id in self.recent_ids:
            self.error(ErrorCode.REPLAY_DETECTED, f"message_id {msg.message_id!r} was already received", msg.message_id, reply_to)
            return False
        if abs(ts - self.now) > window:
            self.error(ErrorCode.REPLAY_DETECTED, f"ts is more than {int(window)} s away from the coordinator's clock", msg.message_id, reply_to)
            return False
        self.recent_ids.put(msg.message_id, ts)
        return True

    # --- timers ------------------------------------------------------------------------------

    def tick(self, now: float) -> TickResult:
        """Run every timer due at `now`: TTLs, deferrals, grace periods, liveness, status."""
        self.now = max(self.now, now)
        before = (self.clock.value, self._timer_signature())
        try:
            self.expire_intents()
            self.expire_deferrals()
            self.reject_after_grace()
            self.check_liveness()
            self.run_conflict_timers()
            self.approve_due_claims()
            ttl = self.config.session_ttl_sec
            if ttl > 0 and not self.closed and self.now >= self.created_at + ttl:
                self.close_session("timeout")
            if self.now >= self.next_status_at and not self.closed:
                self.coordinator_status("heartbeat")
                self.next_status_at = self.now + self.config.heartbeat_interval_sec
        except Exception as exc:
            self.note({"event": "internal_error", "error": repr(exc)})
        out, _ = self._collect()
        # Timer housekeeping (stale heap entries, re-armed liveness checks) changes the state too.
        return TickResult(out, changed=(self.clock.value, self._timer_signature()) != before)

    def _timer_signature(self) -> tuple:
        heaps = (self.expiry_heap, self.grace_heap, self.deferral_heap, self.liveness_heap, self.conflict_heap, self.claim_heap)
        return (*(len(h) for h in heaps), *(h[0] if h else None for h in heaps), self.next_status_at)

    def next_deadline(self) -> float | None:
        heaps = (self.expiry_heap, self.grace_heap, self.deferral_heap, self.liveness_heap, self.conflict_heap, self.claim_heap)
        heads = [h[0][0] for h in heaps if h]
        if not self.closed:
            heads.append(self.next_status_at)
            if self.config.session_ttl_sec > 0:
                heads.append(self.created_at + self.config.session_ttl_sec)
        return min(heads) if heads else None

    def close(self, now: float, reason: str = "manual") -> list[Outbound]:
        """Close the session (transport's idle timeout or shutdown); returns SESSION_CLOSE."""
        self.now = max(self.now, now)
        self.close_session(reason)
        out, _ = self._collect()
        return out

    def disconnected(self, principal_id: str, now: float) -> TickResult:
        """The transport lost the last connection of `principal_id` (no GOODBYE): its presence
        changes at once (COORDINATOR_STATUS with `extensions["mpac-bridge"].presence`)."""
        self.now = max(self.now, now)
        try:
            changed = self.connection_lost(principal_id)
        except Exception as exc:
            self._out, self._socket = [], []
            self.note({"event": "internal_error", "error": repr(exc)})
            changed = False
        out, _ = self._collect()
        return TickResult(out, changed=changed)

    def recover(self, now: float, epoch: int | None = None) -> list[Outbound]:
        """After restore: a new epoch, and COORDINATOR_STATUS event=recovered to everyone. The new
        epoch is the snapshot's + 1, or `epoch` when that is larger (a fleet node serves under the
        epoch its session lease gave it, like a handover's next_coordinator_epoch, §8.1.1.3)."""
        self.now = max(self.now, now)
        self.epoch = max(self.epoch + 1, epoch or 0)
        self.recovered_at = self.now
        for pid in [p for p, part in self.participants.items() if part.transient]:
            del self.participants[pid]  # no connection survives a restart; probes leave no trace
        for part in self.participants.values():  # everyone must show a sign of life again
            self.push(self.liveness_heap, self.now + self.config.unavailability_timeout_sec, part.principal_id)
            part.last_seen = max(part.last_seen, self.now)
            part.connected = False  # until it rejoins: no connection survives a restart
        self.coordinator_status("recovered")
        out, _ = self._collect()
        return out

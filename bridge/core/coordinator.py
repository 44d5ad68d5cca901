"""The pure coordinator: `handle(raw, now)` and `tick(now)` return the messages to send.

No sockets, no event loop, no clock reads. Everything it needs arrives as arguments, so the same
inputs always give the same outputs (which is what makes journal replay exact).

The Coordinator is the core's public entry. It owns one SessionState and assembles the layers
around it, each given what it uses in its constructor (docs/architecture.md, "Inside the core"):
status, frozen scopes, late join, conflicts and deferrals at the bottom; operations; intents;
claims; liveness, governance and session on top. It parses, gates (session, binding, replay,
HELLO first, roles) and dispatches each message, and runs the timers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.core.audit import AuditChain
from bridge.core.audit import Sink as AuditSink
from bridge.core.auth import CredentialVerifier
from bridge.core.batches import BatchLayer
from bridge.core.claims import ClaimLayer
from bridge.core.commits import CommitChecks, StateRefLookup
from bridge.core.compact import same
from bridge.core.config import CoordinatorConfig
from bridge.core.conflicts import ConflictLayer
from bridge.core.deferrals import DeferralLayer
from bridge.core.emit import Emitter
from bridge.core.frozen import FrozenScopes
from bridge.core.governance import GovernanceLayer
from bridge.core.intents import IntentLayer
from bridge.core.landing import Landing
from bridge.core.latejoin import LateJoin
from bridge.core.liveness import LivenessLayer
from bridge.core.operations import OperationLayer
from bridge.core.outbound import HandleResult, Outbound, TickResult
from bridge.core.session import SessionLayer
from bridge.core.snapshot import restore_into, snapshot
from bridge.core.state import SessionState
from bridge.core.status import Status
from bridge.protocol.codes import ErrorCode
from bridge.protocol.enums import COORDINATOR_ONLY_TYPES, MessageType
from bridge.protocol.frames import ParseFailure
from bridge.protocol.read import WireMessage, read_message
from bridge.protocol.stamps import parse_ts

M = MessageType
Handler = Callable[[WireMessage], bool]
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


class Coordinator:
    def __init__(
        self,
        config: CoordinatorConfig | None = None,
        session_id: str = "session",
        now: float = 0.0,
        state_ref_lookup: StateRefLookup | None = None,
        credential_verifier: CredentialVerifier | None = None,
        audit: AuditSink | None = None,
    ) -> None:
        self.config = config or CoordinatorConfig()
        self.state = st = SessionState(self.config, session_id, now)
        self._emitter = emitter = Emitter(st, AuditChain(audit))
        # The layers, bottom up: each is given the layers it calls, and nothing else.
        self._status = status = Status(st, emitter)
        self._latejoin = latejoin = LateJoin(st, emitter)
        frozen = FrozenScopes(st, emitter)
        self._checks = checks = CommitChecks(st, Landing(st), state_ref_lookup)
        conflicts = ConflictLayer(st, emitter)
        self._deferrals = deferrals = DeferralLayer(st, emitter)
        self._operations = operations = OperationLayer(
            st, emitter, status, checks, frozen, conflicts
        )
        batches = BatchLayer(st, emitter, checks, frozen, operations)
        self._intents = intents = IntentLayer(st, emitter, frozen, conflicts, operations, deferrals)
        self._claims = claims = ClaimLayer(st, emitter, intents, operations)
        self._liveness = liveness = LivenessLayer(st, emitter, status, intents, operations, claims)
        self._governance = governance = GovernanceLayer(st, emitter, conflicts, intents, operations)
        self._session = session = SessionLayer(
            st,
            emitter,
            status,
            intents,
            operations,
            claims,
            liveness,
            latejoin,
            credential_verifier,
        )
        self._handlers: dict[MessageType, Handler] = {
            M.HEARTBEAT: session.on_heartbeat,
            M.GOODBYE: session.on_goodbye,
            M.INTENT_ANNOUNCE: intents.on_announce,
            M.INTENT_UPDATE: intents.on_update,
            M.INTENT_WITHDRAW: intents.on_withdraw,
            M.INTENT_DEFERRED: deferrals.on_deferred,
            M.INTENT_CLAIM: claims.on_claim,
            M.OP_PROPOSE: operations.on_propose,
            M.OP_COMMIT: operations.on_commit,
            M.OP_BATCH_COMMIT: batches.on_batch,
            M.OP_REJECT: operations.on_reject,
            M.OP_SUPERSEDE: operations.on_supersede,
            M.CONFLICT_REPORT: conflicts.on_report,
            M.CONFLICT_ACK: governance.on_ack,
            M.CONFLICT_ESCALATE: governance.on_escalate,
            M.RESOLUTION: governance.on_resolution,
            M.PROTOCOL_ERROR: self._participant_error,
        }

    # --- what the transport and the tests read -----------------------------------------------

    @property
    def session_id(self) -> str:
        return self.state.session_id

    @property
    def coordinator_id(self) -> str:
        return self.state.coordinator_id

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def closed(self) -> bool:
        return self.state.closed

    @property
    def now(self) -> float:
        """The session's clock: the latest `now` any call passed in."""
        return self.state.now

    @property
    def audit_chain(self) -> AuditChain:
        """The audit chain (the transport swaps its sink while it replays a journal)."""
        return self._emitter.audit

    def intent_state(self, intent_id: str) -> str | None:
        """The state of a live or remembered ended intent; None when the session never saw it."""
        return self.state.intent_state(intent_id)

    def compact_state(self) -> dict[str, Any]:
        """The live state as SESSION_INFO carries it (`extensions["mpac-bridge"].state`)."""
        return self._latejoin.compact_state()

    # --- the receive pipeline ----------------------------------------------------------------

    def handle(self, raw: Any, now: float, bound_principal: str | None = None) -> HandleResult:
        """Process one inbound frame at time `now`. Never raises on input."""
        st = self.state
        st.now = max(st.now, now)
        self._checks.forget_disk()
        result = HandleResult()
        before = st.clock.value
        try:
            parsed = read_message(raw, self.config.max_frame_bytes)
            if isinstance(parsed, ParseFailure):
                self._emitter.refuse_unparsed(parsed, bound_principal)
            else:
                self._pipeline(parsed, bound_principal, result)
        except Exception as exc:
            self._emitter.discard()
            self._emitter.note({"event": "internal_error", "error": repr(exc)})
            self._emitter.error(
                ErrorCode.MALFORMED_MESSAGE,
                f"internal error while handling the message ({type(exc).__name__})",
                None,
                bound_principal,
            )
            result.accepted = False
        result.outbound, result.reply_to_socket = self._emitter.collect()
        # Anything that touched the state advanced the Lamport clock; journal exactly those calls.
        result.changed = st.clock.value != before
        return result

    def _pipeline(self, msg: WireMessage, bound: str | None, result: HandleResult) -> None:
        st, emitter = self.state, self._emitter
        env = msg.envelope
        sender = env.sender
        pid = sender.principal_id
        mtype = msg.message_type
        mid = env.message_id
        # A HELLO is answered on its own connection: its sender is not (yet) bound to it, and an
        # error must never be routed to another connection of the principal it names.
        reply_to = (
            bound
            if bound is not None
            else (pid if pid in st.participants and mtype != M.HELLO else None)
        )
        if env.session_id != st.session_id:
            failure = ParseFailure(
                ErrorCode.INVALID_REFERENCE,
                f"unknown session {env.session_id!r}; this is {st.session_id!r}",
                mid,
            )
            self._emitter.refuse_unparsed(failure, bound)
            return
        if bound is not None and pid != bound:
            emitter.error(
                ErrorCode.AUTHORIZATION_FAILED,
                f"this connection is admitted as {bound}; it cannot send as {pid}",
                mid,
                bound,
            )
            return
        if st.closed and mtype != M.GOODBYE:
            emitter.error(
                ErrorCode.SESSION_CLOSED,
                "the session is closed; only GOODBYE is accepted",
                mid,
                reply_to,
            )
            return
        if self.config.security_profile != "open" and not self._replay_ok(msg, reply_to):
            return
        st.counters["messages_in"] += 1
        lamport = msg.lamport
        st.clock.receive(lamport)  # Lamport receive rule (§12.7 rule 3)
        st.frontier.record(pid, sender.sender_instance_id, st.now, lamport)
        if mtype == M.HELLO:
            if emitter.audit.sink is not None:
                emitter.received(
                    dict(
                        msg.raw,
                        payload={k: v for k, v in msg.raw["payload"].items() if k != "credential"},
                    )
                )
            admitted = self._session.on_hello(msg)
            result.accepted = admitted is not None
            result.admitted = admitted
            return
        if pid not in st.participants:  # HELLO-first gate (§14.1)
            emitter.error(
                ErrorCode.INVALID_REFERENCE,
                f"{pid} has not joined this session: send HELLO first",
                mid,
                reply_to,
            )
            return
        if mtype in COORDINATOR_ONLY_TYPES:
            emitter.error(
                ErrorCode.AUTHORIZATION_FAILED, f"only the coordinator sends {mtype}", mid, pid
            )
            return
        if mtype in WRITE_TYPES and set(st.participants[pid].roles) <= OBSERVER_ONLY:
            emitter.error(
                ErrorCode.AUTHORIZATION_FAILED,
                f"observers cannot send {mtype}; ask for the contributor role",
                mid,
                pid,
            )
            return
        if mtype != M.GOODBYE:
            self._liveness.touch(pid, mid)
        handler = self._handlers.get(mtype)
        emitter.received(msg.raw)
        result.accepted = bool(handler(msg)) if handler is not None else False

    def _replay_ok(self, msg: WireMessage, reply_to: str | None) -> bool:
        st = self.state
        ts = parse_ts(msg.envelope.ts) or 0.0
        window = self.config.replay_window_sec
        if msg.message_id in st.recent_ids:
            self._emitter.error(
                ErrorCode.REPLAY_DETECTED,
                f"message_id {msg.message_id!r} was already received",
                msg.message_id,
                reply_to,
            )
            return False
        if abs(ts - st.now) > window:
            text = f"ts is more than {int(window)} s away from the coordinator's clock"
            self._emitter.error(ErrorCode.REPLAY_DETECTED, text, msg.message_id, reply_to)
            return False
        # the envelope's own string (the intent record keeps the same one), not the model's copy
        st.recent_ids.put(same(msg.raw.get("message_id"), msg.message_id), ts)
        return True

    def _participant_error(self, msg: WireMessage) -> bool:
        self._emitter.note(
            {"event": "participant_error", "from": msg.sender_id, "payload": msg.raw.get("payload")}
        )
        return True

    # --- timers ------------------------------------------------------------------------------

    def tick(self, now: float) -> TickResult:
        """Run every timer due at `now`: TTLs, deferrals, grace periods, liveness, status."""
        st = self.state
        st.now = max(st.now, now)
        before = (st.clock.value, self._timer_signature())
        try:
            self._intents.expire()
            self._deferrals.expire()
            self._operations.reject_after_grace()
            self._liveness.check()
            self._governance.run_timers()
            self._claims.approve_due()
            ttl = self.config.session_ttl_sec
            if ttl > 0 and not st.closed and st.now >= st.created_at + ttl:
                self._session.close("timeout")
            if st.now >= st.next_status_at and not st.closed:
                self._status.coordinator_status("heartbeat")
                st.next_status_at = st.now + self.config.heartbeat_interval_sec
        except Exception as exc:
            self._emitter.note({"event": "internal_error", "error": repr(exc)})
        out, _ = self._emitter.collect()
        # Timer housekeeping (stale heap entries, re-armed liveness checks) changes the state too.
        return TickResult(out, changed=(st.clock.value, self._timer_signature()) != before)

    def _timer_signature(self) -> tuple[Any, ...]:
        return (*self.state.timers.signature(), self.state.next_status_at)

    def next_deadline(self) -> float | None:
        st = self.state
        heads = [when] if (when := st.timers.next_due()) is not None else []
        if not st.closed:
            heads.append(st.next_status_at)
            if self.config.session_ttl_sec > 0:
                heads.append(st.created_at + self.config.session_ttl_sec)
        return min(heads) if heads else None

    def close(self, now: float, reason: str = "manual") -> list[Outbound]:
        """Close the session (transport's idle timeout or shutdown); returns SESSION_CLOSE."""
        self.state.now = max(self.state.now, now)
        self._session.close(reason)
        out, _ = self._emitter.collect()
        return out

    def disconnected(self, principal_id: str, now: float) -> TickResult:
        """The transport lost the last connection of `principal_id` (no GOODBYE): its presence
        changes at once (COORDINATOR_STATUS with `extensions["mpac-bridge"].presence`)."""
        self.state.now = max(self.state.now, now)
        try:
            changed = self._liveness.connection_lost(principal_id)
        except Exception as exc:
            self._emitter.discard()
            self._emitter.note({"event": "internal_error", "error": repr(exc)})
            changed = False
        out, _ = self._emitter.collect()
        return TickResult(out, changed=changed)

    def recover(self, now: float, epoch: int | None = None) -> list[Outbound]:
        """After restore: a new epoch, and COORDINATOR_STATUS event=recovered to everyone. The new
        epoch is the snapshot's + 1, or `epoch` when that is larger (a fleet node serves under the
        epoch its session lease gave it, like a handover's next_coordinator_epoch, §8.1.1.3)."""
        self.state.now = max(self.state.now, now)
        self._session.recover(epoch)
        out, _ = self._emitter.collect()
        return out

    # --- snapshots ---------------------------------------------------------------------------

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """The whole state as JSON-ready data (bridge/core/snapshot.py). It shares lists and dicts
        with the live state, so encode it before the coordinator handles anything else."""
        return snapshot(self.state, self._emitter.audit, now)

    @classmethod
    def restore(
        cls,
        snap: dict[str, Any],
        config: CoordinatorConfig | None = None,
        *,
        state_ref_lookup: StateRefLookup | None = None,
        credential_verifier: CredentialVerifier | None = None,
        audit: AuditSink | None = None,
    ) -> Coordinator:
        """A coordinator in the state a snapshot holds (its own config unless one is given)."""
        ext = snap["mpac_bridge"]
        cfg = config or CoordinatorConfig.from_json(ext["config"])
        coord = cls(
            cfg, snap["session_id"], ext["created_at"], state_ref_lookup, credential_verifier, audit
        )
        restore_into(coord.state, coord.audit_chain, snap)
        return coord

"""Shared state and emit helpers of the coordinator; the layers are mixins over this base."""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from bridge.core.audit import AuditChain
from bridge.core.audit import Sink as AuditSink
from bridge.core.auth import CredentialVerifier
from bridge.core.config import CoordinatorConfig
from bridge.core.index import ScopeIndex
from bridge.core.outbound import Outbound, To
from bridge.core.records import Claim, Conflict, Deferral, Intent, Operation, Participant
from bridge.core.symbols import granular
from bridge.protocol.codes import ErrorCode
from bridge.protocol.envelope import build_envelope
from bridge.protocol.lamport import LamportClock, SenderFrontier
from bridge.protocol.registry import ResourceRegistry
from bridge.protocol.scope import NormScope, normalize_scope

EXT = "mpac-bridge"  # our extension namespace
StateRefLookup = Callable[[str], "str | None"]


class Bounded(OrderedDict):
    """An insertion-ordered map that forgets its oldest entries past `limit`."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class CoreBase:
    def _init_state(
        self,
        config: CoordinatorConfig,
        session_id: str,
        now: float,
        state_ref_lookup: StateRefLookup | None,
        credential_verifier: CredentialVerifier | None,
        audit: AuditSink | None,
    ) -> None:
        self.config = config
        self.session_id = session_id
        self.coordinator_id = config.coordinator_id(session_id)
        self.epoch = 1
        self.created_at = now
        self.recovered_at = now  # the last recovery: writes in flight get a new grace period
        self.now = now
        self.closed = False
        self.clock = LamportClock()
        self.frontier = SenderFrontier(config.history_limit)  # one entry per process run heard from
        self.state_ref_lookup = state_ref_lookup
        self.credential_verifier = credential_verifier
        self.audit_chain = AuditChain(audit)
        self.registry = ResourceRegistry(config.resource_registry)
        self.participants: dict[str, Participant] = {}
        self.intents: dict[str, Intent] = {}  # live: ACTIVE and SUSPENDED
        self.by_principal: dict[str, set[str]] = {}
        self.ended: Bounded = Bounded(config.history_limit)  # intent_id -> [principal, state]
        self.ops: dict[str, Operation] = {}  # PROPOSED and FROZEN
        self.ops_by_intent: dict[str, set[str]] = {}
        self.committed: Bounded = Bounded(config.history_limit)  # op_id -> Operation json
        self.targets: Bounded = Bounded(config.file_limit)  # target -> Target, least recently committed first
        self.conflicts: dict[str, Conflict] = {}  # not yet terminal
        self.conflicts_by_intent: dict[str, set[str]] = {}
        self.ended_conflicts: Bounded = Bounded(config.history_limit)  # conflict_id -> state
        self.deferrals: dict[str, Deferral] = {}
        self.deferrals_by_intent: dict[str, set[str]] = {}
        self.deferrals_by_principal: dict[str, set[str]] = {}  # deferring principal -> ids
        self.deferrals_by_watched: dict[str, set[str]] = {}  # watched principal -> ids
        self.claims: dict[str, Claim] = {}  # original_intent_id -> pending claim
        self.backoff: dict[str, list[float]] = {}  # "principal|resource" -> [until, interval]
        self.used_ids: Bounded = Bounded(config.history_limit * 2)  # "kind:id" -> owner
        self.recent_ids: Bounded = Bounded(50_000)  # replay window: message_id -> ts
        self.counters: dict[str, int] = {"conflict": 0, "resolution": 0, "messages_in": 0, "messages_out": 0}
        self.next_status_at = now + config.heartbeat_interval_sec
        self.index = ScopeIndex()
        self._norms: dict[str, NormScope] = {}
        # timer heaps (lazy deletion: an entry is checked against the record when it pops)
        self.expiry_heap: list[tuple[float, str]] = []
        self.grace_heap: list[tuple[float, str]] = []
        self.deferral_heap: list[tuple[float, str]] = []
        self.liveness_heap: list[tuple[float, str]] = []
        self.conflict_heap: list[tuple[float, str]] = []
        self.claim_heap: list[tuple[float, str]] = []
        self.frozen: set[str] = set()  # conflict ids whose scope is frozen
        self._out: list[Outbound] = []
        self._socket: list[dict[str, Any]] = []
        self._disk: dict[str, str | None] = {}  # disk lookups of the current call (one read per target)

    # --- helpers ----------------------------------------------------------------------------

    def norm(self, scope: dict[str, Any]) -> NormScope:
        return granular(normalize_scope(scope, self.registry if self.registry else None), self.config.symbol_granularity)

    def sender(self) -> dict[str, str]:
        return {
            "principal_id": self.coordinator_id,
            "principal_type": "service",
            "sender_instance_id": f"{self.coordinator_id}#e{self.epoch}",
        }

    def envelope(self, mtype: str, payload: dict[str, Any], *, in_reply_to: str | None = None) -> dict[str, Any]:
        lamport = self.clock.tick()
        self.counters["messages_out"] += 1
        return build_envelope(
            mtype,
            payload,
            session_id=self.session_id,
            sender=self.sender(),
            now=self.now,
            message_id=f"{self.coordinator_id}:e{self.epoch}:{lamport}",
            lamport=lamport,
            coordinator_epoch=self.epoch,
            in_reply_to=in_reply_to,
        )

    def emit(self, mtype: str, payload: dict[str, Any], to: To, *, in_reply_to: str | None = None) -> dict[str, Any]:
        env = self.envelope(mtype, payload, in_reply_to=in_reply_to)
        self._out.append(Outbound(env, to))
        if self.audit_chain.sink is not None:
            self.audit_chain.append({"at": self.now, "kind": "out", "to": list(to.principals) if to.principals else "all", "message": env})
        return env

    def relay(self, raw: dict[str, Any], to: To | None = None) -> None:
        self._out.append(Outbound(raw, to or To.ALL))

    def error(
        self,
        code: ErrorCode,
        description: str,
        refers_to: str | None,
        to: str | None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        payload: dict[str, Any] = {"error_code": str(code), "description": description, "refers_to": refers_to}
        if extensions:
            payload["extensions"] = extensions
        if to is None:
            self._socket.append(self.envelope("PROTOCOL_ERROR", payload, in_reply_to=refers_to))
        else:
            self.emit("PROTOCOL_ERROR", payload, To.only(to), in_reply_to=refers_to)

    def note(self, record: dict[str, Any]) -> None:
        """A coordinator decision, for the audit trail."""
        if self.audit_chain.sink is not None:
            self.audit_chain.append({"at": self.now, "kind": "decision", **record})

    def count(self, key: str) -> None:
        self.counters[key] = self.counters.get(key, 0) + 1

    def new_id(self, kind: str) -> str:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return f"{kind}-{self.session_id}-e{self.epoch}-{self.counters[kind]}"

    def id_taken(self, kind: str, ident: str) -> str | None:
        """The owner of a previously used id of this kind, or None."""
        return self.used_ids.get(f"{kind}:{ident}")

    def take_id(self, kind: str, ident: str, owner: str) -> None:
        self.used_ids.put(f"{kind}:{ident}", owner)

    @staticmethod
    def push(heap: list[tuple[float, str]], when: float, key: str) -> None:
        heapq.heappush(heap, (when, key))

    def roles_of(self, principal_id: str) -> set[str]:
        p = self.participants.get(principal_id)
        return set(p.roles) if p else set()

    def intent_state(self, intent_id: str) -> str | None:
        if intent_id in self.intents:
            return self.intents[intent_id].state
        ended = self.ended.get(intent_id)
        return ended[1] if ended else None

    def open_conflict_count(self) -> int:
        return len(self.conflicts)

    def available_count(self) -> int:
        return sum(1 for p in self.participants.values() if p.is_available and p.connected and not p.transient)

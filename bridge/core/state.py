"""SessionState: everything one session knows, and the indexes kept in step with it.

The state owns the records (participants, live intents, pending operations, open conflicts,
deferrals, claims), the bounded histories (ended intents and conflicts, committed operations, the
last commit of every file, used ids), the clock, the counters and the timers. It changes records
only through the few methods below that keep its indexes right (the scope index, and the
one-to-many maps from principals and intents); the layers decide *when* to call them. It sends
nothing and decides nothing: that is the layers' work.
"""

from __future__ import annotations

from typing import Any

from bridge.core.config import CoordinatorConfig
from bridge.core.index import ScopeIndex
from bridge.core.maps import Bounded, IdHistory, MultiIndex
from bridge.core.records import Claim, Conflict, Deferral, Intent, Operation, Participant, Target
from bridge.core.symbols import granular
from bridge.core.timers import Timers
from bridge.protocol.lamport import LamportClock, SenderFrontier
from bridge.protocol.registry import ResourceRegistry
from bridge.protocol.scope import NormScope, normalize_scope

RECENT_IDS = 50_000  # the anti-replay window keeps at most this many message ids


class SessionState:
    def __init__(self, config: CoordinatorConfig, session_id: str, now: float) -> None:
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
        self.registry = ResourceRegistry(config.resource_registry)
        limit = config.history_limit
        # records
        self.participants: dict[str, Participant] = {}
        self.intents: dict[str, Intent] = {}  # live: ACTIVE and SUSPENDED
        self.ops: dict[str, Operation] = {}  # PROPOSED and FROZEN
        self.conflicts: dict[str, Conflict] = {}  # not yet terminal
        self.deferrals: dict[str, Deferral] = {}
        self.claims: dict[str, Claim] = {}  # original_intent_id -> pending claim
        self.backoff: dict[str, list[float]] = {}  # "principal|resource" -> [until, interval]
        self.frozen: set[str] = set()  # conflict ids whose scope is frozen
        # bounded histories
        self.ended: Bounded[tuple[str, str]] = Bounded(limit)  # intent_id -> (principal, state)
        self.committed: Bounded[dict[str, Any]] = Bounded(limit)  # op_id -> Operation json
        # ref key (path, or path + NUL + worktree) -> its last commit, least recently committed first
        self.targets: Bounded[Target] = Bounded(config.file_limit)
        self.ended_conflicts: Bounded[str] = Bounded(limit)  # conflict_id -> state
        # used id -> owner: an intent's id as itself (the record's own string), another kind's as
        # (kind, id); "kind:id" in snapshots (`used_ids_json`, `load_used_ids`)
        self.used_ids: IdHistory[str] = IdHistory(limit * 2)
        self.recent_ids: IdHistory[float] = IdHistory(RECENT_IDS)  # replay window: message_id -> ts
        self.counters: dict[str, int] = {
            "conflict": 0,
            "resolution": 0,
            "messages_in": 0,
            "messages_out": 0,
        }
        self.next_status_at = now + config.heartbeat_interval_sec
        self.timers = Timers()
        # indexes (rebuilt from the records on restore, never snapshotted)
        self.index = ScopeIndex()
        self.norms = self.index.scopes  # live intent -> its normalized scope (one table)
        self.by_principal: MultiIndex[str, str] = MultiIndex()  # principal -> live intents
        self.ops_by_intent: MultiIndex[str, str] = MultiIndex()  # intent -> pending ops
        self.conflicts_by_intent: MultiIndex[str, str] = MultiIndex()  # intent -> open conflicts
        # observed intent / deferring principal / watched principal -> deferrals
        self.deferrals_by_intent: MultiIndex[str, str] = MultiIndex()
        self.deferrals_by_principal: MultiIndex[str, str] = MultiIndex()
        self.deferrals_by_watched: MultiIndex[str, str] = MultiIndex()

    # --- records and their indexes ---------------------------------------------------------

    def norm(self, scope: dict[str, Any]) -> NormScope:
        return granular(
            normalize_scope(scope, self.registry if self.registry else None),
            self.config.symbol_granularity,
        )

    def add_intent(self, intent: Intent, norm: NormScope) -> None:
        iid = intent.intent_id
        self.intents[iid] = intent
        self.index.add(iid, norm)  # and so in `norms`
        self.by_principal.add(intent.principal_id, iid)

    def rescope_intent(self, intent: Intent, norm: NormScope) -> None:
        self.index.add(intent.intent_id, norm)

    def remove_intent(self, intent: Intent) -> None:
        iid = intent.intent_id
        self.intents.pop(iid, None)
        self.index.remove(iid)  # and from `norms`
        self.by_principal.discard(intent.principal_id, iid)

    def add_op(self, op: Operation) -> None:
        self.ops[op.op_id] = op
        if op.intent_id:
            self.ops_by_intent.add(op.intent_id, op.op_id)

    def remove_op(self, op: Operation) -> None:
        self.ops.pop(op.op_id, None)
        if op.intent_id:
            self.ops_by_intent.discard(op.intent_id, op.op_id)

    def add_conflict(self, conflict: Conflict) -> None:
        self.conflicts[conflict.conflict_id] = conflict
        for iid in conflict.related_intents:
            self.conflicts_by_intent.add(iid, conflict.conflict_id)

    def remove_conflict(self, conflict: Conflict) -> None:
        cid = conflict.conflict_id
        self.conflicts.pop(cid, None)
        self.frozen.discard(cid)
        for iid in conflict.related_intents:
            self.conflicts_by_intent.discard(iid, cid)

    def add_deferral(self, d: Deferral) -> None:
        did = d.deferral_id
        self.deferrals[did] = d
        self.deferrals_by_principal.add(d.principal_id, did)
        for iid in d.observed_intent_ids:
            self.deferrals_by_intent.add(iid, did)
        for who in d.watch_principals:
            self.deferrals_by_watched.add(who, did)

    def remove_deferral(self, d: Deferral) -> None:
        did = d.deferral_id
        self.deferrals.pop(did, None)
        self.deferrals_by_principal.discard(d.principal_id, did)
        for iid in d.observed_intent_ids:
            self.deferrals_by_intent.discard(iid, did)
        for who in d.watch_principals:
            self.deferrals_by_watched.discard(who, did)

    # --- ids and counters --------------------------------------------------------------------

    def count(self, key: str) -> None:
        self.counters[key] = self.counters.get(key, 0) + 1

    def new_id(self, kind: str) -> str:
        """A coordinator-made id: derived from the session, the epoch and a counter (replayable)."""
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return f"{kind}-{self.session_id}-e{self.epoch}-{self.counters[kind]}"

    def id_taken(self, kind: str, ident: str) -> str | None:
        """The owner of a previously used id of this kind, or None."""
        return self.used_ids.get(ident if kind == "intent" else (kind, ident))

    def take_id(self, kind: str, ident: str, owner: str) -> None:
        self.used_ids.put(ident if kind == "intent" else (kind, ident), owner)

    def used_ids_json(self) -> list[list[str]]:
        out = []
        for key, owner in self.used_ids.items():
            pair: tuple[str, str] = ("intent", key) if type(key) is str else key  # type: ignore[assignment]
            out.append([f"{pair[0]}:{pair[1]}", owner])
        return out

    def load_used_ids(self, items: list[list[str]]) -> None:
        for key, owner in items:
            kind, _, ident = key.partition(":")
            self.take_id(kind, ident, owner)

    # --- queries -----------------------------------------------------------------------------

    def intent_state(self, intent_id: str) -> str | None:
        """The state of a live or remembered ended intent; None when the session never saw it."""
        intent = self.intents.get(intent_id)
        if intent is not None:
            return intent.state
        ended = self.ended.get(intent_id)
        return ended[1] if ended else None

    def roles_of(self, principal_id: str) -> set[str]:
        p = self.participants.get(principal_id)
        return set(p.roles) if p else set()

    def available_count(self) -> int:
        return sum(
            1
            for p in self.participants.values()
            if p.is_available and p.connected and not p.transient
        )

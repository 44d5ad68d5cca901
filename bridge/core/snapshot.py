"""Snapshot and restore: the whole session state as plain JSON (spec §8.1.1.2 fields and more)."""

from __future__ import annotations

import heapq
from typing import Any

from bridge.core.base import Bounded, CoreBase
from bridge.core.config import CoordinatorConfig
from bridge.core.records import Claim, Conflict, Deferral, Intent, Operation, Participant, Target
from bridge.protocol.envelope import PROTOCOL_VERSION, format_ts
from bridge.protocol.lamport import LamportClock, SenderFrontier
from bridge.protocol.worktree import ref_key

SNAPSHOT_VERSION = 1


def _bounded(items: list[list[Any]], limit: int) -> Bounded:
    b = Bounded(limit)
    for k, v in items:
        b.put(k, v)
    return b


class SnapshotMixin(CoreBase):
    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """The whole state as JSON-ready data. It shares lists and dicts with the live state, so
        encode it before the coordinator handles anything else."""
        at = self.now if now is None else now
        return {
            "snapshot_version": SNAPSHOT_VERSION,
            "session_id": self.session_id,
            "protocol_version": PROTOCOL_VERSION,
            "captured_at": format_ts(at),
            "captured_at_unix": at,
            "coordinator_epoch": self.epoch,
            "lamport_clock": self.clock.value,
            "anti_replay": {
                "replay_window_sec": self.config.replay_window_sec,
                "recent_message_ids": list(self.recent_ids.items()),
                "sender_frontier": self.frontier.to_json(),
            },
            "participants": [p.to_json() for p in self.participants.values()],
            "intents": [i.to_json() for i in self.intents.values()],
            "operations": [o.to_json() for o in self.ops.values()],
            "conflicts": [c.to_json() for c in self.conflicts.values()],
            "governance_policy": self.config.governance_policy(),
            "liveness_policy": self.config.liveness_policy(),
            "mpac_bridge": {
                "config": self.config.to_json(),
                "created_at": self.created_at,
                "recovered_at": self.recovered_at,
                "now": self.now,
                "closed": self.closed,
                "ended_intents": list(self.ended.items()),
                "committed_ops": list(self.committed.items()),
                "targets": [t.to_json() for t in self.targets.values()],
                "ended_conflicts": list(self.ended_conflicts.items()),
                "deferrals": [d.to_json() for d in self.deferrals.values()],
                "claims": [c.to_json() for c in self.claims.values()],
                "backoff": self.backoff,
                "used_ids": list(self.used_ids.items()),
                "counters": dict(self.counters),
                "next_status_at": self.next_status_at,
                "audit": self.audit_chain.state(),
                "timers": {
                    "expiry": self.expiry_heap,
                    "grace": self.grace_heap,
                    "deferral": self.deferral_heap,
                    "liveness": self.liveness_heap,
                    "conflict": self.conflict_heap,
                    "claim": self.claim_heap,
                },
            },
        }

    @classmethod
    def restore(
        cls,
        snap: dict[str, Any],
        config: CoordinatorConfig | None = None,
        *,
        state_ref_lookup: Any = None,
        credential_verifier: Any = None,
        audit: Any = None,
    ) -> Any:
        ext = snap["mpac_bridge"]
        cfg = config or CoordinatorConfig.from_json(ext["config"])
        self = cls(cfg, snap["session_id"], ext["created_at"], state_ref_lookup, credential_verifier, audit)
        self.now = ext["now"]
        self.recovered_at = ext.get("recovered_at", ext["created_at"])
        self.epoch = snap["coordinator_epoch"]
        self.clock = LamportClock(snap["lamport_clock"])
        self.closed = ext["closed"]
        anti = snap.get("anti_replay", {})
        self.frontier = SenderFrontier.from_json(anti.get("sender_frontier", {}), cfg.history_limit)
        self.recent_ids = _bounded(anti.get("recent_message_ids", []), 50_000)
        self.participants = {p["principal_id"]: Participant.from_json(p) for p in snap["participants"]}
        for raw in snap["intents"]:
            intent = Intent.from_json(raw)
            self.intents[intent.intent_id] = intent
            norm = self.norm(intent.scope)
            self._norms[intent.intent_id] = norm
            self.index.add(intent.intent_id, norm)
            self.by_principal.setdefault(intent.principal_id, set()).add(intent.intent_id)
        for raw in snap["operations"]:
            op = Operation.from_json(raw)
            self.ops[op.op_id] = op
            if op.intent_id:
                self.ops_by_intent.setdefault(op.intent_id, set()).add(op.op_id)
        for raw in snap["conflicts"]:
            c = Conflict.from_json(raw)
            self.conflicts[c.conflict_id] = c
            if c.frozen_at is not None:
                self.frozen.add(c.conflict_id)
            for iid in c.related_intents:
                self.conflicts_by_intent.setdefault(iid, set()).add(c.conflict_id)
        limit = cfg.history_limit
        self.ended = _bounded(ext["ended_intents"], limit)
        self.committed = _bounded(ext["committed_ops"], limit)
        self.targets = _bounded([[ref_key(t["target"], t.get("worktree")), Target.from_json(t)] for t in ext["targets"]], cfg.file_limit)
        self.ended_conflicts = _bounded(ext["ended_conflicts"], limit)
        for raw in ext["deferrals"]:
            d = Deferral.from_json(raw)
            self.deferrals[d.deferral_id] = d
            self.deferrals_by_principal.setdefault(d.principal_id, set()).add(d.deferral_id)
            for iid in d.observed_intent_ids:
                self.deferrals_by_intent.setdefault(iid, set()).add(d.deferral_id)
            for who in d.watch_principals:
                self.deferrals_by_watched.setdefault(who, set()).add(d.deferral_id)
        self.claims = {c["original_intent_id"]: Claim.from_json(c) for c in ext["claims"]}
        self.backoff = {k: list(v) for k, v in ext["backoff"].items()}
        self.used_ids = _bounded(ext["used_ids"], limit * 2)
        self.counters = dict(ext["counters"])
        self.next_status_at = ext["next_status_at"]
        chain = ext.get("audit") or {}
        self.audit_chain.seq, self.audit_chain.head = chain.get("seq", 0), chain.get("head", self.audit_chain.head)
        timers = ext["timers"]
        names = ("expiry", "grace", "deferral", "liveness", "conflict", "claim")
        for name in names:
            heap = [(float(w), str(k)) for w, k in timers.get(name, [])]
            attr = f"{name}_heap"
            heapq.heapify(heap)
            setattr(self, attr, heap)
        return self

"""Snapshot and restore: the whole session state as plain JSON (spec §8.1.1.2 fields and more).

The format is versioned (`snapshot_version`); the indexes are not in it, they are rebuilt from the
records on restore. A snapshot written by an older core restores (tests/core/test_golden.py holds
one written before the core was split into layers).
"""

from __future__ import annotations

from typing import Any

from bridge.core.audit import AuditChain
from bridge.core.compact import thaw
from bridge.core.maps import Bounded
from bridge.core.records import Claim, Conflict, Deferral, Intent, Operation, Participant, Target
from bridge.core.state import SessionState
from bridge.core.timers import Timers
from bridge.protocol.constants import PROTOCOL_VERSION
from bridge.protocol.lamport import LamportClock, SenderFrontier
from bridge.protocol.stamps import format_ts
from bridge.protocol.worktree import ref_key

SNAPSHOT_VERSION = 1


def _bounded(items: list[Any], limit: int) -> Bounded[Any]:
    b: Bounded[Any] = Bounded(limit)
    for k, v in items:
        b.put(k, v)
    return b


def snapshot(st: SessionState, audit: AuditChain, now: float | None = None) -> dict[str, Any]:
    """The whole state as JSON-ready data. It shares lists and dicts with the live state, so
    encode it before the coordinator handles anything else."""
    at = st.now if now is None else now
    config = st.config
    return {
        "snapshot_version": SNAPSHOT_VERSION,
        "session_id": st.session_id,
        "protocol_version": PROTOCOL_VERSION,
        "captured_at": format_ts(at),
        "captured_at_unix": at,
        "coordinator_epoch": st.epoch,
        "lamport_clock": st.clock.value,
        "anti_replay": {
            "replay_window_sec": config.replay_window_sec,
            "recent_message_ids": list(st.recent_ids.items()),
            "sender_frontier": st.frontier.to_json(),
        },
        "participants": [p.to_json() for p in st.participants.values()],
        "intents": [i.to_json() for i in st.intents.values()],
        "operations": [o.to_json() for o in st.ops.values()],
        "conflicts": [c.to_json() for c in st.conflicts.values()],
        "governance_policy": config.governance_policy(),
        "liveness_policy": config.liveness_policy(),
        "mpac_bridge": {
            "config": config.to_json(),
            "created_at": st.created_at,
            "recovered_at": st.recovered_at,
            "now": st.now,
            "closed": st.closed,
            "ended_intents": list(st.ended.items()),
            "committed_ops": list(st.committed.items()),
            "targets": [t.to_json() for t in st.targets.values()],
            "ended_conflicts": list(st.ended_conflicts.items()),
            "deferrals": [d.to_json() for d in st.deferrals.values()],
            "claims": [c.to_json() for c in st.claims.values()],
            "backoff": st.backoff,
            "used_ids": st.used_ids_json(),
            "counters": dict(st.counters),
            "next_status_at": st.next_status_at,
            "audit": audit.state(),
            "timers": st.timers.to_json(),
        },
    }


def restore_into(st: SessionState, audit: AuditChain, snap: dict[str, Any]) -> None:
    """Fill a fresh state (built with the snapshot's session id, creation time and config) and
    the audit chain's position from a snapshot; the indexes are rebuilt from the records."""
    ext = snap["mpac_bridge"]
    config = st.config
    limit = config.history_limit
    st.now = ext["now"]
    st.recovered_at = ext.get("recovered_at", ext["created_at"])
    st.epoch = snap["coordinator_epoch"]
    st.clock = LamportClock(snap["lamport_clock"])
    st.closed = ext["closed"]
    anti = snap.get("anti_replay", {})
    st.frontier = SenderFrontier.from_json(anti.get("sender_frontier", {}), limit)
    for mid, ts in anti.get("recent_message_ids", []):
        st.recent_ids.put(mid, ts)
    st.participants = {p["principal_id"]: Participant.from_json(p) for p in snap["participants"]}
    for raw in snap["intents"]:
        intent = Intent.from_json(raw)
        st.add_intent(intent, st.norm(thaw(intent.scope)))
    for raw in snap["operations"]:
        st.add_op(Operation.from_json(raw))
    for raw in snap["conflicts"]:
        c = Conflict.from_json(raw)
        st.add_conflict(c)
        if c.frozen_at is not None:
            st.frozen.add(c.conflict_id)
    st.ended = _bounded([(k, tuple(v)) for k, v in ext["ended_intents"]], limit)
    st.committed = _bounded(ext["committed_ops"], limit)
    st.targets = _bounded(
        [[ref_key(t["target"], t.get("worktree")), Target.from_json(t)] for t in ext["targets"]],
        config.file_limit,
    )
    st.ended_conflicts = _bounded(ext["ended_conflicts"], limit)
    for raw in ext["deferrals"]:
        st.add_deferral(Deferral.from_json(raw))
    st.claims = {c["original_intent_id"]: Claim.from_json(c) for c in ext["claims"]}
    st.backoff = {k: list(v) for k, v in ext["backoff"].items()}
    st.load_used_ids(ext["used_ids"])
    st.counters = dict(ext["counters"])
    st.next_status_at = ext["next_status_at"]
    chain = ext.get("audit") or {}
    audit.seq, audit.head = chain.get("seq", 0), chain.get("head", audit.head)
    st.timers = Timers.from_json(ext["timers"])

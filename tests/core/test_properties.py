"""Property tests of the coordinator: random message sequences never raise and keep every object
in a legal state; snapshot/restore and journal replay reproduce the same behaviour."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.core import Coordinator, CoordinatorConfig
from bridge.protocol.enums import ConflictState, IntentState, OpState
from bridge.protocol.states import CONFLICT_TABLE, INTENT_TABLE, OP_TABLE, legal_states

from .helpers import T0, msg

PRINCIPALS = ["agent:a", "agent:b", "human:c"]
FILES = ["a.py", "./a.py", "b.py", "src/c.py", "src/d.py"]
IDS = ["i1", "i2", "i3", "i4"]
OPS = ["o1", "o2", "o3"]
SCOPES = st.one_of(
    st.lists(st.sampled_from(FILES), min_size=1, max_size=2).map(
        lambda r: {"kind": "file_set", "resources": r}
    ),
    st.sampled_from(["src/*", "**", "b.*"]).map(lambda p: {"kind": "resource_path", "pattern": p}),
    st.sampled_from([["e1"], ["e1", "e2"]]).map(lambda e: {"kind": "entity_set", "entities": e}),
)
REF = st.sampled_from([None, "sha256:0", "sha256:1", "sha256:2"])


def payloads() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    return st.one_of(
        st.tuples(
            st.just("HELLO"),
            st.sampled_from([["contributor"], ["arbiter"], ["observer"], ["participant"]]).map(
                lambda r: {"display_name": "x", "roles": r, "capabilities": []}
            ),
        ),
        st.tuples(
            st.just("HEARTBEAT"), st.sampled_from(["idle", "working"]).map(lambda s: {"status": s})
        ),
        st.tuples(
            st.just("GOODBYE"),
            st.sampled_from(["withdraw", "transfer", "expire"]).map(
                lambda d: {"reason": "user_exit", "intent_disposition": d}
            ),
        ),
        st.tuples(
            st.just("INTENT_ANNOUNCE"),
            st.builds(
                lambda i, s, t: {"intent_id": i, "objective": "o", "scope": s, "ttl_sec": t},
                st.sampled_from(IDS),
                SCOPES,
                st.sampled_from([5, 50, 500]),
            ),
        ),
        st.tuples(
            st.just("INTENT_UPDATE"),
            st.builds(lambda i, s: {"intent_id": i, "scope": s}, st.sampled_from(IDS), SCOPES),
        ),
        st.tuples(st.just("INTENT_WITHDRAW"), st.sampled_from(IDS).map(lambda i: {"intent_id": i})),
        st.tuples(
            st.just("INTENT_ANNOUNCE"),
            st.builds(
                lambda i, s, sup: {
                    "intent_id": i,
                    "objective": "o",
                    "scope": s,
                    "supersedes_intent_id": sup,
                },
                st.sampled_from(IDS),
                SCOPES,
                st.sampled_from(IDS),
            ),
        ),
        st.tuples(
            st.just("INTENT_DEFERRED"),
            st.builds(
                lambda d, s, o, w: {
                    "deferral_id": d,
                    "scope": s,
                    "observed_intent_ids": o,
                    "observed_principals": w,
                },
                st.sampled_from(["d1", "d2"]),
                SCOPES,
                st.lists(st.sampled_from(IDS + PRINCIPALS), max_size=2),
                st.lists(st.sampled_from(PRINCIPALS), max_size=1),
            ),
        ),
        st.tuples(
            st.just("INTENT_CLAIM"),
            st.builds(
                lambda o, n, s: {
                    "claim_id": f"c-{o}-{n}",
                    "original_intent_id": o,
                    "original_principal_id": "agent:a",
                    "new_intent_id": n,
                    "objective": "take",
                    "scope": s,
                },
                st.sampled_from(IDS),
                st.sampled_from(IDS),
                SCOPES,
            ),
        ),
        st.tuples(
            st.just("OP_PROPOSE"),
            st.builds(
                lambda o, i, t: {"op_id": o, "intent_id": i, "target": t, "op_kind": "replace"},
                st.sampled_from(OPS),
                st.sampled_from(IDS),
                st.sampled_from(FILES),
            ),
        ),
        st.tuples(
            st.just("OP_COMMIT"),
            st.builds(
                lambda o, i, t, b, a: {
                    "op_id": o,
                    "intent_id": i,
                    "target": t,
                    "op_kind": "replace",
                    "state_ref_before": b,
                    "state_ref_after": a,
                },
                st.sampled_from(OPS),
                st.sampled_from(IDS),
                st.sampled_from(FILES),
                REF,
                REF,
            ),
        ),
        st.tuples(
            st.just("OP_BATCH_COMMIT"),
            st.builds(
                lambda b, i, a, entries: {
                    "batch_id": b,
                    "intent_id": i,
                    "atomicity": a,
                    "operations": [
                        {
                            "op_id": o,
                            "target": t,
                            "op_kind": "replace",
                            "state_ref_before": rb,
                            "state_ref_after": ra,
                        }
                        for o, t, rb, ra in entries
                    ],
                },
                st.sampled_from(["b1", "b2"]),
                st.sampled_from(IDS),
                st.sampled_from(["all_or_nothing", "best_effort"]),
                st.lists(
                    st.tuples(st.sampled_from(OPS), st.sampled_from(FILES), REF, REF),
                    min_size=1,
                    max_size=3,
                ),
            ),
        ),
        st.tuples(
            st.just("OP_SUPERSEDE"),
            st.builds(
                lambda o, old, i, t, a: {
                    "op_id": o,
                    "supersedes_op_id": old,
                    "intent_id": i,
                    "target": t,
                    "op_kind": "replace",
                    "state_ref_after": a,
                },
                st.sampled_from(OPS),
                st.sampled_from(OPS),
                st.sampled_from(IDS),
                st.sampled_from(FILES),
                REF,
            ),
        ),
        st.tuples(
            st.just("CONFLICT_ESCALATE"),
            st.builds(
                lambda n: {
                    "conflict_id": f"conflict-s1-e1-{n}",
                    "escalate_to": "human:c",
                    "reason": "stuck",
                },
                st.integers(1, 3),
            ),
        ),
        st.tuples(
            st.just("OP_REJECT"), st.sampled_from(OPS).map(lambda o: {"op_id": o, "reason": "no"})
        ),
        st.tuples(
            st.just("CONFLICT_ACK"),
            st.builds(
                lambda n, a: {"conflict_id": f"conflict-s1-e1-{n}", "ack_type": a},
                st.integers(1, 3),
                st.sampled_from(["seen", "accepted", "disputed"]),
            ),
        ),
        st.tuples(
            st.just("RESOLUTION"),
            st.builds(
                lambda n, d, r: {
                    "conflict_id": f"conflict-s1-e1-{n}",
                    "decision": d,
                    "rationale": "r",
                    "outcome": {"rejected": r},
                },
                st.integers(1, 3),
                st.sampled_from(["approved", "rejected", "dismissed"]),
                st.lists(st.sampled_from(IDS + OPS), max_size=2),
            ),
        ),
        st.tuples(st.just("GARBAGE"), st.just({})),
    )


steps = st.lists(
    st.tuples(st.sampled_from(PRINCIPALS), payloads(), st.sampled_from([0.0, 1.0, 20.0, 100.0])),
    min_size=1,
    max_size=40,
)
CONFIG = CoordinatorConfig(unavailability_timeout_sec=60)


def run(
    coord: Coordinator, seq: list, start: float, journal: list | None = None
) -> list[list[dict]]:
    now = start
    outputs = []
    for n, (pid, (mtype, payload), dt) in enumerate(seq):
        now += dt
        if dt:
            t = coord.tick(now)
            outputs.append([o.message for o in t.outbound])
            if journal is not None and t.changed:
                journal.append(("tick", now, None))
        raw: Any = (
            "{garbage"
            if mtype == "GARBAGE"
            else msg(mtype, pid, payload, now=now, mid=f"m{n}", lamport=n + 1)
        )
        r = coord.handle(raw, now)
        outputs.append([o.message for o in r.outbound] + r.reply_to_socket)
        if journal is not None and r.changed:
            journal.append(("handle", now, raw))
    return outputs


def comparable(outputs: list[list[dict]]) -> list[list[dict]]:
    """Replies to unparseable frames sit outside the session's order; their ids are not compared."""
    return [
        [{k: v for k, v in m.items() if not (k == "message_id" and ":err" in v)} for m in out]
        for out in outputs
    ]


def legal(coord: Coordinator) -> None:
    for intent in coord.state.intents.values():
        assert intent.state in (IntentState.ACTIVE, IntentState.SUSPENDED)
        assert intent.state in legal_states(INTENT_TABLE)
        assert intent.intent_id in coord.state.index
    for _iid, (_owner, state) in coord.state.ended.items():
        assert state in legal_states(INTENT_TABLE)
    for op in coord.state.ops.values():
        assert op.state in (OpState.PROPOSED, OpState.FROZEN)
    for rec in coord.state.committed.values():
        assert rec["state"] in legal_states(OP_TABLE)
    for c in coord.state.conflicts.values():
        assert c.state in (ConflictState.OPEN, ConflictState.ACKED, ConflictState.ESCALATED)
        assert c.state in legal_states(CONFLICT_TABLE)
    assert set(coord.state.index.scopes) == set(coord.state.intents)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps)
def test_random_sequences_never_raise_and_stay_legal(seq: list) -> None:
    coord = Coordinator(CONFIG, "s1", T0)
    for out in run(coord, seq, T0):
        for m in out:
            json.dumps(m)
            if m["message_type"] == "PROTOCOL_ERROR":
                assert "internal error" not in m["payload"]["description"], m
    legal(coord)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps, steps)
def test_snapshot_restore_gives_the_same_future(first: list, second: list) -> None:
    a = Coordinator(CONFIG, "s1", T0)
    run(a, first, T0)
    snap = json.loads(json.dumps(a.snapshot()))
    b = Coordinator.restore(snap)
    start = a.now
    assert comparable(run(a, second, start)) == comparable(run(b, second, start))
    assert json.dumps(a.snapshot(), sort_keys=True) == json.dumps(b.snapshot(), sort_keys=True)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps)
def test_replaying_the_changed_calls_reproduces_the_state(seq: list) -> None:
    journal: list = []
    a = Coordinator(CONFIG, "s1", T0)
    run(a, seq, T0, journal)
    b = Coordinator(CONFIG, "s1", T0)
    for kind, now, raw in journal:
        if kind == "tick":
            b.tick(now)
        else:
            b.handle(raw, now)
    assert state_of(a) == state_of(b)


def state_of(coord: Coordinator) -> str:
    """The snapshot minus the capture time (calls that changed nothing still move the clock)."""
    snap = coord.snapshot(0.0)
    snap["mpac_bridge"].pop("now")
    return json.dumps(snap, sort_keys=True)

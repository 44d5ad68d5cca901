"""A live intent keeps of its INTENT_ANNOUNCE only what its record does not hold (issue 17), and
gives back exactly the announce it was sent: to late joiners, in snapshots, after restores."""

from __future__ import annotations

import copy
import gc
import json
import math
import weakref
from pathlib import Path
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from bridge.core import Coordinator
from bridge.core.compact import pack, unpack
from bridge.core.residual import _SHAPES
from bridge.protocol import codec

from .helpers import T0, Session, fs, msg

OLD_SNAPSHOT = Path(__file__).parent / "fixtures" / "snapshot_announces_kept_whole.json"


def wire(value: Any) -> str:
    """Key order, types (1, 1.0 and true differ), NaN and lone surrogates all show."""
    return json.dumps(value, allow_nan=True)


def replayed_announces(s: Session) -> dict[str, dict[str, Any]]:
    late = s.join(f"agent:late{len(s.coord.state.participants)}")
    return {
        o.message["payload"]["intent_id"]: o.message
        for o in late.outbound
        if o.message["message_type"] == "INTENT_ANNOUNCE"
    }


def test_a_plain_announce_keeps_only_its_residual_and_replays_exactly() -> None:
    s = Session()
    s.join("agent:a")
    sent = [
        msg(
            "INTENT_ANNOUNCE",
            "agent:a",
            {"intent_id": f"i{n}", "objective": "o", "scope": fs(f"src/{n}.py"), "ttl_sec": 60},
            lamport=n + 2,
        )
        for n in range(3)
    ]
    for m in sent:
        s.coord.handle(copy.deepcopy(m), T0)
    intents = [s.coord.state.intents[f"i{n}"] for n in range(3)]
    assert all(type(i.announce) is bytes and len(i.announce) < 60 for i in intents)
    assert intents[0]._shape is intents[1]._shape is intents[2]._shape  # one shape for the three
    replay = replayed_announces(s)
    for n, m in enumerate(sent):
        assert wire(replay[f"i{n}"]) == wire(m)
        assert codec.encode(replay[f"i{n}"]) == codec.encode(m)


def test_an_update_keeps_the_announce_whole_and_replays_both() -> None:
    s = Session()
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py")
    original = s.coord.state.intents["i1"].announce_envelope()
    r = s.send(
        "agent:a", "INTENT_UPDATE", {"intent_id": "i1", "objective": "new", "scope": fs("b.py")}
    )
    intent = s.coord.state.intents["i1"]
    assert intent._shape is None and intent.objective == "new"
    assert intent.latest_message_id() == r.outbound[0].message["message_id"]
    assert wire(replayed_announces(s)["i1"]) == wire(original)
    restored = Coordinator.restore(s.coord.snapshot())
    assert wire(restored.state.intents["i1"].announce_envelope()) == wire(original)


def test_shapes_are_forgotten_with_their_last_intent() -> None:
    s = Session()
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py", extensions={"only-here": {"k": 1}})
    shape = s.coord.state.intents["i1"]._shape
    assert shape is not None and any(v is shape for v in _SHAPES.values())
    ref = weakref.ref(shape)
    del shape
    s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    gc.collect()
    assert ref() is None


def test_past_the_shape_limit_announces_are_kept_whole(monkeypatch: Any) -> None:
    from bridge.core import residual

    s = Session()
    s.join("agent:a")
    gc.collect()  # the shapes of earlier tests' sessions go now, not during this test
    monkeypatch.setattr(residual, "SHAPES_MAX", len(_SHAPES) + 2)
    for n in range(4):  # a new key in every announce: a new shape each time
        s.announce("agent:a", f"i{n}", f"{n}.py", **{f"x{n}": 1})
    kept = [s.coord.state.intents[f"i{n}"]._shape is not None for n in range(4)]
    assert kept == [True, True, False, False]
    assert [m["payload"][f"x{n}"] for n, m in enumerate(replayed_announces(s).values())] == [1] * 4


def test_a_snapshot_of_the_old_kept_forms_restores_and_replays_the_same_announces() -> None:
    """The fixture was written by the core that kept every announce whole (bytes or tuples)."""
    snap = json.loads(OLD_SNAPSHOT.read_text())
    coord = Coordinator.restore(snap)
    want = {i["intent_id"]: i["announce"] for i in snap["intents"]}
    got = {iid: i.announce_envelope() for iid, i in coord.state.intents.items()}
    assert [wire(got[k]) for k in sorted(want)] == [wire(want[k]) for k in sorted(want)]
    assert coord.state.intents["plain"]._shape is not None  # restored into the compact form
    again = coord.snapshot(snap["captured_at_unix"])
    assert wire(again["intents"]) == wire(snap["intents"])


# --- every announce the core accepts -------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and the infinities too: kept and given back as they were
    st.text(max_size=8),
    st.sampled_from(["\udc80", "é ☃", "file_set", "MPAC"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
SCOPE = st.one_of(
    st.lists(st.sampled_from(["a.py", "src/b.py", "./c.py", "d/é.py"]), min_size=1, max_size=3).map(
        fs
    ),
    st.just({"resources": ["x.py"], "kind": "file_set"}),  # keys in another order
    st.builds(lambda p: {"kind": "resource_path", "pattern": p}, st.sampled_from(["src/*", "**"])),
    st.builds(
        lambda e: {"kind": "entity_set", "entities": e},
        st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=2),
    ),
    st.builds(lambda x: {"kind": "file_set", "resources": ["y.py"], "extra": x}, JSON),
)
OPTIONAL = st.fixed_dictionaries(
    {},
    optional={
        "ttl_sec": st.one_of(st.integers(1, 10**6), st.floats(0.001, 1e6), st.just(60.0)),
        "priority": st.sampled_from(["low", "normal", "high", "critical"]),
        "assumptions": st.lists(st.text(max_size=5), max_size=2),
        "parent_intent_id": st.text(max_size=5),
        "extensions": st.dictionaries(st.text(max_size=6), JSON, max_size=2),
        "x-unknown": JSON,
    },
)
TOP = st.fixed_dictionaries(
    {},
    optional={
        "in_reply_to": st.text(max_size=5),
        "x-top": JSON,
        "coordinator_epoch": st.integers(0, 3),
    },
)


@settings(max_examples=300)
@given(
    objective=st.one_of(st.text(max_size=30), st.sampled_from(["\udc80", "x" * 900])),
    scope=SCOPE,
    optional=OPTIONAL,
    top=TOP,
    order=st.randoms(use_true_random=False),
    lamport=st.integers(1, 2**40),
    mid=st.one_of(st.text(min_size=1, max_size=12), st.just("m-1")),
    ts=st.sampled_from(
        [
            None,  # the helper's own
            "2027-01-15T08:00:00.000000Z",
            "2027-01-15t08:00:00.000000z",
            "2027-01-15T08:00:00.5Z",
            "2027-01-15T08:00:00.000000+00:00",
            "2027-01-15T08:00:0\u0660.000000Z",  # an Arabic-Indic zero: a digit, not ASCII
            "2027-01-15T08:00:00.000000Z\n",
        ]
    ),
)
def test_every_accepted_announce_is_given_back_exactly(
    objective: str,
    scope: dict[str, Any],
    optional: dict[str, Any],
    top: dict[str, Any],
    order: Any,
    lamport: int,
    mid: str,
    ts: str | None,
) -> None:
    s = Session()
    s.join("agent:a")
    payload = {"intent_id": "i1", "objective": objective, "scope": scope, **optional}
    keys = list(payload)
    order.shuffle(keys)
    env = msg("INTENT_ANNOUNCE", "agent:a", {k: payload[k] for k in keys}, lamport=lamport, mid=mid)
    env.update(top)
    if ts is not None:
        env["ts"] = ts
    keys = list(env)
    order.shuffle(keys)
    env = {k: env[k] for k in keys}
    sent = copy.deepcopy(env)
    s.coord.handle(env, T0)
    intent = s.coord.state.intents.get("i1")
    if intent is None:
        event("refused")
        return  # refused: nothing is kept
    event("kept as a residual" if intent._shape is not None else "kept whole")
    today = unpack(pack(copy.deepcopy(sent)))  # what the core kept and replayed before
    assert wire(intent.announce_envelope()) == wire(today) == wire(sent)
    assert intent.latest_message_id() == sent["message_id"]
    replay = replayed_announces(s)["i1"]
    assert wire(replay) == wire(sent)
    if not any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(sent)):
        try:
            want = codec.encode(sent)
        except ValueError:  # a lone surrogate: no UTF-8 either way
            want = None
        if want is not None:
            assert codec.encode(replay) == want
    snap = s.coord.snapshot()
    assert snap["intents"][0]["last_message_id"] == sent["message_id"]
    restored = Coordinator.restore(json.loads(json.dumps(snap, allow_nan=True)))
    again = restored.state.intents["i1"]
    assert wire(again.announce_envelope()) == wire(sent)
    assert again.latest_message_id() == sent["message_id"]


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def test_used_ids_keep_their_order_and_snapshot_form() -> None:
    s = Session()
    s.join("agent:a")
    s.announce("agent:a", "op:x", "a.py")  # an intent id that reads like another kind's key
    s.send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "x", "intent_id": "op:x", "target": "a.py", "op_kind": "replace"},
    )
    s.announce("agent:a", "i2", "b.py")
    st = s.coord.state
    assert st.id_taken("intent", "op:x") == "agent:a" and st.id_taken("op", "x") == "agent:a"
    assert st.id_taken("op", "op:x") is None and st.id_taken("intent", "x") is None
    used = s.coord.snapshot()["mpac_bridge"]["used_ids"]
    assert used == [["intent:op:x", "agent:a"], ["op:x", "agent:a"], ["intent:i2", "agent:a"]]
    restored = Coordinator.restore(json.loads(json.dumps(s.coord.snapshot())))
    assert restored.snapshot()["mpac_bridge"]["used_ids"] == used


def test_split_and_join_give_back_any_ts_text() -> None:
    """Only our own timestamp layout, ASCII digits only, is kept as two integers."""
    from bridge.core.compact import frozen_scope
    from bridge.core.residual import join, split

    scope = fs("a.py")
    for ts in ("2027-01-15T08:00:00.000000Z", "2027-01-15T08:00:0\u0660.000000Z", "x", 5, None):
        env = msg(
            "INTENT_ANNOUNCE", "agent:a", {"intent_id": "i", "objective": "o", "scope": scope}
        )
        env["ts"] = ts
        parts = split(env, "i", "o", frozen_scope(scope), scope)
        assert parts is not None
        assert wire(join(*parts, "i", "o", frozen_scope(scope))) == wire(env)


def test_the_rare_fields_live_apart_and_snapshot_as_before() -> None:
    from bridge.core.records import Intent

    plain = Intent("i1", "agent:a", "o", fs("a.py"), "ACTIVE", 1.0, 2.0, 1.0)
    assert plain._rare is None and plain.deferred_by == () and plain.update is None
    odd = Intent(
        "i2", "agent:a", "o", fs("a.py"), "ACTIVE", 1.0, 2.0, 1.0, assumptions=("x",), worktree="w"
    )
    assert odd._rare is not None and odd.assumptions == ("x",) and odd.worktree == "w"
    plain.deferred_by = ("agent:b",)
    assert plain._rare is not None and plain.deferred_by == ("agent:b",)
    plain.deferred_by = ()
    assert plain._rare is None  # back to the defaults: as if never set
    data = odd.to_json()
    assert list(data) == [
        "intent_id", "principal_id", "objective", "scope", "state", "received_at", "expires_at",
        "ttl_sec", "priority", "assumptions", "parent_intent_id", "announce", "update",
        "last_message_id", "deferred_by", "suspended_reason", "worktree", "branch",
    ]  # fmt: skip
    back = Intent.from_json(json.loads(json.dumps(data)))
    assert back.to_json() == data and back == Intent.from_json(data)

"""Lamport clock rules and the sender frontier (digest 5.2, checklist 11.5 items 67-72)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.protocol.lamport import LamportClock, SenderFrontier


def test_clock_starts_at_zero_and_ticks_before_send_11_5_67_68() -> None:
    c = LamportClock()
    assert c.value == 0
    assert c.tick() == 1
    assert c.tick() == 2


def test_receive_rule_is_max_plus_one_11_5_69() -> None:
    c = LamportClock(5)
    assert c.receive(3) == 6  # a lagging sender still advances us (D11)
    assert c.receive(10) == 11
    assert c.receive(None) == 12  # no watermark (A24): remote counts as 0


def test_observe_restores_without_a_receive_step_11_5_71() -> None:
    c = LamportClock(4)
    c.observe(2)
    assert c.value == 4
    c.observe(40)
    assert c.value == 40


@settings(max_examples=200)
@given(st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)), max_size=30))
def test_clock_strictly_increases_on_every_receive(values: list[int | None]) -> None:
    c = LamportClock()
    for v in values:
        before = c.value
        got = c.receive(v)
        assert got > before
        assert v is None or got > v


def test_frontier_requires_strictly_increasing_values_per_incarnation_11_5_72() -> None:
    f = SenderFrontier()
    assert f.check("agent:a", "i1", 3)  # first message of an incarnation
    f.record("agent:a", "i1", 100.0, 3)
    assert not f.check("agent:a", "i1", 3)  # equal is a replay / ordering violation
    assert not f.check("agent:a", "i1", 2)
    assert f.check("agent:a", "i1", 4)
    assert f.check("agent:a", "i2", 1)  # a restarted process may start again at 0 (rule 7)
    assert f.check("agent:b", "i1", 1)
    assert f.check("agent:a", "i1", None)  # nothing to compare


def test_frontier_keeps_the_last_value_across_messages_without_one() -> None:
    f = SenderFrontier()
    f.record("agent:a", "i1", 1.0, 7)
    f.record("agent:a", "i1", 2.0, None)
    assert f.last("agent:a", "i1") == (2.0, 7)
    assert not f.check("agent:a", "i1", 7)


def test_frontier_json_matches_the_snapshot_shape_and_round_trips() -> None:
    f = SenderFrontier()
    f.record("agent:alice", "inst-01", 1_775_217_570.0, 41)
    f.record("human:bob", "b#2", 1_775_217_571.5, None)
    data = f.to_json()
    assert data["agent:alice|inst-01"] == {
        "last_ts": "2026-04-03T11:59:30.000000Z",
        "last_lamport": 41,
    }
    again = SenderFrontier.from_json(json.loads(json.dumps(data)))
    assert again.to_json() == data
    assert again.last("human:bob", "b#2") == (1_775_217_571.5, None)
    f.forget_principal("agent:alice")
    assert len(f) == 1 and f.last("agent:alice", "inst-01") is None


def test_frontier_from_json_takes_spec_timestamps_numbers_and_skips_garbage() -> None:
    data = {
        "agent:alice|inst-01": {"last_ts": "2026-04-03T11:59:30Z", "last_lamport": 41},
        "agent:old|x": {"last_ts": 12.5, "last_lamport": 2},
        "agent:bad|x": {"last_ts": "yesterday", "last_lamport": "9"},
        "no-separator": {"last_ts": 1, "last_lamport": 1},
        "agent:c|x": "not an object",
    }
    f = SenderFrontier.from_json(data)
    assert f.last("agent:alice", "inst-01") == (1_775_217_570.0, 41)
    assert f.last("agent:old", "x") == (12.5, 2)
    assert f.last("agent:bad", "x") == (0.0, None)
    assert len(f) == 3
    for junk in (None, [], "x", 5):
        assert len(SenderFrontier.from_json(junk)) == 0


def test_frontier_keeps_only_the_most_recently_heard_incarnations() -> None:
    """Every hook call is a new incarnation; the frontier must not grow with each one."""
    f = SenderFrontier(limit=3)
    for n in range(5):
        f.record("agent:a", f"hook-{n}", float(n), 1)
    assert (
        len(f) == 3
        and f.last("agent:a", "hook-0") is None
        and f.last("agent:a", "hook-4") == (4.0, 1)
    )
    f.record("agent:a", "hook-2", 9.0, 2)  # heard again: now the most recent
    f.record("agent:b", "mcp", 10.0, 1)
    assert list(f.to_json()) == ["agent:a|hook-4", "agent:a|hook-2", "agent:b|mcp"]
    again = SenderFrontier.from_json(
        f.to_json(), limit=2
    )  # restored under a smaller cap: oldest go
    assert list(again.to_json()) == ["agent:a|hook-2", "agent:b|mcp"]

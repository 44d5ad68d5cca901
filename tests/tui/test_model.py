"""The pure view-model: rows, durations, what a message touches, filters, permissions, history."""

from __future__ import annotations

from tui.app import parse_filter
from tui.history import History, conflict_detail, intent_detail
from tui.model import (
    LogFilter,
    affected,
    conflict_row,
    covering,
    describe,
    duration,
    file_label,
    intent_row,
    may_act,
    participant_row,
    scope_items,
)
from tui.sample import T0, build_view, busy_messages, envelope


def test_durations() -> None:
    assert [duration(x) for x in (None, -5, 0, 59.9, 60, 245, 3600, 7380)] == ["-", "0s", "0s", "59s", "1m00s", "4m05s", "1h00m", "2h03m"]


def test_rows_from_the_clients_view() -> None:
    view = build_view(messages=busy_messages())
    row = intent_row(view.intents["intent-00000"], T0 + 120)
    assert row == ("alice", "Add a discount to checkout", "README.md", "ACTIVE", "8m10s", "-")
    c = view.conflicts["conflict-0001"]
    assert conflict_row(c, T0 + 112, view) == ("scope_overlap", "medium", "OPEN", "bob vs carol", "1m00s", "4m00s")
    p = participant_row(view.participants["agent:alice"], T0 + 100, seen=T0 + 40, status="working")
    assert p == ("alice", "agent", "contributor", "working", "1m00s ago", "yes")
    off = participant_row({**view.participants["agent:bob"], "connected": False}, T0)
    assert off[3] == "offline" and off[5] == "no"


def test_bad_shapes_never_raise() -> None:
    assert scope_items("nope") == [] and scope_items({"kind": 3}) == []
    assert intent_row({}, T0)[0] == ""
    assert describe({"message_type": "X", "payload": "junk", "sender": 5}, T0).mtype == "X"
    assert affected({"message_type": "INTENT_ANNOUNCE", "payload": None}, build_view()).intents == set()


def test_affected_names_only_the_touched_rows() -> None:
    view = build_view(messages=busy_messages())
    m = envelope("INTENT_WITHDRAW", "agent:alice", {"intent_id": "intent-00003"}, T0, 99)
    a = affected(m, view)
    assert a.intents == {"intent-00003"} and a.participants == {"agent:alice"} and a.conflicts == set()
    ack = envelope("CONFLICT_ACK", "agent:bob", {"conflict_id": "conflict-0001", "ack_type": "seen"}, T0, 100)
    a = affected(ack, view)
    assert a.conflicts == {"conflict-0001"} and a.intents == {"intent-auth-b", "intent-auth-c"}
    assert affected({"message_type": "SESSION_INFO", "payload": {}}, view).intents is None
    bye = affected(envelope("GOODBYE", "agent:bob", {"reason": "x"}, T0, 101), view)
    assert bye.owners == {"agent:bob"} and bye.intents == set()  # the table expands owners to their rows
    res = affected(envelope("RESOLUTION", "human:lead", {"conflict_id": "conflict-0001", "decision": "approved",
                                                          "outcome": {"rejected": ["intent-auth-b"]}}, T0, 102), view)
    assert res.conflicts == {"conflict-0001"} and "intent-auth-b" in res.intents


def test_file_annotations_and_conflict_highlight() -> None:
    view = build_view(messages=busy_messages())
    cover = covering(view)
    assert [i["intent_id"] for i in cover["shop/cart.py"]] == ["intent-00003"]
    assert "api.auth" not in cover  # entities are not files
    assert file_label("a/b.py", [], False) == "b.py"
    hot = file_label("a/b.py", cover["shop/cart.py"], True)
    assert "red" in hot and "alice: Harden login" in hot


def test_log_filter_and_parse() -> None:
    f = parse_filter("who:alice type:intent discount")
    assert (f.participant, f.message_type, f.text) == ("alice", "intent", "discount")
    e = describe(busy_messages()[3], T0)
    assert f.matches(e) and not LogFilter(participant="bob").matches(e)
    assert parse_filter("").label() == "none"


def test_permissions_follow_granted_roles() -> None:
    view = build_view(roles=["observer"], messages=busy_messages())
    c = view.conflicts["conflict-0001"]
    assert not may_act(view, "human:lead", c, "resolve")
    assert may_act(view, "agent:bob", c, "ack")  # a party may acknowledge
    view.granted_roles = ["arbiter"]
    assert may_act(view, "human:lead", c, "resolve") and may_act(view, "human:lead", c, "escalate")
    escalated = {**c, "state": "ESCALATED", "escalated_to": "human:x"}
    assert may_act(view, "human:lead", escalated, "resolve")  # an arbiter may settle any escalation
    view.granted_roles = ["owner"]
    assert not may_act(view, "human:lead", escalated, "resolve") and may_act(view, "human:x", escalated, "resolve")


def test_history_details_show_ops_and_state_refs() -> None:
    msgs = busy_messages()
    view, h = build_view(messages=msgs), History()
    for m in msgs:
        h.record(m, T0)
    assert h.seen["agent:alice"] == T0 + 40
    title, body = intent_detail(view, h, "intent-00000", T0 + 100)
    assert title == "Intent intent-00000" and "op-0001 COMMITTED README.md" in body and "sha256:2222" in body
    _, body = conflict_detail(view, h, "conflict-0001", T0 + 100)
    assert "intent-auth-b bob: Add OAuth to login" in body and "CONFLICT_REPORT" in body
    assert "no longer live" in intent_detail(view, h, "gone", T0)[1]

"""The pure view-model: rows, durations, what a message touches, filters, history."""

from __future__ import annotations

from bridge.client import Participant, Session
from tests.tui.sample import T0, build_view, busy_messages, envelope
from tui.app import answer_text, parse_filter
from tui.history import History, conflict_detail, intent_detail
from tui.model import (
    LogFilter,
    affected,
    conflict_row,
    describe,
    duration,
    file_label,
    intent_row,
    participant_row,
)


def busy() -> Session:
    return Session(build_view(messages=busy_messages()), "human:lead")


def test_durations() -> None:
    assert [duration(x) for x in (None, -5, 0, 59.9, 60, 245, 3600, 7380)] == [
        "-",
        "0s",
        "0s",
        "59s",
        "1m00s",
        "4m05s",
        "1h00m",
        "2h03m",
    ]


def test_rows_from_the_clients_session() -> None:
    s = busy()
    intent = s.intent("intent-00000")
    assert intent is not None
    assert intent_row(intent, T0 + 120) == (
        "alice",
        "Add a discount to checkout",
        "README.md",
        "ACTIVE",
        "8m10s",
        "-",
    )
    c = s.conflict("conflict-0001")
    assert c is not None
    assert conflict_row(c, T0 + 112, s) == (
        "scope_overlap",
        "medium",
        "OPEN",
        "bob vs carol",
        "1m00s",
        "4m00s",
    )
    alice = s.participant("agent:alice")
    assert alice is not None
    assert participant_row(alice, T0 + 100, seen=T0 + 40, status="working") == (
        "alice",
        "agent",
        "contributor",
        "working",
        "1m00s ago",
        "yes",
    )
    off = participant_row(Participant.of({"principal_id": "agent:bob", "connected": False}), T0)
    assert off[3] == "offline" and off[5] == "no"


def test_bad_shapes_never_raise() -> None:
    assert describe({"message_type": "X", "payload": "junk", "sender": 5}, T0).mtype == "X"
    assert (
        affected(
            {"message_type": "INTENT_ANNOUNCE", "payload": None},
            Session(build_view(), "human:lead"),
        ).intents
        == set()
    )


def test_affected_names_only_the_touched_rows() -> None:
    s = busy()
    m = envelope("INTENT_WITHDRAW", "agent:alice", {"intent_id": "intent-00003"}, T0, 99)
    a = affected(m, s)
    assert (
        a.intents == {"intent-00003"} and a.participants == {"agent:alice"} and a.conflicts == set()
    )
    ack = envelope(
        "CONFLICT_ACK", "agent:bob", {"conflict_id": "conflict-0001", "ack_type": "seen"}, T0, 100
    )
    a = affected(ack, s)
    assert a.conflicts == {"conflict-0001"} and a.intents == {"intent-auth-b", "intent-auth-c"}
    assert affected({"message_type": "SESSION_INFO", "payload": {}}, s).intents is None
    bye = affected(envelope("GOODBYE", "agent:bob", {"reason": "x"}, T0, 101), s)
    assert (
        bye.owners == {"agent:bob"} and bye.intents == set()
    )  # the table expands owners to their rows
    res = affected(
        envelope(
            "RESOLUTION",
            "human:lead",
            {
                "conflict_id": "conflict-0001",
                "decision": "approved",
                "outcome": {"rejected": ["intent-auth-b"]},
            },
            T0,
            102,
        ),
        s,
    )
    assert res.conflicts == {"conflict-0001"} and "intent-auth-b" in res.intents


def test_file_labels_and_conflict_highlight() -> None:
    held = busy().held_files(["shop/cart.py", "docs/index.md"])
    assert [i.intent_id for i in held["shop/cart.py"]] == ["intent-00003"]
    assert "api.auth" not in held  # entities are not files
    assert file_label("a/b.py", [], False) == "b.py"
    hot = file_label("a/b.py", held["shop/cart.py"], True)
    assert "red" in hot and "alice: Harden login" in hot
    calm = file_label("a/[b].py", held["shop/cart.py"], False)
    assert "yellow" in calm and r"\[b].py" in calm  # markup in a name is escaped


def test_log_filter_and_parse() -> None:
    f = parse_filter("who:alice type:intent discount")
    assert (f.participant, f.message_type, f.text) == ("alice", "intent", "discount")
    e = describe(busy_messages()[3], T0)
    assert f.matches(e) and not LogFilter(participant="bob").matches(e)
    assert parse_filter("").label() == "none"


def test_answer_text_names_the_holders() -> None:
    from bridge.client import Reply

    assert answer_text("ack", Reply(True)) == "ack: accepted by the coordinator"
    refused = Reply(
        False,
        {
            "payload": {
                "extensions": {
                    "mpac-bridge": {
                        "holders": [{"principal_id": "agent:erin", "objective": "cart"}]
                    }
                }
            }
        },
        "STALE_INTENT",
        "held",
    )
    assert (
        answer_text("claim", refused)
        == "claim refused: STALE_INTENT — held (held by agent:erin: cart)"
    )


def test_history_details_show_ops_and_state_refs() -> None:
    msgs = busy_messages()
    s, h = Session(build_view(messages=msgs), "human:lead"), History()
    for m in msgs:
        h.record(m, T0)
    assert h.seen["agent:alice"] == T0 + 40
    title, body = intent_detail(s, h, "intent-00000", T0 + 100)
    assert (
        title == "Intent intent-00000"
        and "op-0001 COMMITTED README.md" in body
        and "sha256:2222" in body
    )
    assert "kind: file_set" in body and "Expires in[/] 8m30s" in body
    _, body = conflict_detail(s, h, "conflict-0001", T0 + 100)
    assert "intent-auth-b bob: Add OAuth to login" in body and "CONFLICT_REPORT" in body
    assert "no longer live" in intent_detail(s, h, "gone", T0)[1]
    assert "resolved or closed" in conflict_detail(s, h, "gone", T0)[1]

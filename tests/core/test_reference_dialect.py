"""The reference parser reads what we send (issue 13, point 6): every one of the 22 message types
the coordinator emits or relays, converted for a reference-dialect recipient, is read by the real
`mpac` 0.2.13 `MessageEnvelope.from_dict`, and the fields it cannot take are kept, unchanged, in
`payload.extensions["mpac-bridge"].envelope`."""

from __future__ import annotations

from typing import Any

import pytest
from mpac_protocol.core.envelope import MessageEnvelope  # the real reference package (test extras)

from bridge.core import Coordinator, CoordinatorConfig
from bridge.protocol.dialect import ENVELOPE_KEYS, speaks_reference_dialect, to_reference_dialect
from bridge.protocol.enums import MessageType

from .helpers import Session, fs, msg

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
D = "sha256:" + "d" * 64


def every_message_type() -> list[dict[str, Any]]:
    """Drive one session through every message type the coordinator can send; returns them all."""
    s = Session(CoordinatorConfig(unavailability_timeout_sec=100_000, heartbeat_interval_sec=30))
    seen: list[dict[str, Any]] = []

    def send(sender: str, mtype: str, payload: dict[str, Any], **kw: Any) -> None:
        seen.extend(o.message for o in s.send(sender, mtype, payload, **kw).outbound)

    ref_hello = msg(
        "HELLO",
        "agent:ref",
        {"display_name": "ref", "roles": ["participant"], "capabilities": []},
        now=s.now,
    )
    ref_hello["version"] = "0.1.13"
    seen.extend(o.message for o in s.coord.handle(ref_hello, s.now).outbound)
    send("agent:a", "HELLO", {"display_name": "a", "roles": ["contributor"], "capabilities": []})
    send(
        "human:lead",
        "HELLO",
        {"display_name": "lead", "roles": ["arbiter", "owner"], "capabilities": []},
    )
    send(
        "agent:a",
        "HEARTBEAT",
        {
            "status": "working",
            "backend_health": {
                "model_id": "anthropic/claude",
                "provider_status": "operational",
                "checked_at": "2027-01-15T08:00:00Z",
            },
        },
    )
    send(
        "agent:a",
        "INTENT_ANNOUNCE",
        {"intent_id": "i1", "objective": "a", "scope": fs("a.py", "b.py"), "ttl_sec": 3000},
    )
    send("agent:a", "INTENT_UPDATE", {"intent_id": "i1", "objective": "a, more"})
    send(
        "agent:ref",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "i2",
            "objective": "all",
            "scope": {"kind": "resource_path", "pattern": "*.py"},
            "ttl_sec": 3000,
        },
    )
    conflict = next(
        m["payload"]["conflict_id"] for m in seen if m["message_type"] == "CONFLICT_REPORT"
    )
    send("agent:a", "CONFLICT_ACK", {"conflict_id": conflict, "ack_type": "seen"})
    send(
        "agent:a",
        "CONFLICT_ESCALATE",
        {"conflict_id": conflict, "escalate_to": "human:lead", "reason": "decide"},
    )
    send(
        "human:lead",
        "RESOLUTION",
        {
            "resolution_id": "r1",
            "conflict_id": conflict,
            "decision": "dismissed",
            "rationale": "fine",
        },
    )
    send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "p1", "target": "a.py", "op_kind": "replace", "intent_id": "i1"},
    )
    send("human:lead", "OP_REJECT", {"op_id": "p1", "reason": "not now"})
    send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "o1",
            "target": "a.py",
            "op_kind": "replace",
            "intent_id": "i1",
            "state_ref_before": A,
            "state_ref_after": B,
        },
    )
    send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "o2",
            "target": "a.py",
            "op_kind": "replace",
            "intent_id": "i1",
            "state_ref_before": A,
            "state_ref_after": C,
        },
    )
    send(
        "agent:a",
        "OP_SUPERSEDE",
        {
            "op_id": "o3",
            "supersedes_op_id": "o1",
            "target": "a.py",
            "intent_id": "i1",
            "state_ref_after": C,
        },
    )
    send(
        "agent:a",
        "OP_BATCH_COMMIT",
        {
            "batch_id": "bt",
            "atomicity": "best_effort",
            "intent_id": "i1",
            "operations": [
                {
                    "op_id": "o4",
                    "target": "b.py",
                    "op_kind": "replace",
                    "state_ref_before": A,
                    "state_ref_after": D,
                },
                {
                    "op_id": "o5",
                    "target": "zz.py",
                    "op_kind": "replace",
                    "state_ref_before": A,
                    "state_ref_after": D,
                },
            ],
        },
    )
    send(
        "agent:ref",
        "INTENT_DEFERRED",
        {
            "deferral_id": "d1",
            "scope": fs("a.py"),
            "observed_intent_ids": ["i1"],
            "reason": "yield",
        },
    )
    send("agent:a", "GOODBYE", {"reason": "done", "intent_disposition": "transfer"})
    send(
        "agent:ref",
        "INTENT_CLAIM",
        {
            "claim_id": "c1",
            "original_intent_id": "i1",
            "original_principal_id": "agent:a",
            "new_intent_id": "i3",
            "objective": "finish",
            "scope": fs("a.py", "b.py"),
        },
    )
    send(
        "human:lead",
        "INTENT_CLAIM",
        {
            "claim_id": "c1",
            "original_intent_id": "i1",
            "original_principal_id": "agent:a",
            "new_intent_id": "i3",
            "objective": "finish",
            "scope": fs("a.py", "b.py"),
            "extensions": {"mpac-bridge": {"decision": "approved"}},
        },
    )
    send("agent:ref", "INTENT_WITHDRAW", {"intent_id": "i2"})
    seen.extend(o.message for o in s.coord.disconnected("human:lead", s.now).outbound)
    seen.extend(o.message for o in s.advance(31).outbound)
    send(
        "agent:late",
        "HELLO",
        {"display_name": "late", "roles": ["contributor"], "capabilities": []},
    )  # late-join replay
    restored = Coordinator.restore(s.coord.snapshot(s.now), s.coord.config)
    seen.extend(o.message for o in restored.recover(s.now + 1))
    seen.extend(o.message for o in s.coord.close(s.now + 1))
    return seen


def test_the_scenario_covers_every_message_type() -> None:
    types = {m["message_type"] for m in every_message_type()}
    assert types == {str(t) for t in MessageType}


def test_the_reference_parser_reads_every_message_type_in_its_dialect() -> None:
    messages = every_message_type()
    refused = set()
    for m in messages:
        try:
            MessageEnvelope.from_dict(m)
        except TypeError:
            refused.add(m["message_type"])
    assert {"SESSION_INFO", "HELLO"} <= refused  # in_reply_to, extensions: why the dialect exists
    for m in messages:
        converted = to_reference_dialect(m)
        env = MessageEnvelope.from_dict(converted)  # raises on anything it cannot take
        assert env.message_type == m["message_type"] and env.message_id == m["message_id"]
        moved = {k: v for k, v in m.items() if k not in ENVELOPE_KEYS}
        if moved:
            assert converted["payload"]["extensions"]["mpac-bridge"]["envelope"] == moved
            assert {k: v for k, v in converted["payload"].items() if k != "extensions"} == {
                k: v for k, v in m["payload"].items() if k != "extensions"
            }
        else:
            assert converted is m  # nothing to move: no copy


def test_the_move_keeps_what_the_payload_already_carries() -> None:
    m = {
        "protocol": "MPAC",
        "version": "0.1.15",
        "message_type": "INTENT_UPDATE",
        "message_id": "x",
        "session_id": "s",
        "sender": {
            "principal_id": "service:c",
            "principal_type": "service",
            "sender_instance_id": "c",
            "extra": 1,
        },
        "ts": "2027-01-15T08:00:00Z",
        "payload": {
            "intent_id": "i",
            "extensions": {"mpac-bridge": {"state": "SUSPENDED"}, "other": 2},
        },
        "in_reply_to": "y",
        "trace_id": "t",
    }
    out = to_reference_dialect(m)
    MessageEnvelope.from_dict(out)
    assert out["sender"] == {
        "principal_id": "service:c",
        "principal_type": "service",
        "sender_instance_id": "c",
    }
    assert out["payload"]["extensions"] == {
        "other": 2,
        "mpac-bridge": {
            "state": "SUSPENDED",
            "envelope": {"in_reply_to": "y", "trace_id": "t", "sender": m["sender"]},
        },
    }
    assert m["payload"]["extensions"] == {
        "mpac-bridge": {"state": "SUSPENDED"},
        "other": 2,
    }  # the original is untouched


@pytest.mark.parametrize(
    ("hello", "expected"),
    [
        ({"version": "0.1.13", "payload": {}}, True),
        ({"version": "0.1.9", "payload": {}}, True),
        ({"version": "0.1.14", "payload": {}}, False),
        (
            {
                "version": "0.1.15",
                "payload": {"implementation": {"name": "mpac", "version": "0.2.13"}},
            },
            True,
        ),
        ({"version": "0.1.15", "payload": {"implementation": {"name": "MPAC-MCP"}}}, True),
        ({"version": "0.1.15", "payload": {"implementation": {"name": "mpac-bridge"}}}, False),
        ({"version": "x", "payload": None}, False),
        ("not a dict", False),
    ],
)
def test_who_speaks_the_reference_dialect(hello: Any, expected: bool) -> None:
    assert speaks_reference_dialect(hello) is expected

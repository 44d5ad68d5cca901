"""Conflict and governance basics (digest 11.10-11.11): reports, ack, escalate, resolve, dismissal."""

from __future__ import annotations

from bridge.core import CoordinatorConfig

from .helpers import Session, errors, types

PATIENT = CoordinatorConfig(unavailability_timeout_sec=100_000)
ENT = {"kind": "entity_set", "entities": ["api.auth"]}


def conflicted() -> tuple[Session, str]:
    s = Session(PATIENT)
    for pid, roles in (("agent:a", None), ("agent:b", None), ("human:lead", ["arbiter"])):
        s.join(pid, roles)
    s.send("agent:a", "INTENT_ANNOUNCE", {"intent_id": "i1", "objective": "x", "scope": ENT})
    r = s.send("agent:b", "INTENT_ANNOUNCE", {"intent_id": "i2", "objective": "y", "scope": ENT})
    report = next(o.message for o in r.outbound if o.message["message_type"] == "CONFLICT_REPORT")
    return s, report["payload"]["conflict_id"]


def test_non_race_locked_overlap_raises_a_complete_report() -> None:
    s, cid = conflicted()
    c = s.coord.state.conflicts[cid]
    rep = c.report["payload"]
    for key in (
        "basis",
        "based_on_watermark",
        "description",
        "related_intents",
        "category",
        "severity",
    ):
        assert key in rep
    assert rep["principal_a"] == "agent:a" and rep["intent_b"] == "i2"


def test_glob_overlap_is_a_conflict_not_a_refusal() -> None:
    s = Session(PATIENT)
    s.join("agent:a")
    s.join("agent:b")
    s.announce("agent:a", "i1", "src/a.py")
    r = s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "i2",
            "objective": "y",
            "scope": {"kind": "resource_path", "pattern": "src/**"},
        },
    )
    assert types(r) == ["CONFLICT_REPORT", "INTENT_ANNOUNCE"]  # spec order: the ack comes last


def test_ack_escalate_resolve_with_authority() -> None:
    s, cid = conflicted()
    assert s.send("agent:a", "CONFLICT_ACK", {"conflict_id": cid, "ack_type": "disputed"}).accepted
    assert s.coord.state.conflicts[cid].state == "OPEN"
    assert s.send("agent:a", "CONFLICT_ACK", {"conflict_id": cid, "ack_type": "seen"}).accepted
    assert s.coord.state.conflicts[cid].state == "ACKED"
    assert errors(
        s.send(
            "agent:a",
            "CONFLICT_ESCALATE",
            {"conflict_id": cid, "escalate_to": "agent:b", "reason": "x"},
        )
    ) == ["AUTHORIZATION_FAILED"]
    assert s.send(
        "agent:a",
        "CONFLICT_ESCALATE",
        {"conflict_id": cid, "escalate_to": "human:lead", "reason": "x"},
    ).accepted
    assert errors(
        s.send(
            "agent:b", "RESOLUTION", {"conflict_id": cid, "decision": "approved", "rationale": ""}
        )
    ) == ["AUTHORIZATION_FAILED"]
    r = s.send(
        "human:lead",
        "RESOLUTION",
        {
            "conflict_id": cid,
            "decision": "human_override",
            "rationale": "a wins",
            "outcome": {"accepted": ["i1"], "rejected": ["i2"]},
        },
    )
    assert r.accepted
    relayed = next(o.message for o in r.outbound if o.message["message_type"] == "RESOLUTION")
    assert relayed["payload"]["resolution_id"]  # assigned when the client omitted it (D3)
    assert s.coord.intent_state("i2") == "WITHDRAWN"
    assert s.coord.state.ended_conflicts[cid] == "CLOSED"
    assert errors(
        s.send(
            "human:lead",
            "RESOLUTION",
            {"conflict_id": cid, "decision": "approved", "rationale": ""},
        )
    ) == ["RESOLUTION_CONFLICT"]


def test_rejecting_a_committed_op_requires_rollback() -> None:
    s = Session(PATIENT)
    for pid, roles in (("agent:a", None), ("agent:b", None), ("human:lead", ["arbiter"])):
        s.join(pid, roles)
    s.announce("agent:a", "i1", "src/a.py")
    r = s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "i2",
            "objective": "y",
            "scope": {"kind": "resource_path", "pattern": "src/*"},
        },
    )
    cid = next(o.message for o in r.outbound if o.message["message_type"] == "CONFLICT_REPORT")[
        "payload"
    ]["conflict_id"]
    s.send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "o1",
            "intent_id": "i1",
            "target": "src/a.py",
            "op_kind": "replace",
            "state_ref_before": None,
            "state_ref_after": "sha256:1",
        },
    )
    res = {
        "conflict_id": cid,
        "decision": "rejected",
        "rationale": "no",
        "outcome": {"rejected": ["o1"]},
    }
    assert errors(s.send("human:lead", "RESOLUTION", res)) == ["MALFORMED_MESSAGE"]
    res["outcome"]["rollback"] = "not_required"
    assert s.send("human:lead", "RESOLUTION", res).accepted


def test_auto_dismiss_when_related_intents_end() -> None:
    s, cid = conflicted()
    s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    r = s.send("agent:b", "INTENT_WITHDRAW", {"intent_id": "i2"})
    res = [o.message["payload"] for o in r.outbound if o.message["message_type"] == "RESOLUTION"]
    assert (
        res
        and res[0]["decision"] == "dismissed"
        and res[0]["rationale"] == "all_related_entities_terminated"
    )
    assert s.coord.state.ended_conflicts[cid] == "DISMISSED"


def test_participant_report_is_validated() -> None:
    s, _ = conflicted()
    bad = {
        "conflict_id": "k9",
        "category": "scope_overlap",
        "severity": "low",
        "principal_a": "agent:a",
        "intent_a": "nope",
    }
    assert errors(s.send("agent:a", "CONFLICT_REPORT", bad)) == ["INVALID_REFERENCE"]
    good = {
        "conflict_id": "k9",
        "category": "semantic_goal_conflict",
        "severity": "low",
        "related_intents": ["i1", "i2"],
        "basis": {"kind": "human_report"},
        "based_on_watermark": {"kind": "lamport_clock", "value": 1},
        "description": "hm",
    }
    assert s.send("agent:a", "CONFLICT_REPORT", good).accepted
    assert "k9" in s.coord.state.conflicts

"""Governance (digest 11.7 items 100-107, 11.11): claim approval, resolution timeout and the
frozen-scope phases, snapshot in the middle of an escalated conflict."""

from __future__ import annotations

import json

from bridge.core import Coordinator, CoordinatorConfig

from .helpers import Session, errors, fs, types

ENT = {"kind": "entity_set", "entities": ["api.auth"]}


def session(**kw) -> Session:
    s = Session(CoordinatorConfig(unavailability_timeout_sec=100_000, **kw))
    s.join("agent:a")
    s.join("agent:b")
    return s


def claim(original: str = "i1", new: str = "i2", cid: str = "c1") -> dict:
    return {
        "claim_id": cid,
        "original_intent_id": original,
        "original_principal_id": "agent:a",
        "new_intent_id": new,
        "objective": "finish",
        "scope": fs("a.py"),
    }


def test_governance_claim_waits_for_an_arbiter_11_7_100_101_105() -> None:
    s = session()
    s.join("human:lead", ["arbiter"])
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "GOODBYE", {"reason": "error", "intent_disposition": "transfer"})
    r = s.send("agent:b", "INTENT_CLAIM", claim())
    assert types(r) == ["INTENT_CLAIM"]  # relayed as pending, nothing approved yet
    assert s.coord.intent_state("i1") == "SUSPENDED" and "i2" not in s.coord.state.intents
    approve = dict(claim(), extensions={"mpac-bridge": {"decision": "approved"}})
    assert errors(s.send("agent:b", "INTENT_CLAIM", approve)) == ["AUTHORIZATION_FAILED"]
    r = s.send("human:lead", "INTENT_CLAIM", approve)
    status = next(
        o.message["payload"]
        for o in r.outbound
        if o.message["message_type"] == "INTENT_CLAIM_STATUS"
    )
    assert status["decision"] == "approved" and status["approved_by"] == "human:lead"
    assert (
        s.coord.intent_state("i1") == "TRANSFERRED"
        and s.coord.state.intents["i2"].principal_id == "agent:b"
    )


def test_core_claim_on_transferred_intent_is_approved_at_once() -> None:
    s = session(compliance_profile="core")
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "GOODBYE", {"reason": "error", "intent_disposition": "transfer"})
    r = s.send("agent:b", "INTENT_CLAIM", claim())
    assert "INTENT_CLAIM_STATUS" in types(r) and s.coord.intent_state("i1") == "TRANSFERRED"


def test_core_claim_on_unavailable_owner_waits_the_grace_and_owner_return_withdraws_it_11_7_102_106() -> (
    None
):
    s = Session(CoordinatorConfig(compliance_profile="core", unavailability_timeout_sec=10))
    s.join("agent:a")
    s.join("agent:b")
    s.announce("agent:a", "i1", "a.py")
    s.now += 5
    s.send("agent:b", "HEARTBEAT", {"status": "idle"})
    s.advance(6)
    assert s.coord.intent_state("i1") == "SUSPENDED"
    assert types(s.send("agent:b", "INTENT_CLAIM", claim())) == ["INTENT_CLAIM"]
    assert errors(s.send("agent:b", "INTENT_CLAIM", claim(new="i3", cid="c2"))) == [
        "CLAIM_CONFLICT"
    ]
    r = s.send("agent:a", "HEARTBEAT", {"status": "working"})  # the owner is back before approval
    status = next(
        o.message["payload"]
        for o in r.outbound
        if o.message["message_type"] == "INTENT_CLAIM_STATUS"
    )
    assert status["decision"] == "withdrawn"
    assert s.coord.intent_state("i1") == "ACTIVE" and "i2" not in s.coord.state.intents
    s.now += 9
    s.send("agent:b", "HEARTBEAT", {"status": "idle"})
    s.advance(2)  # a silent again
    assert s.coord.intent_state("i1") == "SUSPENDED"
    s.send("agent:b", "INTENT_CLAIM", claim(cid="c3", new="i4"))
    s.send("agent:b", "HEARTBEAT", {"status": "idle"})
    t = s.advance(31)
    assert any(o.message["payload"].get("decision") == "approved" for o in t.outbound)
    assert s.coord.state.intents["i4"].principal_id == "agent:b"


def approved(result) -> list[dict]:
    return [
        o.message["payload"]
        for o in result.outbound
        if o.message["message_type"] == "INTENT_CLAIM_STATUS"
        and o.message["payload"]["decision"] == "approved"
    ]


def test_default_config_approves_a_handed_over_claim_at_once_when_no_owner_or_arbiter_is_present() -> (
    None
):
    s = (
        session()
    )  # the default: governance profile, claims fall back to core rules without a decider
    assert s.coord.config.claim_approval_mode == "arbiter_or_auto"
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "GOODBYE", {"reason": "done", "intent_disposition": "transfer"})
    status = approved(s.send("agent:b", "INTENT_CLAIM", claim()))
    assert status and status[0]["approved_by"] == s.coord.coordinator_id
    assert (
        s.coord.intent_state("i1") == "TRANSFERRED"
        and s.coord.state.intents["i2"].principal_id == "agent:b"
    )


def test_default_config_approves_a_crashed_owners_claim_after_the_grace_unless_the_owner_returns() -> (
    None
):
    s = Session(CoordinatorConfig(unavailability_timeout_sec=10, claim_grace_sec=30))
    s.join("agent:a")
    s.join("agent:b")
    s.announce("agent:a", "i1", "a.py")
    s.now += 5
    s.send("agent:b", "HEARTBEAT", {"status": "idle"})
    s.advance(6)
    assert s.coord.intent_state("i1") == "SUSPENDED"
    assert types(s.send("agent:b", "INTENT_CLAIM", claim())) == [
        "INTENT_CLAIM"
    ]  # pending for the grace
    s.send(
        "agent:a", "HEARTBEAT", {"status": "working"}
    )  # the owner is back: the claim is withdrawn
    assert s.coord.intent_state("i1") == "ACTIVE" and not s.coord.state.claims
    s.now += 9
    s.send("agent:b", "HEARTBEAT", {"status": "idle"})
    s.advance(2)
    assert s.coord.intent_state("i1") == "SUSPENDED"
    s.send("agent:b", "INTENT_CLAIM", claim(cid="c2", new="i3"))
    s.send("agent:b", "HEARTBEAT", {"status": "idle"})
    assert not approved(s.advance(29))
    assert approved(s.advance(2)) and s.coord.state.intents["i3"].principal_id == "agent:b"


def test_a_connected_arbiter_decides_and_its_departure_hands_the_claim_back_to_core_rules() -> None:
    s = session()
    s.join("human:lead", ["arbiter"])
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "GOODBYE", {"reason": "done", "intent_disposition": "transfer"})
    assert types(s.send("agent:b", "INTENT_CLAIM", claim())) == ["INTENT_CLAIM"]
    assert (
        not approved(s.advance(200)) and s.coord.intent_state("i1") == "SUSPENDED"
    )  # the human decides
    r = s.send(
        "human:lead", "GOODBYE", {"reason": "user_exit"}
    )  # ... until no human is left to decide
    assert approved(r) and s.coord.intent_state("i1") == "TRANSFERRED"


def test_an_arbiter_claiming_for_itself_is_not_a_decider() -> None:
    s = session()
    s.join("human:lead", ["arbiter", "contributor"])
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "GOODBYE", {"reason": "done", "intent_disposition": "transfer"})
    assert approved(s.send("human:lead", "INTENT_CLAIM", claim()))


def test_governance_configured_on_purpose_waits_for_a_human_even_with_nobody_present() -> None:
    s = session(claim_approval="governance")
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "GOODBYE", {"reason": "done", "intent_disposition": "transfer"})
    assert types(s.send("agent:b", "INTENT_CLAIM", claim())) == ["INTENT_CLAIM"]
    assert not approved(s.advance(200)) and s.coord.intent_state("i1") == "SUSPENDED"
    info = s.join("agent:c").outbound[0].message["payload"]
    assert info["liveness_policy"]["intent_claim_approval"] == "governance"


def test_the_session_policy_names_the_claim_approval_mode() -> None:
    for kw, mode in (
        ({}, "arbiter_or_auto"),
        ({"compliance_profile": "core"}, "auto"),
        ({"claim_approval": "governance"}, "governance"),
    ):
        s = Session(CoordinatorConfig(**kw))
        info = s.join("agent:a").outbound[0].message["payload"]
        assert info["liveness_policy"]["intent_claim_approval"] == mode
        assert info["liveness_policy"]["intent_claim_grace_period_sec"] == 30.0


def conflicted(**kw) -> tuple[Session, str]:
    s = session(**kw)
    s.send(
        "agent:a",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "i1",
            "objective": "x",
            "scope": {"kind": "resource_path", "pattern": "src/*"},
            "ttl_sec": 3600,
        },
    )
    r = s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "i2",
            "objective": "y",
            "scope": fs("src/a.py"),
            "priority": "high",
            "ttl_sec": 3600,
        },
    )
    cid = next(o.message for o in r.outbound if o.message["message_type"] == "CONFLICT_REPORT")[
        "payload"
    ]["conflict_id"]
    return s, cid


def test_resolution_timeout_escalates_to_an_arbiter() -> None:
    s, cid = conflicted()
    s.join("human:lead", ["arbiter"])
    t = s.advance(301)
    assert "RESOLUTION_TIMEOUT" in errors(t)
    esc = next(
        o.message["payload"] for o in t.outbound if o.message["message_type"] == "CONFLICT_ESCALATE"
    )
    assert esc["escalate_to"] == "human:lead" and s.coord.state.conflicts[cid].state == "ESCALATED"


def test_status_heartbeat_works_with_open_conflicts() -> None:
    s, _cid = conflicted()
    t = s.advance(30)
    status = next(
        o.message["payload"]
        for o in t.outbound
        if o.message["message_type"] == "COORDINATOR_STATUS"
    )
    assert status["open_conflicts"] == 1 and status["session_health"] == "degraded"


def test_frozen_scope_phases_end_with_first_committer_wins() -> None:
    s, cid = conflicted()
    s.send(
        "agent:b",
        "OP_COMMIT",
        {
            "op_id": "o1",
            "intent_id": "i2",
            "target": "src/a.py",
            "op_kind": "replace",
            "state_ref_before": None,
            "state_ref_after": "sha256:1",
        },
    )
    s.send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "p1", "intent_id": "i1", "target": "src/b.py", "op_kind": "replace"},
    )
    s.advance(301)  # no arbiter: the scope freezes (phase 1)
    assert cid in s.coord.state.frozen
    r = s.send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "o2",
            "intent_id": "i1",
            "target": "src/a.py",
            "op_kind": "replace",
            "state_ref_before": "sha256:1",
            "state_ref_after": "sha256:2",
        },
    )
    assert errors(r) == ["SCOPE_FROZEN"]
    r = s.send(
        "agent:a", "INTENT_ANNOUNCE", {"intent_id": "i3", "objective": "z", "scope": fs("src/a.py")}
    )
    assert "SCOPE_FROZEN" in errors(r)
    t = s.advance(60)  # phase 2: b's high-priority intent may proceed, a is told
    frozen_note = [
        o for o in t.outbound if o.message["payload"].get("error_code") == "SCOPE_FROZEN"
    ]
    assert frozen_note and frozen_note[0].to.principals == ("agent:a",)
    assert s.send(
        "agent:b",
        "OP_COMMIT",
        {
            "op_id": "o3",
            "intent_id": "i2",
            "target": "src/a.py",
            "op_kind": "replace",
            "state_ref_before": "sha256:1",
            "state_ref_after": "sha256:3",
        },
    ).accepted
    t = s.advance(240)  # phase 3: first committer wins, pending proposals lose
    res = next(
        o.message["payload"] for o in t.outbound if o.message["message_type"] == "RESOLUTION"
    )
    assert res["decision"] == "policy_override" and res["outcome"] == {
        "accepted": ["o1"],
        "rejected": ["p1"],
    }
    assert s.coord.state.ended_conflicts[cid] == "CLOSED" and not s.coord.state.frozen


def test_snapshot_in_an_escalated_conflict_behaves_the_same() -> None:
    s, cid = conflicted()
    s.join("human:lead", ["arbiter"])
    s.send(
        "agent:a",
        "CONFLICT_ESCALATE",
        {"conflict_id": cid, "escalate_to": "human:lead", "reason": "x"},
    )
    twin = Coordinator.restore(json.loads(json.dumps(s.coord.snapshot())))
    res = {
        "conflict_id": cid,
        "decision": "human_override",
        "rationale": "b first",
        "outcome": {"rejected": ["i1"]},
    }
    from .helpers import msg

    raw = msg("RESOLUTION", "human:lead", res, now=s.now, mid="same")
    a = [o.message for o in s.coord.handle(raw, s.now).outbound]
    b = [o.message for o in twin.handle(raw, s.now).outbound]
    assert a == b and s.coord.intent_state("i1") == "WITHDRAWN" == twin.intent_state("i1")

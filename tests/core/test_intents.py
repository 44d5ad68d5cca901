"""Intent layer (digest 11.8): race lock, supersede, TTL, cascade, deferrals, backoff, claims."""

from __future__ import annotations

from bridge.core import CoordinatorConfig

from .helpers import Session, errors, fs, types

PATIENT = CoordinatorConfig(unavailability_timeout_sec=100_000)  # timers without liveness noise


def two() -> Session:
    s = Session(PATIENT)
    s.join("agent:a")
    s.join("agent:b")
    return s


def test_race_lock_rejects_cross_principal_overlap_with_normalized_paths_11_8_116_117_118() -> None:
    s = two()
    assert s.announce("agent:a", "i1", "src/a.py").accepted
    r = s.announce("agent:b", "i2", "./src//a.py")
    assert errors(r) == ["STALE_INTENT"]
    assert "CONFLICT_REPORT" not in types(r)
    assert "i2" not in s.coord.state.intents
    err = r.outbound[0].message["payload"]
    assert "i1" in err["description"] and "agent:a" in err["description"]
    holders = err["extensions"]["mpac-bridge"]["holders"]
    assert holders[0]["intent_id"] == "i1" and holders[0]["files"] == ["src/a.py"]


def test_race_lock_ends_with_the_holder_11_8_119() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    assert s.announce("agent:b", "i2", "a.py").accepted


def test_announce_is_relayed_to_everyone_as_the_ack() -> None:
    s = two()
    r = s.announce("agent:a", "i1", "a.py")
    assert types(r) == ["INTENT_ANNOUNCE"] and r.outbound[0].to.is_all


def test_same_principal_reannounce_supersedes_11_8_120() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    r = s.announce("agent:a", "i2", "a.py", "b.py")
    assert r.accepted
    assert s.coord.intent_state("i1") == "SUPERSEDED"
    s.announce("agent:a", "i3", "c.py", supersedes_intent_id="i2")
    assert s.coord.intent_state("i2") == "SUPERSEDED"


def test_reused_intent_id_is_refused_and_never_overwrites() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    r = s.announce("agent:b", "i1", "z.py")
    assert errors(r) == ["INVALID_REFERENCE"]
    assert s.coord.state.intents["i1"].principal_id == "agent:a"


def test_ttl_defaults_to_300_and_expires_on_the_coordinator_clock_11_8_115() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    assert s.coord.state.intents["i1"].expires_at == s.now + 300
    assert s.coord.next_deadline() is not None
    s.advance(299)
    assert s.coord.intent_state("i1") == "ACTIVE"
    t = s.advance(2)
    assert s.coord.intent_state("i1") == "EXPIRED"
    assert "INTENT_WITHDRAW" in types(t)


def test_update_resets_ttl_and_applies_race_lock_to_new_scope() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py", ttl_sec=60)
    s.announce("agent:b", "i2", "b.py")
    r = s.send("agent:a", "INTENT_UPDATE", {"intent_id": "i1", "scope": fs("a.py", "b.py")})
    assert errors(r) == ["STALE_INTENT"]
    r = s.send("agent:a", "INTENT_UPDATE", {"intent_id": "i1", "ttl_sec": 600, "objective": "more"})
    assert r.accepted and s.coord.state.intents["i1"].expires_at == s.now + 600
    s.advance(100)
    assert s.coord.intent_state("i1") == "ACTIVE"


def test_update_and_withdraw_by_non_owner_are_refused() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    assert errors(s.send("agent:b", "INTENT_WITHDRAW", {"intent_id": "i1"})) == [
        "AUTHORIZATION_FAILED"
    ]
    assert errors(s.send("agent:b", "INTENT_UPDATE", {"intent_id": "i1", "objective": "x"})) == [
        "AUTHORIZATION_FAILED"
    ]
    assert errors(s.send("agent:b", "INTENT_WITHDRAW", {"intent_id": "nope"})) == [
        "INVALID_REFERENCE"
    ]


def test_expiry_cascade_rejects_proposals_after_grace_11_8_127_128_129() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py", ttl_sec=10)
    s.send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "p1", "intent_id": "i1", "target": "a.py", "op_kind": "replace"},
    )
    s.send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "c1",
            "intent_id": "i1",
            "target": "a.py",
            "op_kind": "replace",
            "state_ref_before": None,
            "state_ref_after": "sha256:1",
        },
    )
    s.advance(11)
    assert s.coord.intent_state("i1") == "EXPIRED"
    assert "p1" in s.coord.state.ops  # grace period
    t = s.advance(31)
    rejects = [o.message["payload"] for o in t.outbound if o.message["message_type"] == "OP_REJECT"]
    assert rejects == [{"op_id": "p1", "reason": "intent_terminated"}]
    assert s.coord.state.committed["c1"]["state"] == "COMMITTED"


def test_suspension_freezes_and_termination_rejects_frozen_11_8_130_131() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py", ttl_sec=200)
    proposed = s.send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "p1", "intent_id": "i1", "target": "a.py", "op_kind": "replace"},
    )
    s.send("agent:a", "GOODBYE", {"reason": "user_exit", "intent_disposition": "transfer"})
    # 130: the intent is SUSPENDED and its proposal FROZEN, not rejected (no OP_REJECT was sent).
    assert s.coord.intent_state("i1") == "SUSPENDED"
    assert s.coord.state.ops["p1"].state == "FROZEN"
    # 131: the suspended intent then terminates (its TTL): the frozen proposal is rejected, told to all.
    t = s.advance(201)
    assert s.coord.intent_state("i1") == "EXPIRED" and "p1" not in s.coord.state.ops
    rejects = [o.message for o in t.outbound if o.message["message_type"] == "OP_REJECT"]
    assert [(m["payload"]["op_id"], m["payload"]["reason"]) for m in rejects] == [
        ("p1", "intent_terminated")
    ]
    assert rejects[0]["in_reply_to"] == proposed.outbound[0].message["message_id"]
    assert s.coord.state.counters["ops_REJECTED"] == 1


def test_deferral_lifecycle_11_8_121_122_123_125() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    r = s.send(
        "agent:b",
        "INTENT_DEFERRED",
        {"deferral_id": "d1", "scope": fs("a.py"), "observed_intent_ids": ["i1"]},
    )
    assert types(r) == ["INTENT_DEFERRED"]
    out = r.outbound[0].message
    assert out["payload"]["principal_id"] == "agent:b" and "expires_at" in out["payload"]
    assert s.coord.state.intents["i1"].deferred_by == ("agent:b",)
    r = s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    resolved = [
        o.message["payload"] for o in r.outbound if o.message["message_type"] == "INTENT_DEFERRED"
    ]
    assert resolved == [
        {
            "deferral_id": "d1",
            "principal_id": "agent:b",
            "status": "resolved",
            "reason": "observed_intents_terminated",
        }
    ]
    s.announce("agent:a", "i2", "a.py")
    s.send("agent:b", "INTENT_DEFERRED", {"deferral_id": "d2", "scope": fs("a.py"), "ttl_sec": 5})
    t = s.advance(6)
    assert any(o.message["payload"].get("status") == "expired" for o in t.outbound)
    s.send("agent:b", "INTENT_DEFERRED", {"deferral_id": "d3", "scope": fs("a.py")})
    r = s.announce("agent:b", "i3", "z.py")
    assert any(o.message["payload"].get("reason") == "principal_announced" for o in r.outbound)


def test_deferral_resolved_at_arrival_when_observed_already_ended_11_8_124() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    r = s.send(
        "agent:b",
        "INTENT_DEFERRED",
        {"deferral_id": "d1", "scope": fs("a.py"), "observed_intent_ids": ["i1"]},
    )
    assert [o.message["payload"].get("status") for o in r.outbound] == [None, "resolved"]


def test_claim_takeover_of_suspended_intent_11_7_99_103_107() -> None:
    s = Session(CoordinatorConfig(compliance_profile="core", unavailability_timeout_sec=100_000))
    s.join("agent:a")
    s.join("agent:b")
    s.announce("agent:a", "i1", "a.py")
    claim = {
        "claim_id": "c1",
        "original_intent_id": "i1",
        "original_principal_id": "agent:a",
        "new_intent_id": "i2",
        "objective": "finish",
        "scope": fs("a.py"),
    }
    assert errors(s.send("agent:b", "INTENT_CLAIM", claim)) == ["INVALID_REFERENCE"]  # still ACTIVE
    s.send("agent:a", "GOODBYE", {"reason": "error", "intent_disposition": "transfer"})
    r = s.send("agent:b", "INTENT_CLAIM", claim)
    status = [
        o.message["payload"]
        for o in r.outbound
        if o.message["message_type"] == "INTENT_CLAIM_STATUS"
    ]
    assert status[0]["decision"] == "approved" and status[0]["approved_by"]
    assert s.coord.intent_state("i1") == "TRANSFERRED"
    assert s.coord.state.intents["i2"].principal_id == "agent:b"
    assert errors(
        s.send("agent:b", "INTENT_CLAIM", dict(claim, claim_id="c2", new_intent_id="i3"))
    ) == ["INVALID_REFERENCE"]


def test_backoff_after_resolution_rejection() -> None:
    s = Session(PATIENT)
    s.join("agent:a")
    s.join("agent:b")
    s.join("human:lead", ["arbiter"])
    s.send(
        "agent:a",
        "INTENT_ANNOUNCE",
        {"intent_id": "i1", "objective": "x", "scope": {"kind": "entity_set", "entities": ["api"]}},
    )
    r = s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {"intent_id": "i2", "objective": "y", "scope": {"kind": "entity_set", "entities": ["api"]}},
    )
    cid = next(o.message for o in r.outbound if o.message["message_type"] == "CONFLICT_REPORT")[
        "payload"
    ]["conflict_id"]
    r = s.send(
        "human:lead",
        "RESOLUTION",
        {
            "conflict_id": cid,
            "decision": "rejected",
            "rationale": "a first",
            "outcome": {"accepted": ["i1"], "rejected": ["i2"]},
        },
    )
    assert r.accepted and s.coord.intent_state("i2") == "WITHDRAWN"
    r = s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {"intent_id": "i3", "objective": "y", "scope": {"kind": "entity_set", "entities": ["api"]}},
    )
    assert errors(r) == ["INTENT_BACKOFF"]
    assert r.outbound[0].message["payload"]["extensions"]["retry_after_sec"] == 30
    s.advance(31)
    assert s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {"intent_id": "i4", "objective": "y", "scope": {"kind": "entity_set", "entities": ["api"]}},
    ).accepted

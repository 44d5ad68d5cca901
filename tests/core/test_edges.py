"""Edge cases of the session, intent and operation layers found in review (one rule per test)."""

from __future__ import annotations

import json

from bridge.core import Coordinator, CoordinatorConfig, To
from bridge.protocol.codes import ErrorCode

from .helpers import T0, Session, errors, fs, msg, types


def two(config: CoordinatorConfig | None = None) -> Session:
    s = Session(config)
    s.join("agent:a")
    s.join("agent:b")
    return s


def commit(
    s: Session,
    pid: str,
    op_id: str,
    intent_id: str,
    target: str,
    before: str | None,
    after: str | None,
):
    return s.send(
        pid,
        "OP_COMMIT",
        {
            "op_id": op_id,
            "intent_id": intent_id,
            "target": target,
            "op_kind": "replace",
            "state_ref_before": before,
            "state_ref_after": after,
        },
    )


def deferred(result) -> list[dict]:
    return [
        o.message["payload"]
        for o in result.outbound
        if o.message["message_type"] == "INTENT_DEFERRED"
    ]


# --- INTENT_DEFERRED (digest 9.1, S11) ---------------------------------------------------------


def test_deferral_resolves_when_a_watched_principal_ends_an_intent_11_8_123() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    s.announce("agent:a", "i2", "other.py")
    s.send(
        "agent:b",
        "INTENT_DEFERRED",
        {
            "deferral_id": "d1",
            "scope": fs("a.py"),
            "observed_intent_ids": ["i1"],
            "observed_principals": ["agent:a"],
        },
    )
    r = s.send(
        "agent:a", "INTENT_WITHDRAW", {"intent_id": "i2"}
    )  # condition 3: the owner is watched
    assert deferred(r) == [
        {
            "deferral_id": "d1",
            "principal_id": "agent:b",
            "status": "resolved",
            "reason": "observed_intents_terminated",
        }
    ]
    assert "d1" not in s.coord.state.deferrals and s.coord.state.deferrals_by_watched == {}


def test_principal_ids_in_observed_intent_ids_are_matched_not_resolved_at_arrival_11_8_124() -> (
    None
):
    s = two()
    s.announce("agent:a", "i1", "a.py")
    r = s.send(
        "agent:b",
        "INTENT_DEFERRED",
        {"deferral_id": "d1", "scope": fs("a.py"), "observed_intent_ids": ["agent:a"]},
    )
    assert [p.get("status") for p in deferred(r)] == [None]  # a principal id is not an ended intent
    assert deferred(r)[0]["observed_intent_ids"] == ["agent:a"]  # rebroadcast as sent
    r = s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    assert [p.get("status") for p in deferred(r)] == ["resolved"]


def test_partially_ended_observed_intents_keep_the_deferral_s11() -> None:
    s = two()
    s.join("agent:c")
    s.announce("agent:a", "i1", "a.py")
    s.announce("agent:c", "i2", "b.py")
    s.send(
        "agent:b",
        "INTENT_DEFERRED",
        {"deferral_id": "d1", "scope": fs("a.py", "b.py"), "observed_intent_ids": ["i1", "i2"]},
    )
    assert deferred(s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})) == []
    assert "d1" in s.coord.state.deferrals
    assert [
        p["status"] for p in deferred(s.send("agent:c", "INTENT_WITHDRAW", {"intent_id": "i2"}))
    ] == ["resolved"]


def test_deferral_without_targets_only_expires_s11_11_8_125() -> None:
    s = two()
    r = s.send(
        "agent:b", "INTENT_DEFERRED", {"deferral_id": "d1", "scope": fs("nobody.py"), "ttl_sec": 10}
    )
    assert [p.get("status") for p in deferred(r)] == [None]
    s.announce("agent:a", "i1", "x.py")
    s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    assert "d1" in s.coord.state.deferrals
    assert s.coord.next_deadline() is not None and s.coord.next_deadline() <= s.now + 10
    t = s.advance(10)
    assert [p["status"] for p in deferred(t)] == ["expired"]


def test_deferral_never_blocks_or_conflicts_11_8_121() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    r = s.send("agent:b", "INTENT_DEFERRED", {"deferral_id": "d1", "scope": fs("a.py")})
    assert "CONFLICT_REPORT" not in types(r)
    r = s.announce("agent:b", "i2", "b.py")
    assert errors(r) == [] and "INTENT_ANNOUNCE" in types(r)


def test_deferrals_survive_snapshot_with_their_watch_index() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    s.send(
        "agent:b",
        "INTENT_DEFERRED",
        {"deferral_id": "d1", "scope": fs("a.py"), "observed_principals": ["agent:a"]},
    )
    restored = Coordinator.restore(json.loads(json.dumps(s.coord.snapshot(s.now))))
    assert restored.state.deferrals_by_watched == {"agent:a": {"d1"}}
    r = restored.handle(
        msg("INTENT_WITHDRAW", "agent:a", {"intent_id": "i1"}, now=s.now, lamport=99), s.now
    )
    assert [p.get("status") for p in deferred(r)] == ["resolved"]


# --- INTENT_ANNOUNCE / INTENT_UPDATE -----------------------------------------------------------


def test_update_race_lock_applies_to_added_files_only_a3() -> None:
    s = two(CoordinatorConfig(unavailability_timeout_sec=90))
    s.announce("agent:a", "i1", "x.py")
    s.advance(50)
    s.send("agent:b", "HEARTBEAT", {"status": "working"})
    s.advance(41)  # agent:a is silent: i1 is SUSPENDED and no longer locks x.py
    assert s.coord.intent_state("i1") == "SUSPENDED"
    assert errors(s.announce("agent:b", "i2", "x.py", "z.py")) == []
    s.send("agent:a", "HEARTBEAT", {"status": "working"})  # back: both intents are ACTIVE on x.py
    assert s.coord.intent_state("i1") == "ACTIVE"
    r = s.send("agent:a", "INTENT_UPDATE", {"intent_id": "i1", "scope": fs("x.py", "y.py")})
    assert errors(r) == [] and s.coord.state.intents["i1"].public()["scope"] == fs("x.py", "y.py")
    r = s.send("agent:a", "INTENT_UPDATE", {"intent_id": "i1", "scope": fs("x.py", "./z.py")})
    assert errors(r) == [ErrorCode.STALE_INTENT]
    holders = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["holders"]
    assert holders[0]["intent_id"] == "i2" and holders[0]["files"] == ["z.py"]
    assert s.coord.state.intents["i1"].public()["scope"] == fs("x.py", "y.py")  # nothing applied


def test_update_ttl_is_reset_only_when_given() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py", ttl_sec=100)
    s.advance(60)
    s.send("agent:a", "INTENT_UPDATE", {"intent_id": "i1", "objective": "still here"})
    assert s.coord.state.intents["i1"].expires_at == T0 + 100
    s.send("agent:a", "INTENT_UPDATE", {"intent_id": "i1", "ttl_sec": 100})
    assert s.coord.state.intents["i1"].expires_at == T0 + 160
    s.advance(41)  # the first deadline passes: the stale heap entry is skipped
    assert s.coord.intent_state("i1") == "ACTIVE"
    s.advance(60)
    assert s.coord.intent_state("i1") == "EXPIRED"


def test_supersedes_intent_of_another_principal_is_refused_a4() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    r = s.announce("agent:b", "i2", "b.py", supersedes_intent_id="i1")
    assert errors(r) == [ErrorCode.AUTHORIZATION_FAILED]
    assert "i2" not in s.coord.state.intents and s.coord.intent_state("i1") == "ACTIVE"


def test_supersedes_unknown_or_ended_own_intent_is_ignored_a4() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    assert errors(s.announce("agent:a", "i2", "a.py", supersedes_intent_id="i1")) == []
    assert errors(s.announce("agent:a", "i3", "b.py", supersedes_intent_id="never")) == []
    assert s.coord.intent_state("i1") == "WITHDRAWN" and s.coord.intent_state("i2") == "ACTIVE"


def test_explicit_supersede_of_disjoint_own_intent_s9() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    r = s.announce("agent:a", "i2", "b.py", supersedes_intent_id="i1")
    assert "CONFLICT_REPORT" not in types(r)
    assert s.coord.intent_state("i1") == "SUPERSEDED" and s.coord.intent_state("i2") == "ACTIVE"


def test_race_lock_ignores_disjoint_files_and_dependency_candidates_s10() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    assert errors(s.announce("agent:b", "i2", "b.py")) == []
    scope = {"kind": "file_set", "resources": ["c.py"], "extensions": {"impact": ["a.py"]}}
    r = s.send(
        "agent:b", "INTENT_ANNOUNCE", {"intent_id": "i3", "objective": "dep", "scope": scope}
    )
    assert errors(r) == [] and "CONFLICT_REPORT" in types(r)


def test_withdrawing_twice_names_the_state() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    r = s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    assert errors(r) == [ErrorCode.INVALID_REFERENCE]
    assert "WITHDRAWN" in r.outbound[0].message["payload"]["description"]


def test_terminal_intents_leave_every_hot_index() -> None:
    s = two()
    for n in range(300):
        s.announce("agent:a", f"w{n}", f"d{n % 7}/f{n}.py")
        s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": f"w{n}"})
    c = s.coord.state
    assert len(c.index) == 0 and c.intents == {} and len(c.norms) == 0 and c.by_principal == {}
    assert c.ops == {} and c.ops_by_intent == {}
    assert len(c.ended) == 300 and c.intent_state("w0") == "WITHDRAWN"
    assert errors(s.announce("agent:b", "w5", "new.py")) == [
        ErrorCode.INVALID_REFERENCE
    ]  # id stays used


# --- session layer -----------------------------------------------------------------------------


def test_heartbeats_keep_a_participant_available_and_set_status_11_7_96() -> None:
    s = two(CoordinatorConfig(unavailability_timeout_sec=90))
    s.announce("agent:a", "i1", "a.py")
    for _ in range(4):
        s.advance(60)
        s.send("agent:a", "HEARTBEAT", {"status": "working"})
        s.send("agent:b", "HEARTBEAT", {"status": "idle"})
    assert (
        s.coord.state.participants["agent:a"].is_available
        and s.coord.state.participants["agent:a"].status == "working"
    )
    assert s.coord.intent_state("i1") == "ACTIVE"


def test_lamport_receive_rule_and_lagging_senders_11_5_69_70_d11() -> None:
    s = two()
    r = s.coord.handle(
        msg(
            "INTENT_ANNOUNCE",
            "agent:a",
            {"intent_id": "i1", "objective": "o", "scope": fs("a.py")},
            now=s.now,
            lamport=500,
        ),
        s.now,
    )
    assert r.outbound[0].message["message_id"] != ""
    r = s.coord.handle(
        msg("HEARTBEAT", "agent:b", {"status": "idle"}, now=s.now, lamport=2), s.now
    )  # lags: accepted
    assert r.accepted and s.coord.state.clock.value == 502
    r = s.send(
        "agent:b", "INTENT_WITHDRAW", {"intent_id": "i1"}
    )  # refused: receive, then send rule
    assert r.outbound[0].message["watermark"] == {"kind": "lamport_clock", "value": 504}


def test_unparseable_frames_do_not_move_the_clock() -> None:
    s = two()
    before = s.coord.state.clock.value
    for raw in (b"\xff\xfe", "{not json", None, [1, 2], 42, {"message_type": "HELLO"}):
        r = s.coord.handle(raw, s.now)
        assert errors(r) == [ErrorCode.MALFORMED_MESSAGE] and not r.changed and not r.accepted
        assert r.outbound == [] and len(r.reply_to_socket) == 1
    r = s.coord.handle("{", s.now, bound_principal="agent:a")
    assert r.reply_to_socket == [] and r.outbound[0].to == To.only("agent:a")
    assert r.outbound[0].message["watermark"]["value"] == before == s.coord.state.clock.value


def test_frames_as_str_and_bytes_are_handled_like_dicts() -> None:
    s = two()
    raw = msg("HEARTBEAT", "agent:a", {"status": "idle"}, now=s.now)
    assert s.coord.handle(json.dumps(raw), s.now).accepted
    raw2 = msg("HEARTBEAT", "agent:a", {"status": "idle"}, now=s.now)
    assert s.coord.handle(json.dumps(raw2).encode(), s.now).accepted


def test_goodbye_only_touches_the_senders_own_intents_s3() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    s.announce("agent:b", "i2", "b.py")
    s.send(
        "agent:b",
        "GOODBYE",
        {"reason": "user_exit", "intent_disposition": "withdraw", "active_intents": ["i1", "i2"]},
    )
    assert s.coord.intent_state("i1") == "ACTIVE" and s.coord.intent_state("i2") == "WITHDRAWN"


def test_goodbye_expire_keeps_the_ttl_and_the_lock_s3() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py", ttl_sec=50)
    s.send("agent:a", "GOODBYE", {"reason": "user_exit", "intent_disposition": "expire"})
    assert s.coord.intent_state("i1") == "ACTIVE"
    assert errors(s.announce("agent:b", "i2", "a.py")) == [ErrorCode.STALE_INTENT]
    s.advance(50)
    assert s.coord.intent_state("i1") == "EXPIRED"
    assert errors(s.announce("agent:b", "i3", "a.py")) == []


def test_late_joiner_sees_suspended_intents_and_deferrals() -> None:
    s = two(CoordinatorConfig(unavailability_timeout_sec=90))
    s.announce("agent:a", "i1", "a.py")
    s.advance(50)
    s.send("agent:b", "INTENT_DEFERRED", {"deferral_id": "d1", "scope": fs("a.py"), "ttl_sec": 300})
    s.advance(41)
    assert s.coord.intent_state("i1") == "SUSPENDED"
    r = s.join("agent:late")
    state = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["state"]
    assert [(i["intent_id"], i["state"]) for i in state["intents"]] == [("i1", "SUSPENDED")]
    assert [d["deferral_id"] for d in state["deferrals"]] == ["d1"]
    notices = [o.message for o in r.outbound if o.message["message_type"] == "INTENT_UPDATE"]
    assert notices[0]["payload"]["extensions"]["mpac-bridge"]["state"] == "SUSPENDED"
    assert all(o.to == To.only("agent:late") for o in r.outbound[: len(types(r)) - 1])


def test_snapshot_fields_and_recovery_epoch_11_2_24_26_29_32() -> None:
    s = two()
    assert s.coord.epoch == 1
    snap = json.loads(json.dumps(s.coord.snapshot(s.now)))
    for key in (
        "snapshot_version",
        "session_id",
        "protocol_version",
        "captured_at",
        "coordinator_epoch",
        "lamport_clock",
        "anti_replay",
        "participants",
        "intents",
        "operations",
        "conflicts",
        "governance_policy",
        "liveness_policy",
    ):
        assert key in snap
    c2 = Coordinator.restore(snap)
    out = c2.recover(s.now + 1)
    status = out[0].message
    assert status["coordinator_epoch"] == 2 and status["payload"]["event"] == "recovered"
    assert status["watermark"]["value"] > snap["lamport_clock"]


# --- operations --------------------------------------------------------------------------------


def test_observer_cannot_commit_a16() -> None:
    s = two()
    s.join("human:o", ["observer"])
    s.announce("agent:a", "i1", "a.py")
    assert errors(commit(s, "human:o", "o1", "i1", "a.py", None, "sha256:1")) == [
        ErrorCode.AUTHORIZATION_FAILED
    ]


def test_null_after_makes_the_target_ref_unknown_d5() -> None:
    s = two()
    s.announce("agent:a", "i1", "n.py")
    assert errors(commit(s, "agent:a", "o1", "i1", "n.py", None, "sha256:1")) == []
    assert errors(commit(s, "agent:a", "o2", "i1", "./n.py", "sha256:1", None)) == []
    assert s.coord.state.targets["n.py"].state_ref is None
    assert errors(commit(s, "agent:a", "o3", "i1", "n.py", "sha256:anything", "sha256:2")) == []
    r = commit(s, "agent:a", "o4", "i1", "n.py", None, "sha256:3")
    assert errors(r) == [ErrorCode.STALE_STATE_REF]
    assert r.outbound[0].message["payload"]["extensions"]["mpac-bridge"] == {
        "target": "n.py",
        "current_state_ref": "sha256:2",
    }


def test_operations_on_a_suspended_intent_are_refused_11_7_97() -> None:
    s = two(CoordinatorConfig(unavailability_timeout_sec=90))
    s.announce("agent:a", "i1", "a.py")
    s.advance(91)
    assert s.coord.intent_state("i1") == "SUSPENDED"
    s.coord.state.participants["agent:a"].is_available = True  # pretend it is back without a touch
    r = s.coord.handle(
        msg(
            "OP_PROPOSE",
            "agent:a",
            {"op_id": "o1", "intent_id": "i1", "target": "a.py", "op_kind": "replace"},
            now=s.now,
        ),
        s.now,
    )
    assert (
        errors(r) == [ErrorCode.INVALID_REFERENCE]
        and "SUSPENDED" in r.outbound[0].message["payload"]["description"]
    )


def test_batch_ids_and_entry_ids_are_unique_11_9_145() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py", "b.py")
    batch = {
        "batch_id": "b1",
        "intent_id": "i1",
        "atomicity": "all_or_nothing",
        "operations": [
            {
                "op_id": "e1",
                "target": "a.py",
                "op_kind": "replace",
                "state_ref_before": None,
                "state_ref_after": "sha256:1",
            }
        ],
    }
    assert errors(s.send("agent:a", "OP_BATCH_COMMIT", batch)) == []
    assert errors(s.send("agent:a", "OP_BATCH_COMMIT", batch)) == [ErrorCode.INVALID_REFERENCE]
    twice = {
        "batch_id": "b2",
        "intent_id": "i1",
        "atomicity": "all_or_nothing",
        "operations": [
            {
                "op_id": "e2",
                "target": "b.py",
                "op_kind": "replace",
                "state_ref_before": None,
                "state_ref_after": "sha256:1",
            },
            {
                "op_id": "e2",
                "target": "b.py",
                "op_kind": "replace",
                "state_ref_before": "sha256:1",
                "state_ref_after": "sha256:2",
            },
        ],
    }
    r = s.send("agent:a", "OP_BATCH_COMMIT", twice)
    assert types(r) == ["OP_REJECT"] and "b.py" not in s.coord.state.targets
    assert r.outbound[0].message["payload"]["op_id"] == "b2"


def test_op_ids_cannot_be_reused_across_kinds_of_message() -> None:
    s = two()
    s.announce("agent:a", "i1", "a.py")
    commit(s, "agent:a", "o1", "i1", "a.py", None, "sha256:1")
    r = s.send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "o1", "intent_id": "i1", "target": "a.py", "op_kind": "replace"},
    )
    assert errors(r) == [ErrorCode.INVALID_REFERENCE]
    s.announce("agent:b", "i2", "b.py")
    assert errors(commit(s, "agent:b", "o1", "i2", "b.py", None, "sha256:1")) == [
        ErrorCode.INVALID_REFERENCE
    ]


def test_pre_commit_completion_after_the_write_landed_is_accepted_11_9_134() -> None:
    disk = {"a.py": "sha256:0", "b.py": "sha256:0"}
    s = Session(CoordinatorConfig(execution_model="pre_commit"), state_ref_lookup=disk.get)
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py", "b.py")
    r = s.send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "o1", "intent_id": "i1", "target": "a.py", "op_kind": "replace"},
    )
    assert types(r) == ["OP_PROPOSE", "COORDINATOR_STATUS"]
    disk["a.py"] = "sha256:1"  # authorized, then written
    assert types(commit(s, "agent:a", "o1", "i1", "a.py", "sha256:0", "sha256:1")) == ["OP_COMMIT"]
    assert s.coord.state.targets["a.py"].state_ref == "sha256:1"
    batch = {
        "batch_id": "b1",
        "intent_id": "i1",
        "atomicity": "all_or_nothing",
        "operations": [
            {
                "op_id": "e1",
                "target": "b.py",
                "op_kind": "replace",
                "state_ref_before": "sha256:0",
                "state_ref_after": "sha256:2",
            }
        ],
    }
    assert types(s.send("agent:a", "OP_BATCH_COMMIT", batch)) == ["COORDINATOR_STATUS"]
    disk["b.py"] = "sha256:2"
    assert types(s.send("agent:a", "OP_BATCH_COMMIT", batch)) == ["OP_BATCH_COMMIT"]
    disk["a.py"] = "sha256:9"  # changed outside coordination after the proposal
    s.send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "o2", "intent_id": "i1", "target": "a.py", "op_kind": "replace"},
    )
    assert errors(commit(s, "agent:a", "o2", "i1", "a.py", "sha256:1", "sha256:3")) == [
        ErrorCode.STALE_STATE_REF
    ]


def test_rejoin_after_silence_or_goodbye_is_available_again_s2() -> None:
    s = two(CoordinatorConfig(unavailability_timeout_sec=90))
    s.announce("agent:a", "i1", "a.py")
    s.advance(91)
    assert not s.coord.state.participants["agent:a"].is_available
    r = s.join("agent:a")
    state = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["state"]
    assert {p["principal_id"]: p["is_available"] for p in state["participants"]}["agent:a"] is True
    assert (
        s.coord.state.participants["agent:a"].is_available
        and s.coord.intent_state("i1") == "ACTIVE"
    )
    restored = [
        o.message
        for o in r.outbound
        if o.message["message_type"] == "INTENT_UPDATE" and o.to.is_all
    ]
    assert restored[-1]["payload"]["extensions"]["mpac-bridge"]["state"] == "ACTIVE"
    s.advance(91)  # liveness is watched again after the rejoin
    assert (
        not s.coord.state.participants["agent:a"].is_available
        and s.coord.intent_state("i1") == "SUSPENDED"
    )
    s.send("agent:b", "GOODBYE", {"reason": "user_exit"})
    s.join("agent:b")
    part = s.coord.state.participants["agent:b"]
    assert part.is_available and part.connected and part.status == "idle"


def test_the_sender_frontier_is_capped_by_the_history_limit() -> None:
    """A Claude Code hook is a new process, so a new sender_instance_id, on every edit: the snapshot's
    anti_replay.sender_frontier keeps only the most recent `history_limit` of them."""
    s = Session(CoordinatorConfig(history_limit=100))
    s.join("agent:a")
    for n in range(300):
        m = msg(
            "HEARTBEAT", "agent:a", {"status": "working"}, now=s.now, lamport=n + 2, mid=f"hb-{n}"
        )
        m["sender"]["sender_instance_id"] = f"agent:a#hook-{n}"
        assert s.coord.handle(m, s.now).changed
    frontier = s.coord.snapshot(s.now)["anti_replay"]["sender_frontier"]
    assert (
        len(frontier) == 100
        and "agent:a|agent:a#hook-299" in frontier
        and "agent:a|agent:a#hook-0" not in frontier
    )
    twin = Coordinator.restore(json.loads(json.dumps(s.coord.snapshot(s.now))))
    assert twin.snapshot(s.now)["anti_replay"]["sender_frontier"] == frontier

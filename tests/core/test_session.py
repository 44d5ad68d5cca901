"""Session layer (digest 11.7): HELLO, SESSION_INFO, gating, binding, heartbeat, GOODBYE, rejoin."""

from __future__ import annotations

from bridge.core import CoordinatorConfig, Verdict
from bridge.protocol.codes import ErrorCode

from .helpers import Session, errors, fs, msg, types


def test_hello_gets_session_info_with_epoch_and_policies_11_7_79_80_82() -> None:
    s = Session()
    r = s.join("agent:a")
    assert r.accepted and r.admitted == "agent:a"
    info = r.outbound[0].message
    assert info["message_type"] == "SESSION_INFO"
    assert info["coordinator_epoch"] == 1
    assert info["payload"]["granted_roles"] == ["contributor"]
    assert info["payload"]["liveness_policy"]["heartbeat_interval_sec"] == 30
    assert info["in_reply_to"] is not None
    assert r.outbound[0].to.principals == ("agent:a",)


def test_participant_role_maps_to_contributor_with_an_explanation_d2() -> None:
    s = Session()
    r = s.send(
        "agent:ref", "HELLO", {"display_name": "ref", "roles": ["participant"], "capabilities": []}
    )
    info = r.outbound[0].message["payload"]
    assert info["granted_roles"] == ["contributor"]
    assert any("participant" in e for e in info["compatibility_errors"])


def test_non_hello_from_unknown_principal_is_invalid_reference_11_7_79() -> None:
    s = Session()
    r = s.announce("agent:ghost", "i1", "a.py")
    assert errors(r) == ["INVALID_REFERENCE"]
    assert not s.coord.state.intents


def test_bound_connection_cannot_speak_for_another_principal() -> None:
    s = Session()
    s.join("agent:a")
    s.join("agent:b")
    raw = msg(
        "INTENT_ANNOUNCE",
        "agent:b",
        {"intent_id": "i1", "objective": "x", "scope": fs("a.py")},
        now=s.now,
    )
    r = s.coord.handle(raw, s.now, bound_principal="agent:a")
    assert errors(r) == ["AUTHORIZATION_FAILED"]
    assert r.outbound[0].to.principals == ("agent:a",)
    assert "i1" not in s.coord.state.intents


def test_wrong_session_and_garbage_get_errors_on_the_socket() -> None:
    s = Session()
    r = s.coord.handle(msg("HELLO", "agent:a", {"display_name": "a"}, session="other"), s.now)
    assert errors(r) == ["INVALID_REFERENCE"]
    assert r.reply_to_socket and not r.outbound
    r = s.coord.handle(b"\x00garbage", s.now)
    assert errors(r) == ["MALFORMED_MESSAGE"] and not r.changed


def test_authenticated_profile_rejects_bad_credentials_11_7_81() -> None:
    def verify(cred, session_id):
        if cred and cred.get("value") == "good":
            return Verdict(True, roles=("contributor",))
        return Verdict.reject("unknown token")

    s = Session(CoordinatorConfig(security_profile="authenticated"), credential_verifier=verify)
    r = s.send(
        "agent:a",
        "HELLO",
        {
            "display_name": "a",
            "roles": ["owner"],
            "credential": {"type": "bearer_token", "value": "bad"},
        },
    )
    assert errors(r) == ["CREDENTIAL_REJECTED"] and r.admitted is None and not r.outbound
    r = s.send(
        "agent:a",
        "HELLO",
        {
            "display_name": "a",
            "roles": ["owner"],
            "credential": {"type": "bearer_token", "value": "good"},
        },
    )
    assert r.admitted == "agent:a"
    info = r.outbound[0].message["payload"]
    assert info["granted_roles"] == ["contributor"]  # the verifier decides, not the client
    assert info["identity_verified"] is True


def test_replay_detection_in_authenticated_profile() -> None:
    s = Session(
        CoordinatorConfig(security_profile="authenticated"),
        credential_verifier=lambda c, sid: Verdict(True),
    )
    s.join("agent:a")
    raw = msg("HEARTBEAT", "agent:a", {"status": "idle"}, now=s.now, mid="dup")
    assert s.coord.handle(raw, s.now).accepted
    assert errors(s.coord.handle(raw, s.now)) == ["REPLAY_DETECTED"]
    old = msg("HEARTBEAT", "agent:a", {"status": "idle"}, now=s.now - 10_000)
    assert errors(s.coord.handle(old, s.now)) == ["REPLAY_DETECTED"]


def test_coordinator_only_types_from_participants_are_refused_11_7_89_104() -> None:
    s = Session()
    s.join("agent:a")
    r = s.send("agent:a", "SESSION_CLOSE", {"reason": "manual", "final_lamport_clock": 1})
    assert errors(r) == ["AUTHORIZATION_FAILED"]
    assert not s.coord.closed


def test_observers_cannot_announce() -> None:
    s = Session()
    s.join("human:watcher", ["observer"])
    assert errors(s.announce("human:watcher", "i1", "a.py")) == ["AUTHORIZATION_FAILED"]


def test_status_heartbeat_each_interval_11_7_92_93() -> None:
    s = Session()
    s.join("agent:a")
    t = s.advance(30)
    status = [o.message for o in t.outbound if o.message["message_type"] == "COORDINATOR_STATUS"]
    assert status and status[0]["coordinator_epoch"] == 1
    assert status[0]["payload"]["event"] == "heartbeat"


def test_goodbye_withdraw_transfer_expire() -> None:
    for disposition, state in (("withdraw", None), ("transfer", "SUSPENDED"), ("expire", "ACTIVE")):
        s = Session()
        s.join("agent:a")
        s.announce("agent:a", "i1", "a.py")
        r = s.send("agent:a", "GOODBYE", {"reason": "completed", "intent_disposition": disposition})
        assert r.accepted
        assert s.coord.intent_state("i1") == (state or "WITHDRAWN")


def test_unavailable_participant_is_suspended_and_restored_on_return_11_7_96() -> None:
    s = Session()
    s.join("agent:a")
    s.join("agent:b")
    s.announce("agent:a", "i1", "a.py")
    s.now += 60
    s.send("agent:b", "HEARTBEAT", {"status": "idle"})
    s.join("human:dash", ["observer"])
    t = s.advance(31)
    assert "PARTICIPANT_UNAVAILABLE" in errors(t)
    notice = next(
        o for o in t.outbound if o.message["payload"].get("error_code") == "PARTICIPANT_UNAVAILABLE"
    )
    assert notice.to.principals == (
        "human:dash",
    )  # b holds nothing near a.py, so only the observer
    assert s.coord.intent_state("i1") == "SUSPENDED"
    r = s.send("agent:a", "HEARTBEAT", {"status": "working"})
    assert s.coord.intent_state("i1") == "ACTIVE"
    assert "INTENT_UPDATE" in types(r)


def test_session_close_refuses_later_messages_11_7_91() -> None:
    s = Session()
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py")
    out = s.coord.close(s.now, "manual")
    assert out[-1].message["message_type"] == "SESSION_CLOSE"
    assert s.coord.intent_state("i1") == "WITHDRAWN"
    assert errors(s.announce("agent:a", "i2", "b.py")) == [ErrorCode.SESSION_CLOSED]
    assert s.send("agent:a", "GOODBYE", {"reason": "user_exit"}).accepted


def test_late_joiner_learns_live_state() -> None:
    s = Session()
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py")
    s.send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "o1",
            "intent_id": "i1",
            "target": "a.py",
            "op_kind": "replace",
            "state_ref_before": "sha256:0",
            "state_ref_after": "sha256:1",
        },
    )
    r = s.join("agent:late")
    assert types(r)[:4] == ["SESSION_INFO", "HELLO", "INTENT_ANNOUNCE", "OP_COMMIT"]
    state = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["state"]
    assert [i["intent_id"] for i in state["intents"]] == ["i1"]
    assert state["targets"]["a.py"]["state_ref"] == "sha256:1"
    assert all(o.to.principals == ("agent:late",) for o in r.outbound[:4])


def test_rejoin_keeps_the_principal() -> None:
    s = Session()
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py")
    r = s.join("agent:a")
    assert r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["rejoined"] is True
    assert s.coord.intent_state("i1") == "ACTIVE"


def test_refused_hello_is_answered_on_its_socket_not_to_the_named_principal() -> None:
    s = Session(
        CoordinatorConfig(security_profile="authenticated"),
        credential_verifier=lambda c, sid: Verdict(True),
    )
    s.join("agent:a")
    r = s.coord.handle(
        msg("HELLO", "agent:a", {"display_name": "thief"}, now=s.now - 10_000), s.now
    )
    assert errors(r) == ["REPLAY_DETECTED"]
    assert r.outbound == [] and len(r.reply_to_socket) == 1


def test_session_ttl_closes_with_the_summary() -> None:
    s = Session(CoordinatorConfig(session_ttl_sec=100, unavailability_timeout_sec=10_000))
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py")
    s.send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "o1",
            "intent_id": "i1",
            "target": "a.py",
            "op_kind": "replace",
            "state_ref_before": None,
            "state_ref_after": "sha256:1",
        },
    )
    t = s.advance(101)
    close = next(
        o.message["payload"] for o in t.outbound if o.message["message_type"] == "SESSION_CLOSE"
    )
    assert close["reason"] == "timeout"
    summary = close["summary"]
    assert summary["total_intents"] == 1 and summary["withdrawn_intents"] == 1
    assert summary["committed_operations"] == 1 and summary["total_participants"] == 1

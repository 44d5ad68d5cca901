"""Presence (issue 13, point 5): the coordinator's participant record is the one source of truth.
A lost connection shows at once, late joiners' replayed HELLOs carry the same presence as the
compact state, and one-shot observer probes (`mpac-bridge status`, the git guard) stay invisible."""

from __future__ import annotations

from typing import Any

from bridge.client.view import SessionView
from bridge.core import CoordinatorConfig

from .helpers import Session, types

PROBE = {
    "display_name": "status",
    "roles": ["observer"],
    "capabilities": [],
    "extensions": {"mpac-bridge": {"transient": True}},
}


def presence(part: dict[str, Any]) -> tuple[bool, bool, str]:
    return bool(part["connected"]), bool(part["is_available"]), str(part["status"])


def state(s: Session) -> dict[str, tuple[bool, bool, str]]:
    return {p["principal_id"]: presence(p) for p in s.coord.compact_state()["participants"]}


def test_a_lost_connection_shows_at_once_and_a_return_restores_it() -> None:
    s = Session(CoordinatorConfig(unavailability_timeout_sec=100_000))
    s.join("agent:a")
    s.join("agent:b")
    s.announce("agent:a", "i1", "a.py")
    r = s.coord.disconnected("agent:a", s.now + 1)
    assert r.changed and types(r) == ["COORDINATOR_STATUS"]
    notice = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["presence"]
    assert notice == {
        "principal_id": "agent:a",
        "connected": False,
        "is_available": True,
        "status": "idle",
    }
    assert state(s)["agent:a"] == (False, True, "idle")
    assert (
        s.coord.intent_state("i1") == "ACTIVE"
    )  # the agent may reconnect: liveness decides about its intents
    again = s.coord.disconnected("agent:a", s.now + 2)
    assert not again.changed and not again.outbound
    assert not s.coord.disconnected("agent:nobody", s.now + 2).changed
    back = s.join("agent:a")
    assert "HELLO" in types(back) and state(s)["agent:a"] == (True, True, "idle")


def test_a_late_joiners_replayed_hellos_carry_the_compact_states_presence() -> None:
    s = Session(CoordinatorConfig(unavailability_timeout_sec=10))
    s.join("agent:gone")
    s.join("agent:crashed")
    s.join("agent:silent")
    s.send("agent:gone", "GOODBYE", {"reason": "user_exit"})
    s.coord.disconnected("agent:crashed", s.now)
    s.now += 5
    s.send("agent:crashed", "HEARTBEAT", {"status": "working"})  # still heard from (e.g. a hook)
    s.coord.disconnected("agent:crashed", s.now)
    s.advance(6)  # agent:silent becomes unavailable
    joined = s.join("agent:new")
    view = SessionView()
    view.load_session_info(joined.outbound[0].message)
    for out in joined.outbound[1:]:
        view.apply(out.message, s.now)
    expected = state(s)
    assert expected["agent:gone"] == (False, False, "offline")
    assert expected["agent:crashed"] == (False, True, "working")
    assert expected["agent:silent"] == (True, False, "idle")
    assert {p: presence(q) for p, q in view.participants.items()} == expected


def test_a_live_view_follows_presence_like_the_coordinator() -> None:
    """An agent that stays connected sees every presence change the coordinator records: leaving,
    a lost connection, a rejoin, a heartbeat status, unavailability (PARTICIPANT_UNAVAILABLE only
    goes to those who need it, A11) and the return from it."""
    s = Session(CoordinatorConfig(unavailability_timeout_sec=10))
    watcher = SessionView()
    watcher.load_session_info(s.join("agent:watch").outbound[0].message)

    def feed(result: Any) -> None:
        for out in result.outbound:
            if out.to.is_all or "agent:watch" in (out.to.principals or ()):
                watcher.apply(out.message, s.now)

    def agree() -> None:
        assert {p: presence(q) for p, q in watcher.participants.items()} == state(s)

    feed(s.join("agent:a"))
    feed(s.join("agent:b"))
    feed(s.join("agent:c"))
    feed(s.send("agent:a", "GOODBYE", {"reason": "user_exit"}))
    feed(s.coord.disconnected("agent:b", s.now))
    agree()
    feed(s.join("agent:b"))
    feed(s.send("agent:c", "HEARTBEAT", {"status": "working"}))
    agree()
    assert watcher.participants["agent:c"]["status"] == "working"
    s.now += 6
    for pid in ("agent:watch", "agent:b"):
        feed(s.send(pid, "HEARTBEAT", {"status": "idle"}))
    feed(s.advance(5))  # agent:c has been silent for 11 s
    agree()
    assert not watcher.participants["agent:c"]["is_available"]
    feed(s.send("agent:c", "HEARTBEAT", {"status": "working"}))  # back on the same connection
    agree()
    assert watcher.participants["agent:c"]["is_available"]


def test_an_observer_probe_is_invisible_and_forgotten() -> None:
    s = Session()
    s.join("agent:a")
    r = s.send("service:status-me", "HELLO", PROBE)
    assert r.admitted == "service:status-me" and types(r) == [
        "SESSION_INFO"
    ]  # no HELLO relayed to agent:a
    info = r.outbound[0].message["payload"]
    assert [
        p["principal_id"] for p in info["extensions"]["mpac-bridge"]["state"]["participants"]
    ] == ["agent:a"]
    joined = s.join("agent:b")
    assert "service:status-me" not in state(s)
    assert all(o.message["sender"]["principal_id"] != "service:status-me" for o in joined.outbound)
    bye = s.send("service:status-me", "GOODBYE", {"reason": "user_exit"})
    assert not bye.outbound and "service:status-me" not in s.coord.state.participants
    s.send("human:me@git", "HELLO", PROBE)  # the git guard closes its socket without a GOODBYE
    assert not s.coord.disconnected("human:me@git", s.now).outbound
    assert "human:me@git" not in s.coord.state.participants


def test_only_a_pure_observer_can_be_a_probe() -> None:
    s = Session()
    s.join("agent:a")
    r = s.send("agent:sneaky", "HELLO", {**PROBE, "roles": ["contributor"]})
    assert "HELLO" in types(r)  # relayed like any participant
    assert "agent:sneaky" in state(s)

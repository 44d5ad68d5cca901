"""SessionView folded from live broadcasts agrees with the coordinator's own late-join state, and
stale coordinator epochs are rejected (digest 10.4). Pure: a real Coordinator, no sockets."""

from __future__ import annotations

from typing import Any

from bridge.client.view import SessionView
from bridge.core import Coordinator, CoordinatorConfig
from tests.core.helpers import T0, fs, msg


class Watcher:
    """A coordinator plus one observer whose view is fed every message addressed to it."""

    def __init__(self) -> None:
        self.coord = Coordinator(CoordinatorConfig(), "s1", T0)
        self.now = T0
        self.view = SessionView()
        joined = self.send("human:obs", "HELLO", {"display_name": "obs", "roles": ["owner"]})
        self.view.load_session_info(joined[0])

    def send(self, sender: str, mtype: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        self.now += 1
        res = self.coord.handle(msg(mtype, sender, payload, now=self.now), self.now)
        mine = [o.message for o in res.outbound if o.to.includes("human:obs")]
        for m in mine:
            if m.get("message_type") != "SESSION_INFO":
                self.view.apply(m, self.now)
        return mine

    def late_view(self) -> SessionView:
        late = SessionView()
        self.now += 1
        res = self.coord.handle(
            msg("HELLO", "agent:late", {"display_name": "late"}, now=self.now), self.now
        )
        info = next(o.message for o in res.outbound if o.message["message_type"] == "SESSION_INFO")
        late.load_session_info(info)
        return late


def test_live_view_matches_the_late_join_state_after_a_full_story() -> None:
    w = Watcher()
    for pid in ("agent:a", "agent:b"):
        w.send(pid, "HELLO", {"display_name": pid, "roles": ["contributor"]})
    w.send(
        "agent:a",
        "INTENT_ANNOUNCE",
        {"intent_id": "ia", "objective": "a", "scope": fs("x.py", "y.py")},
    )
    w.send("agent:b", "INTENT_ANNOUNCE", {"intent_id": "ib", "objective": "b", "scope": fs("z.py")})
    stale = w.send("agent:b", "INTENT_UPDATE", {"intent_id": "ib", "scope": fs("z.py", "y.py")})
    assert stale == []  # race lock: refused to b alone, nothing for the observer to fold
    w.send(
        "agent:b",
        "INTENT_UPDATE",
        {"intent_id": "ib", "scope": {"kind": "file_set", "resources": ["z.py", "*.py"]}},
    )
    assert len(w.view.conflicts) == 1
    cid = next(iter(w.view.conflicts))
    w.send("agent:a", "CONFLICT_ACK", {"conflict_id": cid, "ack_type": "seen"})
    assert w.view.conflicts[cid]["state"] == "ACKED"
    w.send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "o1",
            "intent_id": "ia",
            "target": "x.py",
            "op_kind": "replace",
            "state_ref_before": None,
            "state_ref_after": "sha256:" + "1" * 64,
        },
    )
    w.send(
        "human:obs",
        "RESOLUTION",
        {"resolution_id": "r1", "conflict_id": cid, "decision": "dismissed", "rationale": "fine"},
    )
    w.send("agent:b", "INTENT_WITHDRAW", {"intent_id": "ib"})
    w.send(
        "agent:a",
        "INTENT_DEFERRED",
        {"deferral_id": "d1", "scope": fs("q.py"), "observed_intent_ids": ["ia"], "ttl_sec": 60},
    )
    late = w.late_view()
    assert (
        {i: v["state"] for i, v in w.view.intents.items()}
        == {i: v["state"] for i, v in late.intents.items()}
        == {"ia": "ACTIVE"}
    )
    assert w.view.conflicts == {} and late.conflicts == {}
    assert (
        w.view.targets["x.py"]["state_ref"]
        == late.targets["x.py"]["state_ref"]
        == "sha256:" + "1" * 64
    )
    assert set(w.view.deferrals) == set(late.deferrals) == {"d1"}
    assert set(w.view.participants) >= {"agent:a", "agent:b", "human:obs"}


def test_stale_epoch_messages_are_rejected_and_newer_epochs_adopted() -> None:
    view = SessionView(epoch=2)
    old = {
        "message_type": "INTENT_WITHDRAW",
        "coordinator_epoch": 1,
        "payload": {"intent_id": "i1"},
    }
    view.intents["i1"] = {"intent_id": "i1", "principal_id": "agent:a", "state": "ACTIVE"}
    assert view.apply(old, T0) is False
    assert "i1" in view.intents
    relayed = {
        "message_type": "INTENT_WITHDRAW",
        "sender": {"principal_id": "agent:a"},
        "payload": {"intent_id": "i1"},
    }
    assert view.apply(relayed, T0) is True  # participant messages carry no epoch
    assert "i1" not in view.intents
    assert (
        view.apply(
            {
                "message_type": "COORDINATOR_STATUS",
                "coordinator_epoch": 3,
                "payload": {"event": "heartbeat"},
            }
        )
        is True
    )
    assert view.epoch == 3 and view.coordinator["event"] == "heartbeat"
    assert (
        view.apply({"message_type": "COORDINATOR_STATUS", "coordinator_epoch": 2, "payload": {}})
        is False
    )


def test_garbage_never_raises() -> None:
    view = SessionView()
    for junk in (
        {},
        {"message_type": "INTENT_ANNOUNCE"},
        {"message_type": "OP_COMMIT", "payload": []},
        {"message_type": "CONFLICT_REPORT", "payload": {"conflict_id": 5}},
        {"coordinator_epoch": "x"},
        "nope",
    ):
        view.apply(junk, T0)  # type: ignore[arg-type]
    assert view.intents == {}

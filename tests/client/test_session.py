"""The typed session (bridge.client.Session and its records): built from a view folded from a real
coordinator's broadcasts and from its late-join state, the queries front-ends use, and what a
malformed view yields. Pure: a real Coordinator, no sockets."""

from __future__ import annotations

from typing import Any

from bridge.client import (
    Conflict,
    Intent,
    Participant,
    Policies,
    Session,
    SessionView,
    scope_items,
    scope_paths,
)
from bridge.core import Coordinator, CoordinatorConfig
from tests.core.helpers import T0, fs, msg

ME = "human:obs"


class Story:
    """A coordinator and one observer (ME, an owner) whose view folds what it is sent."""

    def __init__(self) -> None:
        self.coord = Coordinator(CoordinatorConfig(), "s1", T0)
        self.now = T0
        self.view = SessionView()
        self.view.load_session_info(
            self.send(ME, "HELLO", {"display_name": "Obs", "roles": ["owner"]})[0]
        )

    def send(self, sender: str, mtype: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        self.now += 1
        res = self.coord.handle(msg(mtype, sender, payload, now=self.now), self.now)
        mine = [o.message for o in res.outbound if o.to.includes(ME)]
        for m in mine:
            if m.get("message_type") != "SESSION_INFO":
                self.view.apply(m, self.now)
        return mine

    def join(self, pid: str, roles: list[str] | None = None, name: str | None = None) -> None:
        self.send(
            pid,
            "HELLO",
            {"display_name": name or pid.split(":")[1], "roles": roles or ["contributor"]},
        )

    def session(self, me: str = ME) -> Session:
        return Session(self.view, me)

    def late(self, me: str = "agent:late") -> Session:
        late = SessionView()
        self.now += 1
        res = self.coord.handle(msg("HELLO", me, {"display_name": "late"}, now=self.now), self.now)
        late.load_session_info(
            next(o.message for o in res.outbound if o.message["message_type"] == "SESSION_INFO")
        )
        return Session(late, me)


def busy() -> Story:
    s = Story()
    s.join("agent:a", name="Alice")
    s.join("agent:b")
    s.join("human:lead", ["arbiter"])
    s.send(
        "agent:a",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "ia",
            "objective": "parser",
            "scope": fs("src/a.py", "src/b.py"),
            "ttl_sec": 600,
        },
    )
    s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "ib",
            "objective": "all src",
            "scope": {"kind": "resource_path", "pattern": "src/**"},
        },
    )
    s.send(
        ME, "INTENT_ANNOUNCE", {"intent_id": "im", "objective": "docs", "scope": fs("README.md")}
    )
    s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "ie",
            "objective": "auth",
            "scope": {"kind": "entity_set", "entities": ["api.auth"]},
        },
    )
    s.send(
        "agent:a",
        "OP_COMMIT",
        {
            "op_id": "o1",
            "intent_id": "ia",
            "target": "src/a.py",
            "op_kind": "replace",
            "state_ref_before": None,
            "state_ref_after": "sha256:" + "1" * 64,
        },
    )
    return s


def test_records_from_live_messages_match_the_late_join_state() -> None:
    s = busy()
    live, late = s.session(), s.late()
    assert (
        [i.intent_id for i in live.intents()]
        == [i.intent_id for i in late.intents()]
        == ["ia", "ib", "im", "ie"]
    )
    for a, b in zip(live.intents(), late.intents(), strict=True):
        assert (a.principal_id, a.objective, a.state, a.files, a.expires_at) == (
            b.principal_id,
            b.objective,
            b.state,
            b.files,
            b.expires_at,
        )
    assert [c.conflict_id for c in live.conflicts()] == [c.conflict_id for c in late.conflicts()]
    assert live.files() == late.files()
    alice = live.participant("agent:a")
    assert alice == Participant(
        "agent:a", "agent", "Alice", ("contributor",), alice.status, True, True, alice.last_seen
    )
    assert (
        alice.name == "Alice"
        and live.name_of("agent:a") == "Alice"
        and live.name_of("agent:nobody") == "agent:nobody"
    )
    ia = live.intent("ia")
    assert ia is not None and ia.files == ["src/a.py", "src/b.py"] and ia.scope_kind == "file_set"
    assert ia.ttl_left(T0 + 5) == ia.expires_at - (T0 + 5) and isinstance(ia.expires_at, float)
    assert (
        live.intent("ie").files == ["api.auth"] and live.intent("ie").paths == []
    )  # entities are not files
    f = live.file("src/a.py")
    assert (
        f is not None
        and f.op_id == "o1"
        and f.principal_id == "agent:a"
        and f.state_ref == "sha256:" + "1" * 64
    )
    assert live.file("src/b.py") is None
    assert (live.counts().connected, live.counts().intents, live.counts().conflicts) == (
        4,
        4,
        1,
    )  # ME, a, b, lead


def test_holders_covering_and_mine() -> None:
    s = busy().session()
    assert [(h.intent.intent_id, h.basis, h.race_locked) for h in s.covering(["src/a.py"])] == [
        ("ia", "file_set", True),
        ("ib", "resource_path", False),
    ]
    assert s.covering(["src/a.py"])[0].shared == ("src/a.py",)
    assert [h.intent.intent_id for h in s.holders(["src/deep/x.py"])] == [
        "ib"
    ]  # a pattern covers files below it
    assert s.holders(["README.md"]) == []  # our own intent is not a holder ...
    assert [h.intent.intent_id for h in s.holders(["README.md"], exclude=())] == [
        "im"
    ]  # ... unless asked
    assert [h.intent.intent_id for h in s.holders(["src/a.py"], exclude=("agent:b",))] == ["ia"]
    assert [i.intent_id for i in s.mine()] == ["im"] and s.mine(["src/a.py"]) == []
    assert [i.intent_id for i in s.mine(["./README.md"])] == ["im"]  # paths are normalized
    assert s.intent_ids(owners={"agent:b"}) == ["ib", "ie"]
    held = s.held_files(["src/a.py", "src/deep/x.py", "docs/x.md"])
    assert [i.intent_id for i in held["src/a.py"]] == ["ia", "ib"]
    assert [i.intent_id for i in held["src/deep/x.py"]] == ["ib"]
    assert "docs/x.md" not in held and [i.intent_id for i in held["src/b.py"]] == [
        "ia"
    ]  # named files are listed too


def test_conflicts_on_a_file_and_their_deadline() -> None:
    st = busy()
    s = st.session()
    [files] = s.conflicts()  # src/a.py and src/b.py (ia) overlap src/** (ib)
    assert set(files.related_intents) == {"ia", "ib"} and set(files.principals) == {
        "agent:a",
        "agent:b",
    }
    st.send(
        "agent:a",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "ie2",
            "objective": "auth too",
            "scope": {"kind": "entity_set", "entities": ["api.auth"]},
        },
    )
    [auth] = s.conflicts_of("ie2")
    assert set(auth.related_intents) == {"ie", "ie2"} and [
        c.conflict_id for c in s.conflicts()
    ] == [files.conflict_id, auth.conflict_id]
    assert s.conflicted_intent_ids() == {"ia", "ib", "ie", "ie2"}
    assert [c.conflict_id for c in s.conflicts_on("src/deep/x.py")] == [
        files.conflict_id
    ]  # ib covers it
    assert (
        s.conflicts_on("api/auth.py") == [] and s.conflicts_on("README.md") == []
    )  # entities are not files
    st.view.conflicts["c-op"] = {"conflict_id": "c-op", "related_ops": ["o1"]}
    assert "c-op" in [
        c.conflict_id for c in s.conflicts_on("src/a.py")
    ]  # the file's last commit is in it
    assert s.conflict("c-op") == Conflict("c-op", related_ops=("o1",))
    timeout = s.policies.resolution_timeout_sec
    assert s.due(Conflict("x", created_at=T0)) == (None if timeout is None else T0 + timeout)
    assert s.due(Conflict("x", created_at=T0, due_at=T0 + 7)) == T0 + 7
    assert s.due(Conflict("x")) is None


def test_arbiters_and_permissions() -> None:
    st = busy()
    s = st.session()
    assert [p.principal_id for p in s.arbiters()] == ["human:lead", ME]
    assert [p.principal_id for p in s.arbiters(exclude=(ME,))] == ["human:lead"]
    st.send("human:lead", "GOODBYE", {"reason": "user_exit"})
    assert [p.principal_id for p in st.session().arbiters()] == [ME]  # only connected ones
    c = Conflict("c", principals=("agent:a", "agent:b"))
    observer = Session(SessionView(granted_roles=["observer"]), "human:x")
    assert observer.read_only and not observer.has_authority
    assert not observer.may("resolve", c) and not observer.may("ack", c)
    party = Session(SessionView(granted_roles=["contributor"]), "agent:b")
    assert party.may("ack", c) and party.may("resolve", c) and not party.read_only
    arbiter = Session(SessionView(granted_roles=["arbiter"]), "human:lead")
    escalated = Conflict("c", state="ESCALATED", principals=c.principals, escalated_to="human:x")
    assert arbiter.may("resolve", escalated) and arbiter.may(
        "escalate", c
    )  # an arbiter may settle any escalation
    owner = Session(SessionView(granted_roles=["owner"]), "human:lead")
    assert not owner.may("resolve", escalated) and Session(owner.view, "human:x").may(
        "resolve", escalated
    )
    assert not arbiter.may("juggle", c)


def test_policies_from_session_info() -> None:
    p = Policies.of(
        {
            "security_profile": "open",
            "compliance_profile": "core",
            "execution_model": "post_commit",
            "governance_policy": {"resolution_timeout_sec": 300},
            "liveness_policy": {"heartbeat_interval_sec": 30, "intent_claim_approval": "auto"},
        }
    )
    assert p.profiles == ("open", "core", "post_commit") and p.resolution_timeout_sec == 300.0
    assert p.intent_claim_approval == "auto" and p.intent_claim_grace_period_sec == 30.0
    assert (
        Policies.of({"governance_policy": {"resolution_timeout_sec": True}}).resolution_timeout_sec
        is None
    )


def test_malformed_state_gives_defaults_never_raises() -> None:
    junk: dict[str, Any] = {
        "intent_id": 5,
        "principal_id": None,
        "scope": "garbage",
        "state": 3,
        "deferred_by": "ab",
        "expires_at": "not a time",
        "received_at": True,
    }
    i = Intent.of(junk)
    assert (i.intent_id, i.principal_id, i.state, i.deferred_by, i.expires_at, i.received_at) == (
        "",
        "",
        "ACTIVE",
        (),
        None,
        None,
    )
    assert i.files == [] and i.paths == [] and i.scope_kind == "?" and i.ttl_left(T0) is None
    assert Intent.of({"expires_at": "2027-01-15T08:00:00Z"}).expires_at == T0  # RFC 3339 is read
    assert Conflict.of({"principals": ["a", 3, None], "frozen": "yes"}) == Conflict(
        "", principals=("a",)
    )
    p = Participant.of(
        {"principal_id": "svc", "connected": None, "is_available": False, "roles": "x"}
    )
    assert (p.kind, p.connected, p.available, p.roles, p.name) == ("agent", True, False, (), "svc")
    assert Participant.of({"principal_id": "human:z", "status": "offline"}).online is False
    assert scope_items("nope") == [] and scope_items({"kind": 3}) == [] and scope_paths(None) == []
    assert scope_items({"kind": "task_set", "task_ids": ["t2", "t1"]}) == ["t1", "t2"]
    s = Session(SessionView(intents={"bad": {"intent_id": "bad", "scope": 7}}), ME)
    assert s.covering(["a.py"]) == [] and s.held_files(["a.py"]) == {}

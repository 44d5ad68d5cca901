"""Issue 13.4 in the pure core: intents name their worktree; commits are checked against that
worktree's history and disk; one path claimed in two worktrees is an advisory conflict."""

from __future__ import annotations

import json

from bridge.core import Coordinator, CoordinatorConfig
from bridge.protocol.worktree import ref_key, worktree_ext

from .helpers import Session, errors, fs, types

PATIENT = CoordinatorConfig(unavailability_timeout_sec=100_000, compliance_profile="core")
MAIN = worktree_ext(None, "main")
FEATURE = worktree_ext("wt2", "feature")


def announce(s: Session, pid: str, iid: str, where: dict, *paths: str, ttl_sec: float = 300):
    return s.send(
        pid,
        "INTENT_ANNOUNCE",
        {
            "intent_id": iid,
            "objective": f"edit {paths}",
            "scope": fs(*paths),
            "extensions": where,
            "ttl_sec": ttl_sec,
        },
    )


def commit(op_id: str, intent: str, before: str, after: str, target: str = "a.py") -> dict:
    return {
        "op_id": op_id,
        "intent_id": intent,
        "target": target,
        "op_kind": "replace",
        "state_ref_before": before,
        "state_ref_after": after,
    }


def session(disk: dict[str, str]) -> Session:
    s = Session(PATIENT, state_ref_lookup=disk.get)
    for pid in ("agent:main", "agent:side", "agent:side2"):
        s.join(pid)
    return s


def test_one_path_in_two_worktrees_is_an_advisory_conflict_naming_the_branches() -> None:
    s = session({})
    assert announce(s, "agent:side", "is", FEATURE, "a.py").accepted
    r = announce(s, "agent:main", "im", MAIN, "a.py")
    assert r.accepted and types(r) == ["CONFLICT_REPORT", "INTENT_ANNOUNCE"]
    report = r.outbound[0]
    assert report.to.is_all  # both sides (and everyone) are told
    p = report.message["payload"]
    assert p["basis"]["rule_id"] == "scope.overlap.worktree.v1" and p["severity"] == "medium"
    assert (
        "worktree wt2, branch feature" in p["description"]
        and "main worktree, branch main" in p["description"]
    )
    assert p["extensions"]["mpac-bridge"]["worktrees"] == {
        "is": {"id": "wt2", "branch": "feature"},
        "im": {"id": None, "branch": "main"},
    }
    # Within one worktree the race lock still holds.
    assert errors(announce(s, "agent:side2", "is2", FEATURE, "a.py")) == ["STALE_INTENT"]
    # An intent without the extension is the main worktree's (a reference client).
    assert errors(s.announce("agent:side2", "plain", "a.py")) == ["STALE_INTENT"]
    # An update adding a file held in another worktree is not refused either.
    assert announce(s, "agent:side2", "is3", FEATURE, "b.py").accepted
    assert announce(s, "agent:main", "im2", MAIN, "c.py").accepted
    up = s.send("agent:side2", "INTENT_UPDATE", {"intent_id": "is3", "scope": fs("b.py", "c.py")})
    assert up.accepted and "CONFLICT_REPORT" in types(up)
    assert errors(
        s.send("agent:side2", "INTENT_UPDATE", {"intent_id": "is3", "scope": fs("b.py", "a.py")})
    ) == ["STALE_INTENT"]


def test_the_same_principal_in_two_worktrees_keeps_both_intents() -> None:
    s = session({})
    assert announce(s, "agent:side", "one", FEATURE, "a.py").accepted
    assert announce(s, "agent:side", "two", MAIN, "a.py").accepted
    assert {"one", "two"} <= set(s.coord.state.intents)  # no auto-supersede across checkouts
    assert announce(s, "agent:side", "three", FEATURE, "a.py").accepted
    assert "one" not in s.coord.state.intents and "two" in s.coord.state.intents


def test_commits_use_their_worktrees_history_and_disk() -> None:
    disk = {"a.py": "sha256:M0", ref_key("a.py", "wt2"): "sha256:F0"}
    s = session(disk)
    announce(s, "agent:main", "im", MAIN, "a.py")
    announce(s, "agent:side", "is", FEATURE, "a.py")
    assert errors(
        s.send("agent:side", "OP_COMMIT", commit("x", "is", "sha256:M0", "sha256:F1"))
    ) == ["STALE_STATE_REF"]
    assert s.send("agent:side", "OP_COMMIT", commit("f1", "is", "sha256:F0", "sha256:F1")).accepted
    disk[ref_key("a.py", "wt2")] = "sha256:F1"
    assert s.send(
        "agent:main", "OP_COMMIT", commit("m1", "im", "sha256:M0", "sha256:M1")
    ).accepted  # main's own history
    disk["a.py"] = "sha256:M1"
    assert s.send("agent:side", "OP_COMMIT", commit("f2", "is", "sha256:F1", "sha256:F2")).accepted
    assert errors(
        s.send("agent:side", "OP_COMMIT", commit("f3", "is", "sha256:F1", "sha256:F3"))
    ) == ["STALE_STATE_REF"]
    assert (
        s.coord.state.targets["a.py"].op_id == "m1"
        and s.coord.state.targets[ref_key("a.py", "wt2")].op_id == "f2"
    )
    state = s.coord.compact_state()
    assert state["targets"]["a.py"]["op_id"] == "m1"
    assert state["worktree_targets"] == {
        "wt2": {"a.py": {"state_ref": "sha256:F2", "op_id": "f2", "principal_id": "agent:side"}}
    }
    intents = {i["intent_id"]: i for i in state["intents"]}
    assert (intents["is"]["worktree"], intents["is"]["branch"]) == ("wt2", "feature")
    # A resend of a worktree commit is recognised in its own worktree's history.
    r = s.send("agent:side", "OP_COMMIT", commit("f2", "is", "sha256:F1", "sha256:F2"))
    assert (
        r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["committed"]["current"]
        is True
    )
    twin = Coordinator.restore(
        json.loads(json.dumps(s.coord.snapshot())), state_ref_lookup=disk.get
    )
    assert (
        twin.state.targets[ref_key("a.py", "wt2")].op_id == "f2"
        and twin.state.targets["a.py"].op_id == "m1"
    )
    assert twin.state.intents["is"].worktree == "wt2"


def test_a_bad_worktree_extension_is_refused() -> None:
    s = session({})
    for bad in (
        {"mpac-bridge": {"worktree": "wt2"}},
        worktree_ext("../../etc", None),
        worktree_ext("a\u0000b", None),
    ):
        assert errors(announce(s, "agent:side", "bad", bad, "a.py")) == ["MALFORMED_MESSAGE"]
    assert "bad" not in s.coord.state.intents
    ok = announce(
        s, "agent:side", "ok", worktree_ext("wt2", {"not": "a branch"}), "a.py"
    )  # a branch is only for people
    assert ok.accepted and s.coord.state.intents["ok"].branch is None


def test_a_claim_moves_the_work_to_the_claimers_worktree() -> None:
    disk = {"a.py": "sha256:M0", ref_key("a.py", "wt2"): "sha256:F0"}
    s = session(disk)
    announce(s, "agent:side", "is", FEATURE, "a.py")
    s.send("agent:side", "GOODBYE", {"reason": "user_exit", "intent_disposition": "transfer"})
    r = s.send(
        "agent:main",
        "INTENT_CLAIM",
        {
            "claim_id": "c1",
            "original_intent_id": "is",
            "original_principal_id": "agent:side",
            "new_intent_id": "taken",
            "objective": "finish it on main",
            "scope": fs("a.py"),
            "extensions": MAIN,
        },
    )
    assert (
        r.accepted
        and s.coord.state.intents["taken"].worktree is None
        and s.coord.state.intents["taken"].branch == "main"
    )
    assert s.send(
        "agent:main", "OP_COMMIT", commit("m1", "taken", "sha256:M0", "sha256:M1")
    ).accepted


def test_a_worktree_overlap_never_times_out_into_a_frozen_scope() -> None:
    """It is a note about a future merge, not a live dispute: no resolution timer, so no
    RESOLUTION_TIMEOUT and no SCOPE_FROZEN for either side, however long both branches live."""
    disk = {"a.py": "sha256:M0", ref_key("a.py", "wt2"): "sha256:F0"}
    s = Session(
        CoordinatorConfig(unavailability_timeout_sec=100_000, resolution_timeout_sec=60),
        state_ref_lookup=disk.get,
    )
    s.join("agent:main")
    s.join("agent:side")
    announce(s, "agent:side", "is", FEATURE, "a.py", ttl_sec=7200)
    announce(s, "agent:main", "im", MAIN, "a.py", ttl_sec=7200)
    (cid,) = s.coord.state.conflicts
    assert s.coord.state.conflicts[cid].due_at is None
    for _ in range(12):  # an hour, heartbeats keep both alive
        s.send("agent:main", "HEARTBEAT", {"status": "working"})
        s.send("agent:side", "HEARTBEAT", {"status": "working"})
        assert "RESOLUTION_TIMEOUT" not in errors(s.advance(300))
    assert s.send("agent:side", "OP_COMMIT", commit("f1", "is", "sha256:F0", "sha256:F1")).accepted
    assert s.send("agent:main", "OP_COMMIT", commit("m1", "im", "sha256:M0", "sha256:M1")).accepted
    s.send("agent:side", "INTENT_WITHDRAW", {"intent_id": "is"})
    r = s.send("agent:main", "INTENT_WITHDRAW", {"intent_id": "im"})
    assert (
        "RESOLUTION" in types(r) and cid not in s.coord.state.conflicts
    )  # dismissed once both are done

"""Operation layer (digest 11.9): commits, stale refs, batches, pre_commit, reject, supersede."""

from __future__ import annotations

import json

from bridge.core import Coordinator, CoordinatorConfig

from .helpers import Session, errors, types

PATIENT = CoordinatorConfig(unavailability_timeout_sec=100_000)


def commit(
    op_id: str, before: str | None, after: str | None, target: str = "a.py", intent: str = "i1"
) -> dict:
    return {
        "op_id": op_id,
        "intent_id": intent,
        "target": target,
        "op_kind": "replace",
        "state_ref_before": before,
        "state_ref_after": after,
    }


def ready(config: CoordinatorConfig = PATIENT, **kw) -> Session:
    s = Session(config, **kw)
    s.join("agent:a")
    s.join("agent:b")
    s.join("human:lead", ["reviewer", "arbiter"])
    s.announce("agent:a", "i1", "a.py", "b.py")
    return s


def test_commit_is_relayed_and_becomes_the_targets_ref_11_9_138() -> None:
    s = ready()
    r = s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", "sha256:1"))
    assert types(r) == ["OP_COMMIT"] and r.outbound[0].to.is_all
    assert s.coord.state.targets["a.py"].state_ref == "sha256:1"
    assert s.coord.state.targets["a.py"].principal_id == "agent:a"


def test_stale_state_ref_is_refused_with_the_current_ref() -> None:
    s = ready()
    s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", "sha256:1"))
    r = s.send("agent:a", "OP_COMMIT", commit("o2", "sha256:0", "sha256:2"))
    assert errors(r) == ["STALE_STATE_REF"]
    ext = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]
    assert ext == {"target": "a.py", "current_state_ref": "sha256:1"}
    assert s.coord.state.targets["a.py"].state_ref == "sha256:1"


def test_first_commit_is_checked_against_the_injected_lookup() -> None:
    disk = {"a.py": "sha256:disk"}
    s = ready(state_ref_lookup=disk.get)
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:guess", "sha256:1"))) == [
        "STALE_STATE_REF"
    ]
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o2", None, "sha256:1"))) == [
        "STALE_STATE_REF"
    ]
    assert s.send("agent:a", "OP_COMMIT", commit("o3", "sha256:disk", "sha256:1")).accepted


def test_commit_needs_a_live_own_intent_covering_the_target() -> None:
    s = ready()
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o1", None, "x", intent="nope"))) == [
        "INVALID_REFERENCE"
    ]
    assert errors(s.send("agent:b", "OP_COMMIT", commit("o2", None, "x"))) == [
        "AUTHORIZATION_FAILED"
    ]
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o3", None, "x", target="c.py"))) == [
        "AUTHORIZATION_FAILED"
    ]
    no_intent = commit("o4", None, "x")
    del no_intent["intent_id"]
    assert errors(s.send("agent:a", "OP_COMMIT", no_intent)) == ["MALFORMED_MESSAGE"]
    s.send("agent:a", "INTENT_WITHDRAW", {"intent_id": "i1"})
    r = s.send("agent:a", "OP_COMMIT", commit("o5", None, "x"))
    assert (
        errors(r) == ["INVALID_REFERENCE"]
        and "WITHDRAWN" in r.outbound[0].message["payload"]["description"]
    )


def test_reused_op_id_is_refused() -> None:
    s = ready()
    s.send("agent:a", "OP_COMMIT", commit("o1", None, "sha256:1"))
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:1", "sha256:2"))) == [
        "INVALID_REFERENCE"
    ]


def test_file_changes_are_stripped_before_relay_d7() -> None:
    s = ready()
    payload = dict(commit("o1", None, "sha256:1"), file_changes={"a.py": {"content": "secret"}})
    r = s.send("agent:a", "OP_COMMIT", payload)
    assert "file_changes" not in r.outbound[0].message["payload"]


def test_batch_all_or_nothing_registers_nothing_on_failure_11_9_140() -> None:
    s = ready()
    ops = [commit("o1", None, "sha256:1"), commit("o2", None, "sha256:2", target="c.py")]
    for o in ops:
        o.pop("intent_id")
    r = s.send(
        "agent:a",
        "OP_BATCH_COMMIT",
        {"batch_id": "b1", "atomicity": "all_or_nothing", "intent_id": "i1", "operations": ops},
    )
    assert types(r) == ["OP_REJECT"]
    rejected = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["rejected_ops"]
    assert [x["op_id"] for x in rejected] == ["o2"]
    assert "a.py" not in s.coord.state.targets


def test_batch_best_effort_reports_every_failure_and_chains_refs() -> None:
    s = ready()
    ops = [
        commit("o1", None, "sha256:1"),
        commit("o2", "sha256:1", "sha256:2"),
        commit("o3", None, "x", target="c.py"),
    ]
    r = s.send(
        "agent:a",
        "OP_BATCH_COMMIT",
        {"batch_id": "b1", "atomicity": "best_effort", "intent_id": "i1", "operations": ops},
    )
    assert types(r) == ["OP_BATCH_COMMIT", "OP_REJECT"]
    assert s.coord.state.targets["a.py"].state_ref == "sha256:2"
    assert errors(
        s.send(
            "agent:a",
            "OP_BATCH_COMMIT",
            {"batch_id": "b1", "atomicity": "best_effort", "operations": ops},
        )
    ) == ["INVALID_REFERENCE"]


def test_pre_commit_initial_then_completion_11_9_134() -> None:
    s = ready(CoordinatorConfig(execution_model="pre_commit", unavailability_timeout_sec=100_000))
    r = s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", None))
    assert types(r) == ["COORDINATOR_STATUS"]
    status = r.outbound[0].message
    assert (
        status["payload"]["event"] == "authorization"
        and status["payload"]["authorized_op_id"] == "o1"
    )
    assert s.coord.state.ops["o1"].state == "PROPOSED"
    r = s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", "sha256:1"))
    assert types(r) == ["OP_COMMIT"] and s.coord.state.targets["a.py"].state_ref == "sha256:1"


def test_pre_commit_batch_11_9_146() -> None:
    s = ready(CoordinatorConfig(execution_model="pre_commit", unavailability_timeout_sec=100_000))
    ops = [commit("o1", None, None), commit("o2", None, None, target="b.py")]
    r = s.send(
        "agent:a",
        "OP_BATCH_COMMIT",
        {"batch_id": "b1", "atomicity": "all_or_nothing", "operations": ops},
    )
    assert types(r) == ["COORDINATOR_STATUS", "COORDINATOR_STATUS"]
    done = [commit("o1", None, "sha256:1"), commit("o2", None, "sha256:2", target="b.py")]
    r = s.send(
        "agent:a",
        "OP_BATCH_COMMIT",
        {"batch_id": "b1", "atomicity": "all_or_nothing", "operations": done},
    )
    assert types(r) == ["OP_BATCH_COMMIT"] and s.coord.state.targets["b.py"].state_ref == "sha256:2"


def test_op_reject_needs_a_reviewer_11_9_137() -> None:
    s = ready()
    s.send(
        "agent:a",
        "OP_PROPOSE",
        {"op_id": "p1", "intent_id": "i1", "target": "a.py", "op_kind": "replace"},
    )
    assert errors(s.send("agent:b", "OP_REJECT", {"op_id": "p1", "reason": "no"})) == [
        "AUTHORIZATION_FAILED"
    ]
    r = s.send("human:lead", "OP_REJECT", {"op_id": "p1", "reason": "policy_violation"})
    assert r.accepted and "p1" not in s.coord.state.ops
    assert errors(s.send("human:lead", "OP_REJECT", {"op_id": "p1", "reason": "again"})) == [
        "INVALID_REFERENCE"
    ]


def test_supersede_needs_a_committed_op_on_the_same_target_11_9_135() -> None:
    s = ready()
    s.send("agent:a", "OP_COMMIT", commit("o1", None, "sha256:1"))
    bad = {"op_id": "o2", "supersedes_op_id": "o1", "target": "b.py", "intent_id": "i1"}
    assert errors(s.send("agent:a", "OP_SUPERSEDE", bad)) == ["MALFORMED_MESSAGE"]
    r = s.send("agent:a", "OP_SUPERSEDE", dict(bad, target="a.py", state_ref_after="sha256:9"))
    assert r.accepted and s.coord.state.committed["o1"]["state"] == "SUPERSEDED"
    assert s.coord.state.targets["a.py"].state_ref == "sha256:9"
    assert errors(s.send("agent:a", "OP_SUPERSEDE", dict(bad, op_id="o3", target="a.py"))) == [
        "INVALID_REFERENCE"
    ]


def test_first_commit_after_the_write_landed_on_disk_is_accepted() -> None:
    disk = {"a.py": "sha256:after"}
    s = ready(state_ref_lookup=disk.get)
    assert s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:before", "sha256:after")).accepted
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o2", "sha256:before", "sha256:x"))) == [
        "STALE_STATE_REF"
    ]


def test_null_before_is_stale_once_the_target_has_a_ref() -> None:
    s = ready()
    s.send("agent:a", "OP_COMMIT", commit("o1", None, "sha256:1"))
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o2", None, "sha256:2"))) == [
        "STALE_STATE_REF"
    ]


def test_out_of_band_disk_change_becomes_current() -> None:
    disk = {"a.py": "sha256:0"}
    s = ready(state_ref_lookup=disk.get)
    assert s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", "sha256:1")).accepted
    disk["a.py"] = "sha256:human"  # someone saved the file outside coordination
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o2", "sha256:1", "sha256:2"))) == [
        "STALE_STATE_REF"
    ]
    assert s.send("agent:a", "OP_COMMIT", commit("o3", "sha256:human", "sha256:3")).accepted


def test_the_last_commit_of_at_most_file_limit_files_is_remembered() -> None:
    s = Session(CoordinatorConfig(unavailability_timeout_sec=100_000, file_limit=3))
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py", "b.py", "c.py", "d.py")
    for n, target in enumerate(
        ["a.py", "b.py", "c.py", "a.py", "d.py"]
    ):  # a.py again: now the most recent
        assert s.send(
            "agent:a",
            "OP_COMMIT",
            commit(f"o{n}", None if n != 3 else "sha256:0", f"sha256:{n}", target=target),
        ).accepted
    assert list(s.coord.state.targets) == [
        "c.py",
        "a.py",
        "d.py",
    ]  # b.py, least recently committed, is forgotten
    # A forgotten file's next commit has nothing to be checked against here (no disk lookup injected)...
    assert s.send(
        "agent:a", "OP_COMMIT", commit("o5", "sha256:old", "sha256:5", target="b.py")
    ).accepted
    # ...while a remembered one still refuses a stale write.
    assert errors(
        s.send("agent:a", "OP_COMMIT", commit("o6", "sha256:old", "sha256:6", target="d.py"))
    ) == ["STALE_STATE_REF"]
    twin = Coordinator.restore(json.loads(json.dumps(s.coord.snapshot())))
    assert list(twin.state.targets) == ["a.py", "d.py", "b.py"] and twin.state.targets.limit == 3


def test_a_forgotten_file_is_still_checked_against_the_disk() -> None:
    disk = {"a.py": "sha256:0"}
    s = Session(
        CoordinatorConfig(unavailability_timeout_sec=100_000, file_limit=1),
        state_ref_lookup=disk.get,
    )
    s.join("agent:a")
    s.announce("agent:a", "i1", "a.py", "b.py")
    assert s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", "sha256:1")).accepted
    disk["a.py"] = "sha256:1"
    assert s.send("agent:a", "OP_COMMIT", commit("o2", None, "sha256:b", target="b.py")).accepted
    assert "a.py" not in s.coord.state.targets
    assert errors(s.send("agent:a", "OP_COMMIT", commit("o3", "sha256:0", "sha256:2"))) == [
        "STALE_STATE_REF"
    ]


def test_a_resent_commit_is_refused_but_says_it_was_recorded_issue_13_3() -> None:
    """An agent that lost its connection resends the same op_id to learn the outcome: the reuse is
    still refused (A23), and the refusal tells its author the commit is recorded."""
    s = ready()
    assert s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", "sha256:1")).accepted
    r = s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", "sha256:1"))
    assert errors(r) == ["INVALID_REFERENCE"]
    rec = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["committed"]
    assert rec == {
        "op_id": "o1",
        "state": "COMMITTED",
        "target": "a.py",
        "state_ref_before": "sha256:0",
        "state_ref_after": "sha256:1",
        "current": True,
        "current_state_ref": "sha256:1",
    }
    assert s.send("agent:a", "OP_COMMIT", commit("o2", "sha256:1", "sha256:2")).accepted
    r = s.send("agent:a", "OP_COMMIT", commit("o1", "sha256:0", "sha256:1"))
    rec = r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["committed"]
    assert rec["current"] is False and rec["current_state_ref"] == "sha256:2"
    # Another principal reusing the id learns nothing about it.
    s.announce("agent:b", "ib", "c.py")
    r = s.send("agent:b", "OP_COMMIT", commit("o1", None, "sha256:9", target="c.py", intent="ib"))
    assert (
        errors(r) == ["INVALID_REFERENCE"] and "extensions" not in r.outbound[0].message["payload"]
    )

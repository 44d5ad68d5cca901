"""Issue 13.1: an accepted commit X->Y whose write has not landed yet makes X stale.

The A25 exception ("the disk still shows state_ref_before") let a second commit from X through
while the first one's write was pending, so two commits from one base were both accepted. The
rule now: after X->Y, X is stale until the write is seen or the commit is known not to have landed
(author gone, intent ended, or the disk still shows X after the landing grace period)."""

from __future__ import annotations

import json

from bridge.core import Coordinator, CoordinatorConfig

from .helpers import Session, errors, types

CFG = CoordinatorConfig(unavailability_timeout_sec=100_000, commit_landing_grace_sec=30)


def commit(
    op_id: str, before: str | None, after: str | None, intent: str, target: str = "src/a.py"
) -> dict:
    return {
        "op_id": op_id,
        "intent_id": intent,
        "target": target,
        "op_kind": "replace",
        "state_ref_before": before,
        "state_ref_after": after,
    }


def overlapping(disk: dict[str, str], config: CoordinatorConfig = CFG) -> Session:
    """Alice holds src/*.py, Bob holds src/a.py: an overlap (conflict report), not a race lock."""
    s = Session(config, state_ref_lookup=disk.get)
    s.join("agent:alice")
    s.join("agent:bob")
    s.send(
        "agent:alice",
        "INTENT_ANNOUNCE",
        {
            "intent_id": "ia",
            "objective": "all of src",
            "scope": {"kind": "resource_path", "pattern": "src/*.py"},
        },
    )
    r = s.announce("agent:bob", "ib", "src/a.py")
    assert r.accepted and "CONFLICT_REPORT" in types(r)
    return s


def stale_ext(r) -> dict:
    err = next(o.message for o in r.outbound if o.message["message_type"] == "PROTOCOL_ERROR")
    return err["payload"]["extensions"]["mpac-bridge"]


def test_second_commit_from_the_same_base_is_stale_while_the_first_write_is_pending() -> None:
    disk = {"src/a.py": "sha256:X"}
    s = overlapping(disk)
    assert s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")).accepted
    r = s.send("agent:bob", "OP_COMMIT", commit("ob", "sha256:X", "sha256:Z", "ib"))
    assert errors(r) == ["STALE_STATE_REF"]
    assert stale_ext(r)["current_state_ref"] == "sha256:Y"
    assert "oa" in r.outbound[0].message["payload"]["description"]  # names the pending commit
    assert s.coord.state.targets["src/a.py"].state_ref == "sha256:Y"
    disk["src/a.py"] = "sha256:Y"  # the write lands: Bob rebases on Y
    assert s.send("agent:bob", "OP_COMMIT", commit("ob2", "sha256:Y", "sha256:Z", "ib")).accepted


def test_the_same_base_is_stale_for_the_author_too_and_in_a_batch() -> None:
    disk = {"src/a.py": "sha256:X"}
    s = overlapping(disk)
    assert s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")).accepted
    assert errors(
        s.send("agent:alice", "OP_COMMIT", commit("oa2", "sha256:X", "sha256:W", "ia"))
    ) == ["STALE_STATE_REF"]
    batch = {
        "batch_id": "b1",
        "atomicity": "all_or_nothing",
        "intent_id": "ib",
        "operations": [
            {
                k: v
                for k, v in commit("ob", "sha256:X", "sha256:Z", "ib").items()
                if k != "intent_id"
            }
        ],
    }
    r = s.send("agent:bob", "OP_BATCH_COMMIT", batch)
    assert types(r) == ["OP_REJECT"]
    assert (
        r.outbound[0].message["payload"]["extensions"]["mpac-bridge"]["rejected_ops"][0][
            "error_code"
        ]
        == "STALE_STATE_REF"
    )


def test_an_outside_edit_can_still_be_built_upon() -> None:
    disk = {"src/a.py": "sha256:X"}
    s = overlapping(disk)
    assert s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")).accepted
    disk["src/a.py"] = "sha256:H"  # a human saved the file: neither X nor Y
    assert errors(s.send("agent:bob", "OP_COMMIT", commit("ob", "sha256:X", "sha256:Z", "ib"))) == [
        "STALE_STATE_REF"
    ]
    assert s.send("agent:bob", "OP_COMMIT", commit("ob2", "sha256:H", "sha256:Z", "ib")).accepted


def test_a_write_seen_on_disk_then_reverted_is_an_outside_edit() -> None:
    disk = {"src/a.py": "sha256:X"}
    s = overlapping(disk)
    assert s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")).accepted
    disk["src/a.py"] = "sha256:Y"
    assert errors(s.send("agent:bob", "OP_COMMIT", commit("ob", "sha256:X", "sha256:Z", "ib"))) == [
        "STALE_STATE_REF"
    ]
    assert s.coord.state.targets["src/a.py"].landed  # the refused check saw the write
    disk["src/a.py"] = "sha256:X"  # someone ran `git checkout src/a.py`
    assert s.send("agent:bob", "OP_COMMIT", commit("ob2", "sha256:X", "sha256:Z", "ib")).accepted


def test_a_commit_already_on_disk_is_landed_at_once() -> None:
    disk = {"src/a.py": "sha256:Y"}  # post_commit as the spec reads it: the write came first
    s = overlapping(disk)
    assert s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")).accepted
    assert s.coord.state.targets["src/a.py"].landed


def test_a_write_that_never_lands_stops_blocking_after_the_grace_period() -> None:
    disk = {"src/a.py": "sha256:X"}
    s = overlapping(disk)
    assert s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")).accepted
    s.now += 29
    assert errors(s.send("agent:bob", "OP_COMMIT", commit("ob", "sha256:X", "sha256:Z", "ib"))) == [
        "STALE_STATE_REF"
    ]
    s.now += 2  # 31 s after the commit, the disk still shows X: it did not land
    assert s.send("agent:bob", "OP_COMMIT", commit("ob2", "sha256:X", "sha256:Z", "ib")).accepted
    assert s.coord.state.targets["src/a.py"].state_ref == "sha256:Z"


def test_a_write_whose_author_left_or_withdrew_does_not_block() -> None:
    for ending in ("GOODBYE", "INTENT_WITHDRAW"):
        disk = {"src/a.py": "sha256:X"}
        s = overlapping(disk)
        assert s.send(
            "agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")
        ).accepted
        if ending == "GOODBYE":
            s.send(
                "agent:alice", "GOODBYE", {"reason": "user_exit", "intent_disposition": "withdraw"}
            )
        else:
            s.send("agent:alice", "INTENT_WITHDRAW", {"intent_id": "ia"})
        assert s.send(
            "agent:bob", "OP_COMMIT", commit("ob", "sha256:X", "sha256:Z", "ib")
        ).accepted, ending


def test_a_write_whose_author_became_unavailable_does_not_block() -> None:
    disk = {"src/a.py": "sha256:X"}
    s = overlapping(
        disk, CoordinatorConfig(unavailability_timeout_sec=10, commit_landing_grace_sec=1000)
    )
    assert s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")).accepted
    s.send("agent:bob", "HEARTBEAT", {"status": "working"})
    s.now += 6
    s.send("agent:bob", "HEARTBEAT", {"status": "working"})
    s.advance(6)  # alice silent for 12 s: unavailable, bob still fine
    assert not s.coord.state.participants["agent:alice"].is_available
    assert s.send("agent:bob", "OP_COMMIT", commit("ob", "sha256:X", "sha256:Z", "ib")).accepted


def test_the_grace_period_restarts_at_recovery_and_survives_a_snapshot() -> None:
    disk = {"src/a.py": "sha256:X"}
    s = overlapping(disk)
    assert s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia")).accepted
    twin = Coordinator.restore(
        json.loads(json.dumps(s.coord.snapshot())), state_ref_lookup=disk.get
    )
    assert not twin.state.targets["src/a.py"].landed
    twin.recover(
        s.now + 25
    )  # the sidecar took 25 s to come back: the author gets a full grace period
    s.coord, s.now = twin, s.now + 50
    assert errors(s.send("agent:bob", "OP_COMMIT", commit("ob", "sha256:X", "sha256:Z", "ib"))) == [
        "STALE_STATE_REF"
    ]
    s.now += 10
    assert s.send("agent:bob", "OP_COMMIT", commit("ob2", "sha256:X", "sha256:Z", "ib")).accepted


def test_old_snapshots_without_landing_fields_still_restore() -> None:
    disk = {"src/a.py": "sha256:X"}
    s = overlapping(disk)
    s.send("agent:alice", "OP_COMMIT", commit("oa", "sha256:X", "sha256:Y", "ia"))
    snap = json.loads(json.dumps(s.coord.snapshot()))
    for t in snap["mpac_bridge"]["targets"]:
        for k in ("base", "landed", "intent_id"):
            t.pop(k, None)
    snap["mpac_bridge"].pop("recovered_at", None)
    twin = Coordinator.restore(snap, state_ref_lookup=disk.get)
    assert twin.state.targets[
        "src/a.py"
    ].landed  # an old record counts as landed: the previous rule

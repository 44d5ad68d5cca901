"""The coordinator behaves exactly as the golden record says (tests/core/golden.py): every result
of five seeded sessions, the snapshot half-way, and both futures from it. The record was written by
the core before its split into layers, so this also proves that a snapshot written by that core
restores and goes on exactly as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.core import Coordinator, CoordinatorConfig

from .golden import FIXTURE, RUNS, canonical, record

GOLDEN: dict[str, Any] = json.loads(FIXTURE.read_text())


def first_difference(name: str, want: list[str], got: list[str]) -> str | None:
    for n, (w, g) in enumerate(zip(want, got, strict=True)):
        if w != g:
            if w.split(" ", 1)[0] != g.split(" ", 1)[0]:
                return f"{name} step {n}: the traffic generator changed (input digest); regenerate the record on the old core"
            return f"{name} step {n}: expected {w!r}, got {g!r}"
    return None


@pytest.mark.parametrize("run", sorted(RUNS))
def test_every_result_matches_the_record(run: str) -> None:
    want = GOLDEN[run]
    got = record(run, restore_from=want["snapshot"])
    assert first_difference("first half", want["first_half"], got["first_half"]) is None
    assert canonical(got["snapshot"]) == canonical(want["snapshot"])
    assert got["recovered"] == want["recovered"]
    assert (
        first_difference("same coordinator", want["futures"]["same"], got["futures"]["same"])
        is None
    )
    assert got["futures"]["restored"] == want["futures"]["restored"]
    assert got["final"] == want["final"]


@pytest.mark.parametrize("run", sorted(RUNS))
def test_a_snapshot_of_the_old_core_restores_unchanged(run: str) -> None:
    snap = GOLDEN[run]["snapshot"]
    coord = Coordinator.restore(
        json.loads(canonical(snap)), CoordinatorConfig.from_json(GOLDEN[run]["config"])
    )
    assert canonical(coord.snapshot(snap["captured_at_unix"])) == canonical(snap)


def test_the_record_covers_the_features_it_guards() -> None:
    """A record of nothing but refusals would prove little: it holds every kind of outcome."""
    seen = " ".join(
        e for run in GOLDEN.values() for e in run["first_half"] + run["futures"]["same"]
    )
    for kind in (
        "SESSION_INFO",
        "INTENT_ANNOUNCE",
        "INTENT_UPDATE",
        "INTENT_WITHDRAW",
        "INTENT_DEFERRED",
        "INTENT_CLAIM_STATUS",
        "OP_COMMIT",
        "OP_BATCH_COMMIT",
        "OP_SUPERSEDE",
        "OP_REJECT",
        "CONFLICT_REPORT",
        "CONFLICT_ACK",
        "CONFLICT_ESCALATE",
        "RESOLUTION",
        "SESSION_CLOSE",
        "PROTOCOL_ERROR:STALE_STATE_REF",
        "PROTOCOL_ERROR:STALE_INTENT",
        "PROTOCOL_ERROR:SCOPE_FROZEN",
        "PROTOCOL_ERROR:PARTICIPANT_UNAVAILABLE",
        "PROTOCOL_ERROR:RESOLUTION_TIMEOUT",
        "PROTOCOL_ERROR:CREDENTIAL_REJECTED",
        "PROTOCOL_ERROR:REPLAY_DETECTED",
        "PROTOCOL_ERROR:INTENT_BACKOFF",
    ):
        assert kind in seen, kind
    snaps = [run["snapshot"] for run in GOLDEN.values()]
    assert (
        any(s["intents"] for s in snaps)
        and any(s["conflicts"] for s in snaps)
        and any(s["operations"] for s in snaps)
    )
    assert any(s["mpac_bridge"]["deferrals"] for s in snaps) and any(
        s["mpac_bridge"]["targets"] for s in snaps
    )

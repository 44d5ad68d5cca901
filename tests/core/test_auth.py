"""Verdicts cross the sidecar's journal (with the HELLO they decided): they round-trip exactly."""

from __future__ import annotations

import json

import pytest

from bridge.core import Verdict


@pytest.mark.parametrize(
    "verdict",
    [
        Verdict(True),
        Verdict.reject("unknown token"),
        Verdict(True, "", ("arbiter", "contributor"), "human:lead"),
        Verdict(True, "", (), None),  # a token granting no role: not the same as "decide by policy"
    ],
)
def test_a_verdict_round_trips_through_json(verdict: Verdict) -> None:
    assert Verdict.from_json(json.loads(json.dumps(verdict.to_json()))) == verdict


def test_a_verdict_journaled_by_an_older_sidecar_still_reads() -> None:
    old = {"accepted": True, "reason": "", "roles": None, "principal_id": None}
    assert Verdict.from_json(old) == Verdict(True)
    assert Verdict.from_json(
        {"accepted": True, "reason": "", "roles": ["observer"], "principal_id": "p"}
    ) == Verdict(True, "", ("observer",), "p")

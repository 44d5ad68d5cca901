"""A long objective is boxed in a one-element tuple (issue 17: full collections read the header
of every object a record points to; the box is small and sits among small objects), and reads,
writes, snapshots and equality behave as if it were a plain field."""

from __future__ import annotations

import gc

from bridge.core.compact import frozen_scope
from bridge.core.records import BOX_OVER, Intent


def intent(objective: str) -> Intent:
    return Intent(
        intent_id="i1",
        principal_id="agent:a",
        objective=objective,
        scope=frozen_scope({"kind": "file_set", "resources": ["a.py"]}),
        state="ACTIVE",
        received_at=1.0,
        expires_at=2.0,
        ttl_sec=1.0,
    )


def test_a_long_objective_is_kept_where_a_full_collection_does_not_look() -> None:
    long = "x" * (BOX_OVER + 1)
    record = intent(long)
    assert record.objective is long
    box = record._objective  # type: ignore[attr-defined]
    assert type(box) is tuple and box[0] is long
    gc.collect()
    assert not gc.is_tracked(box)  # the collector stopped looking into it
    short = intent("fix the parser")
    assert short._objective == "fix the parser"  # type: ignore[attr-defined]


def test_a_boxed_objective_reads_writes_and_round_trips_like_a_field() -> None:
    long = "y" * 5000
    record = intent("short")
    record.objective = long
    assert record.objective == long and type(record._objective) is tuple  # type: ignore[attr-defined]
    data = record.to_json()
    assert data["objective"] == long and list(data).index("objective") == 2
    again = Intent.from_json(data)
    assert again == record and again.objective == long
    record.objective = "short again"
    assert record._objective == "short again"  # type: ignore[attr-defined]
    positional = Intent("i2", "agent:b", long, {}, "ACTIVE", 1.0, 2.0, 1.0)
    assert positional.objective == long and type(positional._objective) is tuple  # type: ignore[attr-defined]

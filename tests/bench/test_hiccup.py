"""The machine-pause probe of `bench stall --floor` (bridge/bench/hiccup.py)."""

from __future__ import annotations

from bridge.bench import hiccup


def test_the_probe_reports_its_longest_gaps_in_order() -> None:
    result = hiccup.probe(0.3)
    assert result["duration_sec"] == 0.3
    gaps = [g["gap_ms"] for g in result["longest"]]
    assert gaps == sorted(gaps, reverse=True) and len(gaps) <= hiccup.KEEP
    assert result["max_ms"] == (gaps[0] if gaps else 0.0)
    assert result["gaps_over_1ms"] >= len(gaps)
    assert result["over_20ms"] >= sum(1 for g in gaps if g > 20)
    assert all(g["steal_ms"] >= 0 and g["cpu_ms"] >= 0 for g in result["longest"])


async def test_the_probe_runs_in_a_process_of_its_own() -> None:
    result = await hiccup.run(0.2)
    assert result["duration_sec"] == 0.2 and "max_without_steal_ms" in result

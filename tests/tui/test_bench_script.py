"""The dashboard micro-benchmark runs and proves single-row updates (no timing assertions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_tui_update.py"


def test_bench_reports_single_row_updates() -> None:
    spec = importlib.util.spec_from_file_location("bench_tui_update", BENCH)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    r = mod.run(participants=20, intents=100, updates=10)
    assert r["participants"] == 21 and r["rows"] == 102
    assert r["row_ops"] == {"insert": 0, "update": 10, "remove": 0} and r["single_row_updates"]
    assert {"p50_ms", "p99_ms", "tick_ms", "all_rows_ms"} <= set(r)

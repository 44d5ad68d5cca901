"""`mpac-bridge bench` runs and reports machine-readable figures (shape only: speed is not tested)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def bench(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "bench", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "…" in out.stderr  # progress is shown on stderr
    return json.loads(out.stdout)


def test_bench_core_quick_json() -> None:
    report = bench("core", "--quick", "--sizes", "10,100")
    assert report["machine"]["cores"] >= 1
    kinds = {r["kind"] for r in report["core"]}
    assert {"announce_disjoint", "announce_race_locked", "commit", "heartbeat", "withdraw"} <= kinds
    assert all(r["us_per_msg"] > 0 and r["runs"] for r in report["core"])


@pytest.mark.e2e
def test_bench_symbols_quick_json() -> None:
    report = bench("symbols", "--quick")
    rows = {r["language"]: r for r in report["symbols"]["extraction"]}
    assert set(rows) == {"python", "typescript", "go"}
    for r in rows.values():
        assert r["lines"] >= 1000 and r["symbols"] > 100
        assert r["cold_ms_per_1k_lines"] > 0 and r["cached_us"] > 0 and r["cached_ref_given_us"] > 0
    assert (
        report["symbols"]["merge"]["outcome"] == "merged"
        and report["symbols"]["merge"]["decide_ms"] > 0
    )
    a = report["symbols"]["announce"]
    assert (
        a["symbols"] == 20
        and a["file_level_us"] > 0
        and a["symbols_20_us"] > 0
        and a["symbols_20_shared_file_us"] > 0
    )
    par = {r["granularity"]: r for r in report["symbols"]["parallelism"]}
    assert (par["symbol"]["proceeded"], par["symbol"]["landed"], par["symbol"]["merged"]) == (
        4,
        4,
        3,
    )
    assert (par["file"]["proceeded"], par["file"]["blocked"], par["file"]["landed"]) == (1, 3, 1)


@pytest.mark.e2e
def test_bench_wire_quick_json() -> None:
    report = bench("wire", "--quick", "--clients", "2", "--duration", "1")
    wire = report["wire"]
    assert wire["latency"][0]["clients"] == 2 and wire["latency"][0]["p99_ms"] > 0
    assert wire["throughput"]["messages"] > 0 and wire["memory"]["rss_after_kb"] > 0
    assert wire["throughput"]["sidecar_cpu_us_per_msg"] > 0


@pytest.mark.slow
def test_bench_fleet_quick_json() -> None:
    """About a minute: a PostgreSQL cluster, fleets of 1 and 3 nodes, a chaos run behind nginx."""
    report = bench("fleet", "--quick", "--duration", "2")
    fleet = report["fleet"]
    assert (
        fleet["append"]["postgresql"]["us_per_append"] > 0
        and fleet["append"]["sqlite"]["us_per_append"] > 0
    )
    assert fleet["one_session"]["postgresql"]["msgs_per_sec"] > 0
    assert [(r["synchronous_commit"], r["nodes"]) for r in fleet["aggregate"]] == [
        ("on", 1),
        ("on", 3),
        ("off", 1),
        ("off", 3),
    ]
    assert fleet["failover"]["ok"] and fleet["failover"]["max_ms"] > 0

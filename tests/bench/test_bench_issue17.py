"""The issue-17 benchmark modes run end to end with tiny settings and report the documented JSON
shape (structure only: speed is never asserted)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.bench.launch import HERE, reference_available
from tests.bench.test_bench_cli import bench

pytestmark = pytest.mark.e2e

THIS = "this checkout"


def test_cpu_reports_sidecar_cpu_per_message_per_fanout() -> None:
    report = bench("cpu", "--quick", "--clients", "2,3", "--duration", "1", "--warmup", "0.2")
    cpu = report["cpu"]
    assert [row["clients"] for row in cpu["fanout"]] == [2, 3]
    for row in cpu["fanout"]:
        mine = row[THIS]
        assert mine["runs"] == 1 and len(mine["loads"]) == 1
        assert mine["sidecar_cpu_us_per_msg"] > 0 and mine["msgs_per_sec_after_warmup"] > 0
        assert row["errors"] == 0
        assert "ratio" not in row  # one target only


def quick_cpu(*more: str) -> dict:
    """`bench cpu` at fan-out 2 for about a second per run."""
    return bench("cpu", "--quick", "--clients", "2", "--duration", "1", "--warmup", "0.2", *more)


def test_cpu_ab_alternates_two_checkouts_and_reports_their_ratio(tmp_path: Path) -> None:
    other = tmp_path / "old-checkout"
    shutil.copytree(HERE / "bridge", other / "bridge", ignore=shutil.ignore_patterns("__pycache__"))
    report = quick_cpu("--repeat", "2", "--ab", str(other))
    assert report["targets"] == ["old-checkout", THIS]
    row = report["cpu"]["fanout"][0]
    for label in ("old-checkout", THIS):
        assert row[label]["runs"] == 2 and len(row[label]["sidecar_cpu_us_per_msg_runs"]) == 2
    assert row["ratio"]["sidecar_cpu_us_per_msg"] > 0


def test_a_sidecar_option_is_compared_against_the_defaults_of_the_same_checkout() -> None:
    report = quick_cpu("--ab", str(HERE), "--sidecar-arg=--commit-in-loop")
    labels = ["this checkout, default options", "this checkout --commit-in-loop"]
    assert report["targets"] == labels
    row = report["cpu"]["fanout"][0]
    assert all(row[label]["sidecar_cpu_us_per_msg"] > 0 for label in labels) and not row["errors"]


def test_ab_refuses_a_directory_that_is_not_a_checkout(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "bench", "cpu", "--quick", "--ab", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "not a checkout of mpac-bridge" in out.stderr


def test_rate_reports_first_and_last_seconds_and_rss_per_message() -> None:
    report = bench("rate", "--quick", "--duration", "2", "--warmup", "0.5")
    rate = report["rate"]
    mine = rate[THIS]
    for key in (
        "msgs_per_sec",
        "first_5s_per_sec",
        "last_5s_per_sec",
        "sidecar_cpu_us_per_msg",
        "rss_bytes_per_msg_after_warmup",
        "max_gap_ms",
    ):
        assert mine[key] is not None, key
    run = rate["runs"][0]
    assert run["messages"] > 0 and run["rss_end_kb"] > 0 and run["rss_curve_kb"]
    assert (
        run["loop_stall"] is not None and run["loop_stall"]["max_ms"] >= 0
    )  # the sidecar's loop watch was on


def test_memory_reports_bytes_per_active_intent_and_the_peak() -> None:
    report = bench("memory", "--quick", "--sizes", "50,100")
    rows = report["memory"]["rows"]
    assert [r["intents"] for r in rows] == [50, 100]
    for r in rows:
        run = r["runs"][0]
        assert run["rss_after_kb"] > 0 and run["hwm_kb"] >= run["rss_after_kb"]
        assert r[THIS]["bytes_per_intent"] is not None


def test_relay_measures_ours_and_the_reference_in_one_run() -> None:
    report = bench(
        "relay", "--quick", "--sizes", "10,30", "--ref-sizes", "10", "--samples", "5", "--idle", "2"
    )
    relay = report["relay"]
    ours = [r for r in relay["rows"] if r["target"] == THIS]
    assert [r["active"] for r in ours] == [10, 30]
    assert all(
        r["connections"] == 5
        and r["p50_ms"] > 0
        and r["p99_ms"] >= r["p50_ms"]
        and r["errors"] == 0
        for r in relay["rows"]
    )
    if reference_available() is None:
        ref = [r for r in relay["rows"] if r["target"] != THIS]
        assert [r["active"] for r in ref] == [10]
        assert relay["ratios"][0]["active"] == 10 and relay["ratios"][0]["p50_times_faster"] > 0
    else:
        assert "not installed" in relay["reference"]


def test_relay_floor_runs_the_floor_server_next_to_ours() -> None:
    report = bench(
        "relay",
        "--quick",
        "--floor",
        "--sizes",
        "10",
        "--ref-sizes",
        "none",
        "--samples",
        "5",
        "--idle",
        "2",
    )
    relay = report["relay"]
    assert [r["target"] for r in relay["rows"]] == [THIS, "floor server"]
    for r in relay["rows"]:
        assert r["active"] == 10 and r["connections"] == 5 and r["errors"] == 0
        assert r["p50_ms"] > 0 and r["p99_ms"] >= r["p50_ms"]


def test_cpu_floor_measures_the_floor_server_and_the_ratio_to_it() -> None:
    report = bench(
        "cpu", "--quick", "--floor", "--clients", "2", "--duration", "1", "--warmup", "0.2"
    )
    assert report["targets"] == [THIS]
    row = report["cpu"]["fanout"][0]
    for label in ("floor server", THIS):
        assert row[label]["sidecar_cpu_us_per_msg"] > 0
    assert row["ratio"]["sidecar_cpu_us_per_msg"] > 0  # this checkout / the floor


def test_stall_reports_the_loop_watch_and_the_client_gap() -> None:
    report = bench(
        "stall", "--quick", "--active", "50", "--objective-bytes", "2048", "--duration", "1.5"
    )
    run = report["stall"]["runs"][0]
    assert run["active"] == 50 and run["objective_bytes"] == 2048 and run["messages"] > 0
    assert run["loop_stall"]["max_ms"] >= 0 and run["loop_stall"]["over_20ms"] >= 0
    assert run["max_gap_ms"] > 0 and run["errors"] == 0


def test_startup_reports_medians_and_import_summaries() -> None:
    report = bench("startup", "--quick", "--repeat", "1")
    mine = report["startup"]["targets"][THIS]
    for key in (
        "sidecar_ready_ms",
        "sidecar_session_info_ms",
        "hook_deny_ms",
        "hook_allow_ms",
        "mcp_initialize_ms",
        "mcp_tools_list_ms",
    ):
        assert mine[key] > 0 and len(mine["samples_ms"][key]) == 1
    assert mine["sidecar_session_info_ms"] >= mine["sidecar_ready_ms"]
    assert mine["mcp_tools_list_ms"] >= mine["mcp_initialize_ms"]
    for what in ("sidecar", "hook_deny", "mcp_initialize"):
        imports = mine["imports"][what]
        assert imports["total_ms"] > 0 and len(imports["top_cumulative"]) == 10
        packages = {p["package"] for p in imports["top_packages"]}
        if what == "mcp_initialize":  # the SDK's imports, under our server module
            assert packages & {"mcp", "mcp_types"}, packages
            assert "bridge.mcp.server" in {m["module"] for m in imports["top_cumulative"]}
        else:
            assert "bridge" in packages, what


def test_profile_groups_self_time_by_kind() -> None:
    report = bench("profile", "--quick", "--duration", "1.5", "--warmup", "0.3", "--top", "5")
    prof = report["profile"]
    assert prof["profiler"] == "cprofile" and prof["messages"] > 0
    assert len(prof["top_self"]) == 5 and len(prof["top_cumulative"]) == 5
    kinds = {c["category"] for c in prof["by_category"]}
    assert {"bridge.core", "json", "sqlite"} <= kinds
    assert abs(sum(c["share"] for c in prof["by_category"]) - 1) < 0.01

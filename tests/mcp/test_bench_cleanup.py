"""The MCP benchmark leaves no sidecar behind: the MCP server starts the scratch repository's
sidecar as soon as it is initialized, so the benchmark must stop it."""

from __future__ import annotations

import subprocess

import pytest

from bridge.mcp import bench

pytestmark = pytest.mark.e2e


def bench_sidecars() -> set[str]:
    out = subprocess.run(
        ["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True
    ).stdout
    return {
        line.split()[0]
        for line in out.splitlines()
        if "bridge sidecar" in line and "mpac-bench-" in line
    }


def test_initialize_benchmark_stops_the_sidecar_it_caused() -> None:
    before = bench_sidecars()
    assert bench.initialize_ms() > 0
    assert bench_sidecars() - before == set()


def test_mcp_benchmark_reports_the_edge_figures_and_stops_its_sidecars() -> None:
    before = bench_sidecars()
    report = bench.run(1, files=200, big_mib=2)
    edges = report["edges"]
    assert edges["begin_task_files"] == 200 and edges["begin_task_ms"] > 0
    assert edges["big_file_size"] >= 2 * 1024 * 1024 - 1024 and edges["rss_peak_after_mib"] > 0
    assert bench_sidecars() - before == set()

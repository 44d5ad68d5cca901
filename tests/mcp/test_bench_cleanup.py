"""The MCP benchmark leaves no sidecar behind: the MCP server starts the scratch repository's
sidecar as soon as it is initialized, so the benchmark must stop it."""

from __future__ import annotations

import subprocess

import pytest

from bridge.mcp import bench

pytestmark = pytest.mark.e2e


def bench_sidecars() -> set[str]:
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if "bridge sidecar" in line and "mpac-bench-" in line}


def test_initialize_benchmark_stops_the_sidecar_it_caused() -> None:
    before = bench_sidecars()
    assert bench.initialize_ms() > 0
    assert bench_sidecars() - before == set()

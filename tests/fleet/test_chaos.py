"""Fleet chaos on real PostgreSQL and nginx: 3 nodes, 20 sessions with 3 clients each announcing
and committing, the busiest node killed with SIGKILL 5 times (restarted each time)."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from bridge.bench import chaos

pytestmark = pytest.mark.e2e


async def test_kill9_chaos_loses_nothing_acknowledged(
    pg_url: str, tmp_path: Path, nginx_ok: None
) -> None:
    report = await chaos.run(pg_url, tmp_path, sessions=20, clients=3, kills=5, progress=print)
    fo = report.failovers_ms
    print(
        f"chaos: {report.acked_intents} intents and {report.acked_commits} commits acknowledged, {report.failures} requests "
        f"failed during failovers, {report.seconds:.1f} s; failover (kill -9 -> first client served again) over "
        f"{len(fo)} session takeovers: p50 {statistics.median(fo):.0f} ms, max {max(fo):.0f} ms"
    )
    assert len(report.kills) == 5 and all(k["sessions"] >= 1 for k in report.kills)
    assert report.acked_intents >= 20 * 3 * 5 and report.acked_commits >= 20 * 3 * 5
    assert report.missing_intents == [], report.missing_intents[:10]
    assert report.missing_commits == [], report.missing_commits[:10]
    assert report.differing == [], report.differing[
        :10
    ]  # no message id delivered twice with different content
    assert report.epoch_regressions == [] and report.lease_regressions == []  # epochs only grow
    assert max(fo) < 10_000  # the default target: a killed node's sessions are back within 10 s

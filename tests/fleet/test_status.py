"""`mpac-bridge fleet status`: sessions with their holder, epoch, lease expiry and journal length,
and the nodes; `fleet migrate`."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from bridge.client import SessionClient
from tests.support.fleet import start_node

pytestmark = pytest.mark.e2e


async def fleet_cli(*argv: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "fleet",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def test_fleet_status_lists_sessions_holders_epochs_leases_and_journal_length(
    pg_url: str, tmp_path: Path
) -> None:
    code, out = await fleet_cli("migrate", "--store", pg_url)
    assert code == 0 and "is current" in out
    a = await start_node(pg_url, "a", tmp_path, ttl=30)
    b = await start_node(pg_url, "b", tmp_path, ttl=30)
    try:
        x = SessionClient(a.session_url("alpha"), "agent:x")
        y = SessionClient(b.session_url("beta"), "agent:y")
        await x.connect()
        await y.connect()
        for n in range(3):
            assert (await x.announce(f"task {n}", [f"f{n}.py"])).ok
        code, out = await fleet_cli("status", "--store", pg_url, "--json")
        assert code == 0, out
        status = json.loads(out)
        by_id = {s["session_id"]: s for s in status["sessions"]}
        assert by_id["alpha"]["holder"].startswith("a/") and by_id["beta"]["holder"].startswith(
            "b/"
        )
        assert by_id["alpha"]["epoch"] == 1 and 25 < by_id["alpha"]["lease_expires_in"] <= 30
        assert (
            by_id["alpha"]["journal_length"] >= 4 > by_id["beta"]["journal_length"] >= 1
        )  # HELLO + 3 announces
        nodes = {n["name"]: n for n in status["nodes"]}
        assert (
            nodes["a"]["state"] == "alive"
            and nodes["a"]["sessions"] == 1
            and nodes["a"]["url"] == a.url
        )
        code, text = await fleet_cli("status", "--store", pg_url)
        assert code == 0
        assert "SESSION" in text and "HOLDER" in text and "alpha" in text and "s left" in text
        await x.close()
        await y.close()
    finally:
        await a.stop()
        await b.stop()
    code, text = await fleet_cli("status", "--store", pg_url)
    assert (
        "(released)" in text and "2 stopped or gone not shown" in text
    )  # a clean stop releases its leases
    code, out = await fleet_cli("status")
    assert code == 2 and "MPAC_STORE_URL" in out

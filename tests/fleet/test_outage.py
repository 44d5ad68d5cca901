"""A PostgreSQL outage (docs/hosted.md, "When PostgreSQL is down"): a node stops accepting changes
with a clear error, resumes by itself when the database returns, and loses nothing acknowledged.
The node's password never appears in its output, its errors or `fleet status`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.client import JoinRefused, SessionClient
from tests.fleet.conftest import PASSWORD
from tests.support.fleet import log_of, start_node

pytestmark = pytest.mark.e2e


async def test_changes_are_refused_during_an_outage_and_accepted_again_after_it(
    own_pg: Any, tmp_path: Path
) -> None:
    url = own_pg.url(user="mpac", password=PASSWORD, dbname="fleet")
    node = await start_node(url, "a", tmp_path, env={"MPAC_STORE_URL": url})
    x = SessionClient(node.session_url("s"), "agent:x")
    await x.connect()
    assert (await x.announce("acknowledged before", ["a.py"], intent_id="before")).ok
    own_pg.stop("fast")
    try:
        refused = await x.announce("during the outage", ["b.py"], intent_id="during")
        assert refused.error_code == "COORDINATOR_UNAVAILABLE", refused
        assert (
            "store is unavailable" in refused.description and "not applied" in refused.description
        )
        again = await x.announce("still down", ["c.py"], intent_id="during2")
        assert again.error_code == "COORDINATOR_UNAVAILABLE"
        with pytest.raises(JoinRefused) as newcomer:  # a session this node does not serve yet
            await SessionClient(node.session_url("other"), "agent:y").connect()
        assert (
            newcomer.value.code == "HTTP_503"
            and "store is unavailable" in newcomer.value.description
        )
        rejoined = x.wait_for(
            lambda m: m.get("message_type") == "SESSION_INFO" and m.get("coordinator_epoch") == 2,
            60,
        )
    finally:
        own_pg.start()
    await rejoined  # the node noticed by itself, reloaded the session and had its clients rejoin
    assert (await x.announce("after", ["d.py"], intent_id="after")).ok
    assert (
        "before" in x.view.intents
        and "during" not in x.view.intents
        and "during2" not in x.view.intents
    )
    y = SessionClient(node.session_url("other"), "agent:y")
    await y.connect()
    await y.close()
    await x.close()
    log = log_of(node)
    assert "refusing changes until it answers again" in log and "the store answers again" in log
    await node.stop()
    assert PASSWORD not in log_of(node)


async def test_the_password_never_reaches_output_errors_or_fleet_status(
    own_pg: Any, tmp_path: Path
) -> None:
    url = own_pg.url(user="mpac", password=PASSWORD, dbname="fleet")
    wrong = own_pg.url(user="mpac", password=PASSWORD + "-wrong", dbname="fleet")

    async def run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bridge",
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out.decode(errors="replace")

    code, out = await run(
        "sidecar",
        "--multi-session",
        "--store",
        wrong,
        "--data-dir",
        str(tmp_path / "w"),
        "--port",
        "0",
    )
    assert code == 2 and "password authentication failed" in out and PASSWORD not in out, out
    code, out = await run(
        "sidecar",
        "--multi-session",
        "--data-dir",
        str(tmp_path / "u"),
        "--port",
        "0",
        env={"MPAC_STORE_URL": url.replace(f":{own_pg.port}/", ":1/")},
    )
    assert code == 2 and "cannot connect" in out and PASSWORD not in out, out
    node = await start_node(url, "a", tmp_path)
    try:
        client = SessionClient(node.session_url("s"), "agent:x")
        await client.connect()
        await client.close()
        assert PASSWORD not in node.ready_line and "mpac:***@" in node.ready_line
        code, out = await run("fleet", "status", "--store", url)
        assert code == 0 and "s" in out and PASSWORD not in out, out
        code, out = await run("fleet", "status", "--store", wrong)
        assert code != 0 and PASSWORD not in out, out
    finally:
        await node.stop()
    assert PASSWORD not in log_of(node)

"""Failover and fencing between real fleet nodes on one PostgreSQL (no proxy: clients reach a node
directly, and a node that does not serve the session redirects them to the one that does)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from bridge.client import SessionClient
from tests.support.fleet import lease, log_of, query, start_node, until

pytestmark = pytest.mark.e2e


async def test_a_second_node_redirects_to_the_holder_and_takes_over_when_it_is_killed(
    pg_url: str, tmp_path: Path
) -> None:
    a = await start_node(pg_url, "a", tmp_path)
    b = await start_node(pg_url, "b", tmp_path)
    x = SessionClient(a.session_url("s"), "agent:x")
    await x.connect()
    assert lease(pg_url, "s")[:2] == ("a", 1)
    assert (await x.announce("first", ["one.py"], intent_id="i1")).ok
    assert (await x.commit("i1", "one.py", None, "sha256:one")).ok
    y = SessionClient(b.session_url("s"), "agent:y")  # b sends y to a
    await y.connect()
    assert y.session_info["coordinator_epoch"] == 1 and "i1" in y.view.intents
    assert (await y.announce("second", ["two.py"], intent_id="i2")).ok
    assert (await y.commit("i2", "two.py", None, "sha256:two")).ok
    assert "307 Temporary Redirect" in log_of(b)
    killed = time.monotonic()
    await a.kill9()
    # y reconnects through b (its url), which takes the session over: a's database session is gone
    await until(
        lambda: y.connected.is_set() and y.session_info["coordinator_epoch"] == 2,
        30,
        "y served again",
    )
    failover = time.monotonic() - killed
    print(f"failover (kill -9 -> first client served again): {failover * 1000:.0f} ms")
    assert failover < 10
    assert lease(pg_url, "s")[:2] == ("b", 2)
    assert {"i1", "i2"} <= set(y.view.intents)
    assert y.view.targets["one.py"]["state_ref"] == "sha256:one"
    assert y.view.targets["two.py"]["state_ref"] == "sha256:two"
    assert (await y.commit("i2", "two.py", None, "sha256:three")).error_code == "STALE_STATE_REF"
    assert (await y.announce("third", ["three.py"], intent_id="i3")).ok
    assert "taken over from node a/" in log_of(b) and "its node is gone" in log_of(b)
    await x.abort()
    await y.close()
    await b.stop()


async def test_a_paused_holder_is_fenced_by_the_database_after_another_node_took_over(
    pg_url: str, tmp_path: Path
) -> None:
    """SIGSTOP the holder, let another node take the session once the lease expires, SIGCONT it:
    its next append is refused by the database, it drops the session, and the journal has no
    entry from it after the takeover."""
    a = await start_node(pg_url, "a", tmp_path, ttl=2.0)
    b = await start_node(pg_url, "b", tmp_path, ttl=2.0)
    x = SessionClient(a.session_url("s"), "agent:x")
    await x.connect()
    assert (await x.announce("before the pause", ["a.py"], intent_id="kept")).ok
    os.kill(a.pid, signal.SIGSTOP)
    try:
        await until(lambda: (lease(pg_url, "s")[2] or 0) < 0, 30, "a's lease to expire")
        z = SessionClient(b.session_url("s"), "agent:z")
        await z.connect()  # b takes the expired lease
        assert z.session_info["coordinator_epoch"] == 2 and "kept" in z.view.intents
        assert lease(pg_url, "s")[:2] == ("b", 2)
        # x's next message waits in a's socket while a is stopped
        pending = asyncio.ensure_future(
            x.announce("sent to the paused node", ["late.py"], intent_id="late")
        )
        await asyncio.sleep(0)
    finally:
        os.kill(a.pid, signal.SIGCONT)
    reply = await asyncio.wait_for(pending, 30)
    assert not reply.ok  # never acknowledged: a's append was refused, the connection closed
    await until(lambda: "session s dropped" in log_of(a), 30, "a to drop the session")
    assert "the database refused the write" in log_of(a)
    # x comes back through a, which now redirects it to b
    await until(
        lambda: x.connected.is_set() and x.session_info["coordinator_epoch"] == 2,
        30,
        "x served by b",
    )
    assert "late" not in x.view.intents and "kept" in x.view.intents
    rows = query(
        pg_url,
        "SELECT seq, epoch, split_part(node, '/', 1) FROM mpac_journal WHERE session_id = 's' ORDER BY seq",
    )
    assert rows and all(epoch == 2 and node == "b" for _seq, epoch, node in rows), rows
    assert "lease lost" in log_of(a) or "the database refused the write" in log_of(a)
    await x.close()
    await z.close()
    await a.stop()
    await b.stop()

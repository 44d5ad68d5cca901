"""The group commit end to end (issue 17): when SQLite refuses a turn's entries, nothing of those
calls is sent, and their sender is told to retry (PROTOCOL_ERROR COORDINATOR_UNAVAILABLE)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from bridge.core import CoordinatorConfig
from bridge.server.config import ServerConfig
from bridge.server.embed import serve_sidecar
from tests.core.helpers import msg
from tests.server.wsread import recv_json, until


def frame(mtype: str, principal: str, payload: dict, mid: str | None = None) -> str:
    return json.dumps(msg(mtype, principal, payload, session="g1", now=time.time(), mid=mid))


@pytest.mark.parametrize("in_loop", [False, True], ids=["journal-thread", "commit-in-loop"])
async def test_a_refused_group_sends_nothing_of_it_and_tells_the_sender(
    tmp_path: Path, in_loop: bool
) -> None:
    running = await serve_sidecar(
        ServerConfig(multi_session=True, data_dir=tmp_path, commit_in_loop=in_loop),
        CoordinatorConfig(),
    )
    try:
        url = running.session_url("g1")
        async with connect(url) as alice, connect(url) as bob:
            for ws, who in ((alice, "agent:alice"), (bob, "agent:bob")):
                await ws.send(frame("HELLO", who, {"display_name": who, "roles": ["contributor"]}))
                await until(ws, "SESSION_INFO")
            store = running.sidecar.store
            store._db.execute("PRAGMA busy_timeout=50")  # fail fast instead of waiting 5 s
            other = sqlite3.connect(store.path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another writer holds the journal's lock
            try:
                scope = {"kind": "file_set", "resources": ["src/a.py"]}
                announce = {"intent_id": "i-lost", "objective": "x", "scope": scope}
                await alice.send(frame("INTENT_ANNOUNCE", "agent:alice", announce, mid="m-lost"))
                refusal = await until(alice, "PROTOCOL_ERROR")
                assert refusal["payload"]["error_code"] == "COORDINATOR_UNAVAILABLE"
                assert refusal["payload"]["refers_to"] == "m-lost"
                # everything bob gets up to the answer to his own probe: never the lost announce
                await bob.send(frame("HEARTBEAT", "agent:bob", {"status": "idle"}, mid="m-bob"))
                while (m := await recv_json(bob))["payload"].get("refers_to") != "m-bob":
                    assert "i-lost" not in json.dumps(m), m
                assert m["payload"]["error_code"] == "COORDINATOR_UNAVAILABLE"
            finally:
                other.execute("ROLLBACK")
                other.close()
        _snap, entries = store.load("g1")
        assert not any("i-lost" in (e.raw or "") for e in entries)  # nothing of it was written
    finally:
        await running.stop()


async def test_a_commit_waiting_for_the_disk_does_not_hold_the_event_loop(tmp_path: Path) -> None:
    """The journal's thread commits, not the loop: while the commit of alice's announce waits for
    the database (another writer holds its lock), the sidecar still accepts bob's connection, and
    alice gets her answer once the commit went through, with the announce in the journal."""
    running = await serve_sidecar(
        ServerConfig(multi_session=True, data_dir=tmp_path), CoordinatorConfig()
    )
    try:
        url = running.session_url("g1")
        async with connect(url) as alice:
            await alice.send(frame("HELLO", "agent:alice", {"display_name": "a"}))
            await until(alice, "SESSION_INFO")
            store = running.sidecar.store
            other = sqlite3.connect(store.path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # the sidecar's commit waits (up to 5 s) for this
            try:
                scope = {"kind": "file_set", "resources": ["src/a.py"]}
                announce = {"intent_id": "i-held", "objective": "x", "scope": scope}
                await alice.send(frame("INTENT_ANNOUNCE", "agent:alice", announce, mid="m-held"))
                writer = running.sidecar.journal.writer
                deadline = time.monotonic() + 10
                while writer.wait_idle(0):  # until the loop has handled it: the writer waits
                    assert time.monotonic() < deadline, "the announce never reached the writer"
                    await asyncio.sleep(0.005)
                async with connect(url):  # the handshake needs the loop
                    pass
                reader = sqlite3.connect(store.path)
                held = "SELECT COUNT(*) FROM journal WHERE raw LIKE '%i-held%'"
                assert reader.execute(held).fetchone()[0] == 0  # not committed yet
                reader.close()
            finally:
                other.execute("ROLLBACK")
                other.close()
            answer = await until(alice, "INTENT_ANNOUNCE")
            assert answer["payload"]["intent_id"] == "i-held"
        _snap, entries = store.load("g1")
        assert any("i-held" in (e.raw or "") for e in entries)
    finally:
        await running.stop()

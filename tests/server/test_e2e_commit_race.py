"""Issue 13.1 over the raw wire: two commits from one base, before either writes, against a real
sidecar that hashes the repository's files. Only the first is accepted."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from bridge.workspace import find_repo, state_ref_of_bytes
from tests.core.helpers import msg
from tests.support.sidecar import start_sidecar
from tests.workspace.helpers import git, make_repo

pytestmark = pytest.mark.e2e


async def reply_to(ws, message_id: str) -> dict:
    """The first frame answering `message_id` (its relay, in_reply_to or refers_to; conflict
    reports the message caused are not answers)."""
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), 30))
        p = m.get("payload") or {}
        if m.get("message_type") != "CONFLICT_REPORT" and message_id in (
            m.get("message_id"),
            m.get("in_reply_to"),
            p.get("refers_to"),
        ):
            return m


async def test_two_commits_from_one_base_before_either_writes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    (root / "src").mkdir()
    (root / "src" / "a.py").write_text("x = 1\n")
    git(root, "add", "src/a.py")
    git(root, "commit", "-qm", "src")
    sid = find_repo(root).session_id
    base = state_ref_of_bytes(b"x = 1\n")
    sc = await start_sidecar("--workspace", str(root), data_dir=tmp_path / "data")
    try:
        async with connect(sc.url) as alice, connect(sc.url) as bob:
            for ws, pid in ((alice, "agent:alice"), (bob, "agent:bob")):
                hello = msg(
                    "HELLO",
                    pid,
                    {"display_name": pid, "roles": ["contributor"]},
                    session=sid,
                    now=time.time(),
                )
                await ws.send(json.dumps(hello))
                assert (await reply_to(ws, hello["message_id"]))["message_type"] == "SESSION_INFO"
            glob = msg(
                "INTENT_ANNOUNCE",
                "agent:alice",
                {
                    "intent_id": "ia",
                    "objective": "all of src",
                    "scope": {"kind": "file_set", "resources": ["src/*.py"]},
                },
                session=sid,
                now=time.time(),
            )
            await alice.send(json.dumps(glob))
            assert (await reply_to(alice, glob["message_id"]))["message_type"] == "INTENT_ANNOUNCE"
            one = msg(
                "INTENT_ANNOUNCE",
                "agent:bob",
                {
                    "intent_id": "ib",
                    "objective": "a only",
                    "scope": {"kind": "file_set", "resources": ["src/a.py"]},
                },
                session=sid,
                now=time.time(),
            )
            await bob.send(json.dumps(one))
            assert (await reply_to(bob, one["message_id"]))[
                "message_type"
            ] == "INTENT_ANNOUNCE"  # an overlap, not a lock

            def op(pid: str, op_id: str, intent: str, after: bytes) -> dict:
                return msg(
                    "OP_COMMIT",
                    pid,
                    {
                        "op_id": op_id,
                        "intent_id": intent,
                        "target": "src/a.py",
                        "op_kind": "replace",
                        "state_ref_before": base,
                        "state_ref_after": state_ref_of_bytes(after),
                    },
                    session=sid,
                    now=time.time(),
                    lamport=10,
                )

            first, second = (
                op("agent:alice", "op-a", "ia", b"x = 2\n"),
                op("agent:bob", "op-b", "ib", b"x = 3\n"),
            )
            await alice.send(json.dumps(first))
            await bob.send(json.dumps(second))  # before anyone wrote: the disk still shows the base
            got_a = await reply_to(alice, first["message_id"])
            got_b = await reply_to(bob, second["message_id"])
            assert got_a["message_type"] == "OP_COMMIT"
            assert got_b["message_type"] == "PROTOCOL_ERROR", got_b
            assert got_b["payload"]["error_code"] == "STALE_STATE_REF"
            ext = got_b["payload"]["extensions"]["mpac-bridge"]
            assert (
                ext["current_state_ref"] == state_ref_of_bytes(b"x = 2\n")
                and ext["pending_op_id"] == "op-a"
            )
            # A late joiner learns one commit for the file: Alice's.
            async with connect(sc.url) as late:
                hello = msg(
                    "HELLO", "agent:late", {"display_name": "late"}, session=sid, now=time.time()
                )
                await late.send(json.dumps(hello))
                info = await reply_to(late, hello["message_id"])
                targets = info["payload"]["extensions"]["mpac-bridge"]["state"]["targets"]
                assert targets["src/a.py"]["op_id"] == "op-a"
    finally:
        await sc.stop()

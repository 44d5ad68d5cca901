"""The reference package's parser over the wire (issue 13, point 6): a participant that joins in
the reference's dialect (`mpac` 0.2.13, protocol version 0.1.13, or its implementation name) gets
frames its `MessageEnvelope.from_dict` reads, with `in_reply_to` and envelope `extensions` kept in
`payload.extensions["mpac-bridge"].envelope`; our own clients still get them in the envelope."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mpac_protocol.core import participant  # the real reference package (test extras)
from mpac_protocol.core.envelope import MessageEnvelope
from mpac_protocol.core.models import Scope
from websockets.asyncio.client import ClientConnection, connect

from bridge.client import SessionClient
from tests.core.helpers import msg
from tests.support.sidecar import sidecar

pytestmark = pytest.mark.e2e
SID = "refdialect"
WAIT = 30.0


class Reader:
    """Every frame a raw connection receives, each parsed by the reference's MessageEnvelope."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.refused: list[tuple[dict[str, Any], Exception]] = []
        self.changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            data = json.loads(raw)
            try:
                MessageEnvelope.from_dict(data)
            except Exception as exc:  # what the reference client would have died on
                self.refused.append((data, exc))
            self.frames.append(data)
            self.changed.set()

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while True:
            for frame in self.frames:
                if predicate(frame):
                    return frame
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - time.monotonic()))

    def types(self) -> set[str]:
        return {f["message_type"] for f in self.frames}


def ext(frame: dict[str, Any]) -> dict[str, Any]:
    return ((frame.get("payload") or {}).get("extensions") or {}).get("mpac-bridge") or {}


async def test_a_reference_participant_reads_every_frame(tmp_path: Path) -> None:
    ref = participant.Participant("agent:ref", "agent", "ref")
    async with sidecar("--session-id", SID, data_dir=tmp_path) as sc:
        a = SessionClient(sc.url, "agent:a", session_id=SID)
        info = await a.connect()
        assert info.get("in_reply_to")  # ordinary clients keep the v0.1.15 envelope
        assert (await a.announce("a work", ["a.py"], intent_id="ia")).ok
        async with connect(sc.url) as ws:
            reader = Reader(ws)
            hello = ref.hello(SID)
            assert hello["version"] == "0.1.13"
            await ws.send(json.dumps(hello))
            session_info = await reader.until(lambda f: f["message_type"] == "SESSION_INFO")
            assert (
                "in_reply_to" not in session_info
                and ext(session_info)["envelope"]["in_reply_to"] == hello["message_id"]
            )
            replay = await reader.until(
                lambda f: f["message_type"] == "HELLO" and f["sender"]["principal_id"] == "agent:a"
            )
            assert (
                "extensions" not in replay
                and ext(replay)["envelope"]["extensions"]["mpac-bridge"]["replay"] is True
            )
            lead = SessionClient(sc.url, "human:lead", session_id=SID, roles=["arbiter"])
            await lead.connect()
            await reader.until(
                lambda f: (
                    f["message_type"] == "HELLO" and f["sender"]["principal_id"] == "human:lead"
                )
            )
            await ws.send(
                json.dumps(
                    ref.announce_intent(
                        SID, "ir", "all python", Scope(kind="resource_path", pattern="*.py"), 600
                    )
                )
            )
            await reader.until(lambda f: f["message_type"] == "CONFLICT_REPORT")
            assert (await a.commit("ia", "a.py", None, "sha256:" + "1" * 64)).ok
            await a.close(disposition="transfer")
            await reader.until(
                lambda f: (
                    f["message_type"] == "INTENT_UPDATE" and ext(f).get("state") == "SUSPENDED"
                )
            )
            relayed = lead.wait_for(lambda m: m.get("message_type") == "INTENT_CLAIM", WAIT)
            await ws.send(
                json.dumps(
                    ref.claim_intent(
                        SID,
                        "c1",
                        "ia",
                        "agent:a",
                        "ia2",
                        "finish",
                        Scope(kind="file_set", resources=["a.py"]),
                    )
                )
            )
            claim = (await relayed)["payload"]
            assert (
                await lead.request(
                    "INTENT_CLAIM",
                    {**claim, "extensions": {"mpac-bridge": {"decision": "approved"}}},
                )
            ).ok
            status = await reader.until(lambda f: f["message_type"] == "INTENT_CLAIM_STATUS")
            assert (
                status["payload"]["decision"] == "approved"
                and ext(status)["envelope"]["in_reply_to"]
            )
            crashed = SessionClient(sc.url, "agent:crashed", session_id=SID)
            await crashed.connect()
            await crashed.abort()
            await reader.until(
                lambda f: f["message_type"] == "COORDINATOR_STATUS" and "presence" in ext(f)
            )
            bad = msg(
                "INTENT_WITHDRAW",
                "agent:ref",
                {"intent_id": "nope"},
                session=SID,
                now=time.time(),
                mid="ref-bad",
            )
            bad["sender"] = hello["sender"]
            await ws.send(json.dumps(bad))
            error = await reader.until(lambda f: f["message_type"] == "PROTOCOL_ERROR")
            assert ext(error)["envelope"]["in_reply_to"] == "ref-bad"
            await lead.close()
            await reader.until(
                lambda f: (
                    f["message_type"] == "GOODBYE" and f["sender"]["principal_id"] == "human:lead"
                )
            )
            reader.task.cancel()
        assert not reader.refused, reader.refused[:3]
        assert {
            "SESSION_INFO",
            "HELLO",
            "INTENT_ANNOUNCE",
            "CONFLICT_REPORT",
            "OP_COMMIT",
            "GOODBYE",
            "INTENT_UPDATE",
            "INTENT_CLAIM",
            "INTENT_CLAIM_STATUS",
            "COORDINATOR_STATUS",
            "PROTOCOL_ERROR",
        } <= reader.types()


async def test_the_implementation_name_selects_the_dialect_too(tmp_path: Path) -> None:
    async with sidecar("--session-id", SID, data_dir=tmp_path) as sc:
        a = SessionClient(sc.url, "agent:a", session_id=SID)
        await a.connect()
        async with connect(sc.url) as ws:
            reader = Reader(ws)
            hello = msg(
                "HELLO",
                "agent:mcp",
                {
                    "display_name": "m",
                    "roles": ["contributor"],
                    "capabilities": [],
                    "implementation": {"name": "mpac-mcp", "version": "0.2.25"},
                },
                session=SID,
                now=time.time(),
            )
            await ws.send(json.dumps(hello))
            await reader.until(
                lambda f: f["message_type"] == "HELLO" and f["sender"]["principal_id"] == "agent:a"
            )
            reader.task.cancel()
        await a.close()
        assert not reader.refused and "SESSION_INFO" in reader.types()


async def test_a_reference_participant_sees_symbol_claims_as_a_coarser_picture(
    tmp_path: Path,
) -> None:
    """Issue 19: a client that only knows `file_set` (the reference package) reads symbol intents,
    judges them with its own overlap rules as covering their file (never missing an overlap), is
    blocked on a file whose symbols others hold, blocks symbol claims on a file it holds, and sees
    every commit's file exactly."""
    from mpac_protocol.core.scope import scope_overlap

    ref = participant.Participant("agent:ref", "agent", "ref")
    async with sidecar("--session-id", SID, data_dir=tmp_path) as sc:
        a = SessionClient(sc.url, "agent:a", session_id=SID)
        b = SessionClient(sc.url, "agent:b", session_id=SID)
        await a.connect()
        await b.connect()
        assert (await a.announce("f", ["shop.py"], symbols=["shop.py::f"], intent_id="ia")).ok
        assert (
            await b.announce("g", ["shop.py"], symbols=["shop.py::g"], intent_id="ib")
        ).ok  # other symbol, same file
        async with connect(sc.url) as ws:
            reader = Reader(ws)
            await ws.send(json.dumps(ref.hello(SID)))
            frames = [
                await reader.until(
                    lambda f, i=i: (
                        f["message_type"] == "INTENT_ANNOUNCE" and f["payload"]["intent_id"] == i
                    )
                )
                for i in ("ia", "ib")
            ]
            theirs = [Scope.from_dict(f["payload"]["scope"]) for f in frames]
            mine = Scope(kind="file_set", resources=["shop.py"])
            assert all(
                scope_overlap(mine, s) for s in theirs
            )  # coarse: each covers the reference's file
            assert not scope_overlap(
                theirs[0], theirs[1]
            )  # and the two claims do not meet, as for us
            await ws.send(json.dumps(ref.announce_intent(SID, "ir", "whole shop", mine, 600)))
            refused = await reader.until(lambda f: f["message_type"] == "PROTOCOL_ERROR")
            assert refused["payload"]["error_code"] == "STALE_INTENT"
            held = ext(refused)["holders"]
            assert {h["intent_id"] for h in held} == {"ia", "ib"} and all(
                h["files"] == ["shop.py"] for h in held
            )
            await ws.send(
                json.dumps(
                    ref.announce_intent(
                        SID, "ir2", "lib", Scope(kind="file_set", resources=["lib.py"]), 600
                    )
                )
            )
            await reader.until(
                lambda f: (
                    f["message_type"] == "INTENT_ANNOUNCE" and f["payload"]["intent_id"] == "ir2"
                )
            )
            blocked = await a.announce("h", ["lib.py"], symbols=["lib.py::h"], intent_id="ia2")
            assert blocked.error_code == "STALE_INTENT"  # a symbol in a file the reference holds
            assert (await a.commit("ia", "shop.py", None, "sha256:" + "1" * 64)).ok
            commit = await reader.until(lambda f: f["message_type"] == "OP_COMMIT")
            assert commit["payload"]["target"] == "shop.py"
            reader.task.cancel()
        await a.close()
        await b.close()
        assert not reader.refused, reader.refused[:3]

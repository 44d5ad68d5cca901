"""The client actions front-ends send through, against a REAL sidecar: taking over a suspended
intent (local refusals, pending, approved), escalating to the session's arbiter, and following a
sidecar that moved to a new port. Every wait is on an event."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bridge.client import SessionClient, follow_sidecar
from bridge.client.notices import connection_state
from tests.support.sidecar import sidecar, start_sidecar

pytestmark = pytest.mark.e2e
SID = "act"
WAIT = 30.0


def client(url: str, pid: str, **kw: Any) -> SessionClient:
    return SessionClient(url, pid, session_id=SID, **kw)


async def test_take_over_checks_the_view_then_claims_pending_until_approved(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, data_dir=tmp_path) as sc,
        client(sc.url, "agent:old") as old,
        client(sc.url, "agent:new") as new,
        client(sc.url, "human:lead", roles=["owner"]) as lead,
    ):
        assert (await old.announce("half done", ["h.py"], intent_id="orig")).ok
        missing = await new.take_over("nope")
        assert not missing.ok and missing.error_code == "NO_SUCH_INTENT" and missing.decision == ""
        assert await new.wait_until(lambda v: "orig" in v.intents, WAIT)
        active = await new.take_over("orig")
        assert (
            not active.ok
            and active.error_code == "NOT_SUSPENDED"
            and "ACTIVE" in active.description
        )
        await old.close(disposition="transfer")
        assert await new.wait_until(
            lambda v: v.intents.get("orig", {}).get("state") == "SUSPENDED", WAIT
        )
        relayed = lead.wait_for(lambda m: m.get("message_type") == "INTENT_CLAIM", WAIT)
        took = await new.take_over(
            "orig", wait=False
        )  # an owner is here: the claim waits for a decision
        assert took.ok and took.pending and took.claim_id and took.new_intent_id
        claim = (await relayed)["payload"]
        assert claim["original_principal_id"] == "agent:old" and claim["scope"] == {
            "kind": "file_set",
            "resources": ["h.py"],
        }
        assert (
            claim["objective"] == "half done"
            and claim["justification"] == "agent:old is unavailable"
        )
        decision = {**claim, "extensions": {"mpac-bridge": {"decision": "approved"}}}
        assert (await lead.request("INTENT_CLAIM", decision)).ok
        assert await new.wait_until(
            lambda v: took.new_intent_id in v.intents and "orig" not in v.intents, WAIT
        )
        assert [i.intent_id for i in new.session.mine()] == [took.new_intent_id]


async def test_escalate_goes_to_the_sessions_arbiter_or_says_there_is_none(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, data_dir=tmp_path) as sc,
        client(sc.url, "agent:a") as a,
        client(sc.url, "agent:b") as b,
    ):
        entity = {"kind": "entity_set", "entities": ["api.auth"]}
        assert (await a.announce("auth", scope=entity)).ok
        assert (await b.announce("auth too", scope=entity)).ok
        assert await a.wait_until(lambda v: len(v.conflicts) == 1, WAIT)
        [c] = a.session.conflicts()
        nobody = await a.escalate(c.conflict_id, None, "need a human")
        assert not nobody.ok and nobody.error_code == "NO_ARBITER"
        async with client(sc.url, "human:lead", roles=["arbiter"]) as lead:
            assert await a.wait_until(lambda v: "human:lead" in v.participants, WAIT)
            reply = await a.escalate(c.conflict_id, None, "need a human")
            assert reply.ok, reply
            assert await lead.wait_until(
                lambda v: v.conflicts.get(c.conflict_id, {}).get("escalated_to") == "human:lead",
                WAIT,
            )
            escalated = a.session.conflict(c.conflict_id)
            assert (
                escalated is not None
                and escalated.escalated
                and escalated.escalated_to == "human:lead"
            )


async def test_follow_sidecar_points_the_client_at_the_new_port(tmp_path: Path) -> None:
    sc = await start_sidecar("--session-id", SID, data_dir=tmp_path)
    c = client(sc.url, "agent:a")
    await c.connect()
    moved: list[str] = []
    errors: list[Exception] = []
    new_url: list[str] = []

    def ensure() -> (
        str
    ):  # what ensure_sidecar does: the url of the running sidecar (none yet: it raises)
        if not new_url:
            raise RuntimeError("no sidecar yet")
        return new_url[0]

    sc2 = None
    try:
        reconnecting = c.wait_for(lambda m: connection_state(m) == "reconnecting", WAIT)
        await sc.kill9()
        await reconnecting
        follower = asyncio.ensure_future(
            follow_sidecar(c, ensure, on_moved=moved.append, on_error=errors.append)
        )
        sc2 = await start_sidecar("--session-id", SID, data_dir=tmp_path)  # a new ephemeral port
        assert sc2.url != sc.url
        new_url.append(sc2.url)
        await asyncio.wait_for(follower, WAIT)  # returns once the client is connected again
        assert c.state == "connected" and c.url == sc2.url and moved == [sc2.url]
        assert all(isinstance(e, RuntimeError) for e in errors)
        assert (await c.announce("after the move", ["m.py"])).ok
        # nothing to do when the client is not reconnecting: it returns at once, ensure is not called
        new_url.clear()
        await asyncio.wait_for(follow_sidecar(c, ensure, on_error=errors.append), WAIT)
    finally:
        await c.close()
        if sc2 is not None:
            await sc2.stop()

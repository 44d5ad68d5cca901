"""Identity from the MCP client, resource-updated notifications, rejoin, crash → SUSPENDED →
take over, and the existence checks of the id-taking tools."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import Implementation, ResourceUpdatedNotification

from bridge.client import SessionClient
from bridge.mcp import tools
from bridge.mcp.context import ToolContext, principal_from_env
from bridge.mcp.notify import STATE_URI
from bridge.mcp.server import build_server
from bridge.workspace import ensure_sidecar, find_repo


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_principal_comes_from_the_mcp_client_name(
    repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MPAC_AGENT_NAME", raising=False)
    monkeypatch.delenv("MPAC_PRINCIPAL_ID", raising=False)
    ctx = ToolContext(
        repo=find_repo(repo_path), principal_id=principal_from_env(), explicit_identity=False
    )
    try:
        async with Client(
            build_server(ctx), client_info=Implementation(name="cursor agent", version="1")
        ) as client:
            who = (await client.call_tool("who_is_working", {})).structured_content
            assert who["you"] == "agent:cursor-agent"
            assert "agent:cursor-agent" in {p["principal_id"] for p in who["participants"]}
    finally:
        await ctx.close()


async def test_state_resource_notifies_listeners(ctx: ToolContext, other: SessionClient) -> None:
    server = build_server(ctx)
    async with Client(server) as client:
        await client.call_tool("who_is_working", {})  # joined
        async with client.listen(resource_subscriptions=[STATE_URI]) as sub:
            events = sub.__aiter__()
            assert (await other.announce("b work", ["b.py"], intent_id="other-b")).ok

            async def until_seen() -> (
                None
            ):  # each event says "read again"; read until the intent shows
                while True:
                    event = await events.__anext__()
                    assert event.uri == STATE_URI
                    if "other-b" in (await client.read_resource(STATE_URI)).contents[0].text:
                        return

            await asyncio.wait_for(until_seen(), 20)


async def test_state_resource_notifies_legacy_subscribers(
    ctx: ToolContext, other: SessionClient
) -> None:
    got: asyncio.Queue[str] = asyncio.Queue()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            got.put_nowait(str(message.params.uri))

    async with Client(build_server(ctx), mode="legacy", message_handler=on_message) as client:
        assert (
            client.server_capabilities.resources and client.server_capabilities.resources.subscribe
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.subscribe_resource(STATE_URI)
        await client.call_tool("who_is_working", {})
        assert (await other.announce("b work", ["b.py"])).ok
        assert await asyncio.wait_for(got.get(), 20) == STATE_URI


async def test_id_taking_tools_check_existence(ctx: ToolContext, other: SessionClient) -> None:
    theirs = await other.announce("b work", ["b.py"], intent_id="theirs")
    assert theirs.ok
    await ctx.connected()
    assert await ctx.client.wait_until(lambda v: "theirs" in v.intents, 10)  # type: ignore[union-attr]
    missing = await tools.yield_task(
        ctx, "nope"
    )  # the coordinator refuses; the tool adds what exists
    assert (
        missing.status == "rejected"
        and "INVALID_REFERENCE" in missing.message
        and "your live intents" in missing.message
    )
    foreign = await tools.update_task(ctx, "theirs", objective="mine now")
    assert foreign.status == "rejected" and "AUTHORIZATION_FAILED" in foreign.message
    for result in (
        await tools.ack_conflict(ctx, "c-nope"),
        await tools.escalate_conflict(ctx, "c-nope", "x", "human:a"),
        await tools.resolve_conflict(ctx, "c-nope", "dismissed"),
    ):
        assert result.status == "rejected" and "open conflicts: none" in result.message, (
            result.message
        )


async def test_restarted_server_gets_its_intents_back(repo_path: Path) -> None:
    repo = find_repo(repo_path)
    first = ToolContext(repo=repo, principal_id="agent:phoenix")
    begun = await tools.begin_task(first, "long task", ["a.py"])
    assert begun.status == "ok"
    await first.client.abort()  # type: ignore[union-attr]  # a crash: no GOODBYE
    second = ToolContext(repo=repo, principal_id="agent:phoenix")
    try:
        mine = await tools.list_my_tasks(second)
        assert [t.intent_id for t in mine.tasks] == [begun.intent_id]
        assert mine.tasks[0].state == "ACTIVE"
        state = await tools.get_file_state(second, "a.py")
        done = await tools.submit_change(
            second, begun.intent_id or "", "a.py", state.state_ref, "x = 5\n"
        )
        assert done.status == "success"
    finally:
        await second.close()


async def test_transfer_goodbye_then_same_principal_returns(repo_path: Path) -> None:
    repo = find_repo(repo_path)
    first = ToolContext(repo=repo, principal_id="agent:phoenix", goodbye="transfer")
    begun = await tools.begin_task(first, "long task", ["a.py"])
    await first.close()
    second = ToolContext(repo=repo, principal_id="agent:phoenix")
    try:
        await second.connected()
        ok = await second.client.wait_until(  # type: ignore[union-attr]
            lambda v: v.intents.get(begun.intent_id or "", {}).get("state") == "ACTIVE", 20
        )
        assert ok
        assert [t.intent_id for t in (await tools.list_my_tasks(second)).tasks] == [begun.intent_id]
    finally:
        await second.close()


async def test_crashed_agent_is_suspended_and_taken_over(repo_path: Path) -> None:
    repo = find_repo(repo_path)
    ensure_sidecar(repo, extra_args=["--heartbeat-interval", "1", "--unavailability-timeout", "4"])
    crashed = ToolContext(repo=repo, principal_id="agent:crashy")
    taker = ToolContext(repo=repo, principal_id="agent:taker")
    info = ensure_sidecar(repo)
    arbiter = SessionClient(
        info.url, "human:arbiter", session_id=info.session_id, roles=["arbiter"]
    )
    await arbiter.connect()
    try:
        begun = await tools.begin_task(crashed, "half done", ["a.py"])
        await crashed.client.abort()  # type: ignore[union-attr]
        await taker.connected()
        iid = begun.intent_id or ""
        assert await taker.client.wait_until(
            lambda v: v.intents.get(iid, {}).get("state") == "SUSPENDED", 60
        )  # type: ignore[union-attr]
        who = await tools.who_is_working(taker)
        assert any(i.intent_id == iid and i.state == "SUSPENDED" for i in who.intents)
        claim_seen = arbiter.wait_for(lambda m: m.get("message_type") == "INTENT_CLAIM", 20)
        claim = await tools.take_over_task(taker, iid, justification="crashy is gone")
        assert claim.status == "pending" and claim.claim_id
        relayed = (await claim_seen)["payload"]
        approve = {**relayed, "extensions": {"mpac-bridge": {"decision": "approved"}}}
        assert (await arbiter.request("INTENT_CLAIM", approve)).ok
        new_id = claim.new_intent_id or ""
        assert await taker.client.wait_until(
            lambda v: v.intents.get(new_id, {}).get("state") == "ACTIVE", 20
        )  # type: ignore[union-attr]
        state = await tools.get_file_state(taker, "a.py")
        assert (
            await tools.submit_change(taker, new_id, "a.py", state.state_ref, "x = 9\n")
        ).status == "success"
    finally:
        await arbiter.close()
        await taker.close()


async def test_crashed_agents_task_is_taken_over_after_the_grace_with_nobody_to_decide(
    repo_path: Path,
) -> None:
    """The default configuration (no profile flag, no dashboard): take_over_task on a crashed agent's
    task is pending for the grace period, then approved without any human."""
    repo = find_repo(repo_path)
    ensure_sidecar(
        repo,
        extra_args=[
            "--heartbeat-interval",
            "1",
            "--unavailability-timeout",
            "3",
            "--claim-grace",
            "2",
        ],
    )
    crashed = ToolContext(repo=repo, principal_id="agent:crashy")
    taker = ToolContext(repo=repo, principal_id="agent:taker")
    try:
        begun = await tools.begin_task(crashed, "half done", ["a.py"])
        await crashed.client.abort()  # type: ignore[union-attr]
        await taker.connected()
        iid = begun.intent_id or ""
        assert await taker.client.wait_until(
            lambda v: v.intents.get(iid, {}).get("state") == "SUSPENDED", 60
        )  # type: ignore[union-attr]
        claim = await tools.take_over_task(taker, iid, justification="crashy is gone")
        assert claim.status == "pending" and "automatically" in claim.message, claim
        new_id = claim.new_intent_id or ""
        assert await taker.client.wait_until(
            lambda v: v.intents.get(new_id, {}).get("state") == "ACTIVE", 30
        )  # type: ignore[union-attr]
        assert iid not in taker.client.view.intents  # type: ignore[union-attr]
        assert [t.intent_id for t in (await tools.list_my_tasks(taker)).tasks] == [new_id]
    finally:
        await taker.close()

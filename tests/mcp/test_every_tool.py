"""Every tool through the MCP layer in-process (`Client(server)`), each with a success and an error."""

from __future__ import annotations

import pytest
from mcp import Client

from bridge.client import SessionClient
from bridge.mcp.context import ToolContext
from bridge.mcp.server import build_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def call(client: Client, name: str, args: dict) -> dict:
    r = await client.call_tool(name, args)
    assert not r.is_error, (name, r.content)
    return r.structured_content or {}


async def test_every_tool_and_its_errors(ctx: ToolContext, other: SessionClient) -> None:
    async with Client(build_server(ctx)) as c:
        who = await call(c, "who_is_working", {})
        assert who["status"] == "ok" and who["you"] == "agent:me"
        assert (await c.call_tool("who_is_working", {"repo_path": "/"})).is_error

        assert (await call(c, "check_overlap", {"files": ["a.py"]}))["has_overlap"] is False
        assert (
            await c.call_tool("check_overlap", {"files": ["../x"]})
        ).is_error  # outside the repo

        begun = await call(
            c, "begin_task", {"objective": "edit a", "files": ["a.py"], "ttl_sec": 600}
        )
        assert begun["status"] == "ok"
        assert (await call(c, "begin_task", {"objective": "nothing", "files": []}))[
            "status"
        ] == "error"

        state = await call(c, "get_file_state", {"path": "a.py"})
        assert state["status"] == "ok" and state["content"] == "x = 1\n"
        assert (await call(c, "get_file_state", {"path": ".env"}))["status"] == "refused"

        ok = await call(
            c,
            "submit_change",
            {
                "intent_id": begun["intent_id"],
                "target": "a.py",
                "state_ref_before": state["state_ref"],
                "content": "x = 5\n",
            },
        )
        assert ok["status"] == "success"
        stale = await call(
            c,
            "submit_change",
            {
                "intent_id": begun["intent_id"],
                "target": "a.py",
                "state_ref_before": state["state_ref"],
                "content": "x = 6\n",
            },
        )
        assert stale["status"] == "stale"
        wrong = await call(
            c,
            "submit_change",
            {
                "intent_id": "nope",
                "target": "a.py",
                "state_ref_before": ok["state_ref_after"],
                "content": "x = 7\n",
            },
        )
        assert wrong["status"] == "rejected" and not wrong.get("written")

        assert (
            await call(
                c, "update_task", {"intent_id": begun["intent_id"], "objective": "edit a more"}
            )
        )["status"] == "ok"
        assert (await call(c, "update_task", {"intent_id": "nope", "objective": "x"}))[
            "status"
        ] == "rejected"

        mine = await call(c, "list_my_tasks", {})
        assert [t["intent_id"] for t in mine["tasks"]] == [begun["intent_id"]]

        assert (await call(c, "wait_for_files", {"files": ["b.py"], "timeout_sec": 1}))[
            "status"
        ] == "free"
        await other.announce("hold b", ["b.py"], intent_id="other-b")
        me = (
            await ctx.connected()
        )  # wait_for_files reads our own view: let it see the new intent first
        assert await me.wait_until(lambda v: "other-b" in v.intents, 10)
        waited = await call(c, "wait_for_files", {"files": ["b.py"], "timeout_sec": 0.2})
        assert (
            waited["status"] == "timeout" and waited["holders"][0]["principal_id"] == "agent:other"
        )

        assert (await call(c, "defer_task", {"files": ["b.py"]}))["status"] == "ok"
        assert (
            await call(
                c,
                "defer_task",
                {"files": ["b.py"], "observed_intent_ids": ["other-b"], "reason": "later"},
            )
        )["status"] == "ok"

        await other.announce(
            "pattern", scope={"kind": "resource_path", "pattern": "*.md"}, intent_id="other-md"
        )
        doc = await call(c, "begin_task", {"objective": "docs", "files": ["README.md"]})
        cid = doc["conflicts"][0]["conflict_id"]
        assert (await call(c, "ack_conflict", {"conflict_id": cid}))["status"] == "ok"
        assert (await call(c, "ack_conflict", {"conflict_id": "nope"}))["status"] == "rejected"
        assert (await call(c, "escalate_conflict", {"conflict_id": cid, "reason": "x"}))[
            "status"
        ] == "error"  # no arbiter
        assert (
            await call(
                c,
                "escalate_conflict",
                {"conflict_id": cid, "reason": "x", "escalate_to": "agent:other"},
            )
        )["status"] == "rejected"
        assert (await call(c, "resolve_conflict", {"conflict_id": cid, "decision": "approved"}))[
            "status"
        ] == "rejected"
        assert (
            await c.call_tool("resolve_conflict", {"conflict_id": cid, "decision": "maybe"})
        ).structured_content["status"] == "rejected"

        assert (await call(c, "take_over_task", {"original_intent_id": "other-b"}))[
            "status"
        ] == "rejected"  # still ACTIVE
        assert (await call(c, "take_over_task", {"original_intent_id": "nope"}))[
            "status"
        ] == "error"

        assert (await call(c, "yield_task", {"intent_id": begun["intent_id"]}))["status"] == "ok"
        assert (await call(c, "yield_task", {"intent_id": begun["intent_id"]}))[
            "status"
        ] == "rejected"

        state_res = await c.read_resource("mpac://session/state")
        assert "other-b" in state_res.contents[0].text

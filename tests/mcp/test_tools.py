"""The tool functions against a real sidecar (no MCP transport): every tool and its errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.client import SessionClient
from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.workspace import state_ref_of_bytes


async def test_begin_blocked_wait_and_begin_again(
    ctx: ToolContext, other: SessionClient, repo_path: Path
) -> None:
    held = await other.announce("refactor a", ["a.py"], intent_id="other-a")
    assert held.ok
    res = await tools.begin_task(ctx, "touch a", ["./a.py"])
    assert res.status == "blocked" and res.holders[0].principal_id == "agent:other"
    assert "defer_task" in res.next_step
    overlap = await tools.check_overlap(ctx, ["a.py", "b.py"])
    assert overlap.has_overlap and overlap.overlaps[0].kind == "file"
    deferred = await tools.defer_task(ctx, ["a.py"])
    assert deferred.status == "ok"
    task = asyncio.ensure_future(tools.wait_for_files(ctx, ["a.py"], 20))
    await other.withdraw("other-a")
    result = await task
    assert result.status == "free"
    res = await tools.begin_task(ctx, "touch a", ["a.py"])
    assert res.status == "ok" and res.intent_id


async def test_submit_writes_to_disk_and_refuses_stale(ctx: ToolContext, repo_path: Path) -> None:
    begun = await tools.begin_task(ctx, "edit a", ["a.py"])
    state = await tools.get_file_state(ctx, "a.py")
    assert state.status == "ok" and state.content == "x = 1\n"
    assert state.state_ref == state_ref_of_bytes(b"x = 1\n")
    ok = await tools.submit_change(ctx, begun.intent_id or "", "a.py", state.state_ref, "x = 2\n")
    assert ok.status == "success" and ok.written
    assert (repo_path / "a.py").read_text() == "x = 2\n"
    stale = await tools.submit_change(
        ctx, begun.intent_id or "", "a.py", state.state_ref, "x = 3\n"
    )
    assert stale.status == "stale" and stale.current_state_ref == ok.state_ref_after
    assert (repo_path / "a.py").read_text() == "x = 2\n"
    (repo_path / "a.py").write_text("x = 4\n")  # the agent edits the file itself, then records it
    recorded = await tools.submit_change(
        ctx, begun.intent_id or "", "a.py", ok.state_ref_after or ""
    )
    assert recorded.status == "success" and not recorded.written
    outside = await tools.submit_change(
        ctx, begun.intent_id or "", "b.py", state_ref_of_bytes(b"y = 2\n"), "y = 3\n"
    )
    assert outside.status == "rejected" and "outside the scope" in outside.message
    assert (repo_path / "b.py").read_text() == "y = 2\n"
    done = await tools.yield_task(ctx, begun.intent_id or "")
    assert done.status == "ok"
    again = await tools.yield_task(ctx, begun.intent_id or "")
    assert again.status == "rejected" and "your live intents: none" in again.message


async def test_paths_are_refused(ctx: ToolContext) -> None:
    for bad in ("../etc/passwd", ".git/config", ".env"):
        res = await tools.get_file_state(ctx, bad)
        assert res.status == "refused", bad
        assert res.content is None
    submit = await tools.submit_change(ctx, "x", ".env", "sha256:absent", "SECRET=stolen")
    assert submit.status == "error"


async def test_who_is_working_and_my_tasks(ctx: ToolContext, other: SessionClient) -> None:
    await other.announce("b work", ["b.py"])
    begun = await tools.begin_task(ctx, "a work", ["a.py"])
    who = await tools.who_is_working(ctx)
    assert who.status == "ok" and who.you == "agent:me"
    assert {i.principal_id for i in who.intents} == {"agent:me", "agent:other"}
    mine = await tools.list_my_tasks(ctx)
    assert [t.intent_id for t in mine.tasks] == [begun.intent_id]
    updated = await tools.update_task(ctx, begun.intent_id or "", objective="a work, more")
    assert updated.status == "ok"


async def test_begin_with_symbols_and_update_files_reach_the_others(
    ctx: ToolContext, other: SessionClient
) -> None:
    begun = await tools.begin_task(
        ctx, "rename parse", ["./a.py"], symbols=["a.parse"], ttl_sec=600
    )
    assert begun.status == "ok" and begun.files == ["a.py"]
    iid = begun.intent_id or ""
    assert await other.wait_until(lambda v: iid in v.intents, 10)
    seen = other.session.intent(iid)
    assert (
        seen is not None
        and seen.files == ["a.py"]
        and seen.scope["extensions"] == {"affects_symbols": ["a.parse"]}
    )
    assert (await tools.update_task(ctx, iid, files=["a.py", "./b.py"])).status == "ok"
    assert await other.wait_until(
        lambda v: v.intents[iid]["scope"].get("resources") == ["a.py", "b.py"], 10
    )
    gone = await tools.yield_task(ctx, iid, "done")
    assert gone.status == "ok" and gone.message == "INTENT_WITHDRAW accepted"
    again = await tools.yield_task(ctx, iid)
    assert again.status == "rejected" and "your live intents: none" in again.message


async def test_conflict_tools_and_takeover(
    ctx: ToolContext, other: SessionClient, repo_path: Path
) -> None:
    await other.announce(
        "pattern work", scope={"kind": "resource_path", "pattern": "*.py"}, intent_id="glob"
    )
    begun = await tools.begin_task(ctx, "edit a", ["a.py"])
    assert begun.status == "ok" and begun.conflicts
    cid = begun.conflicts[0].conflict_id
    assert (await tools.ack_conflict(ctx, cid)).status == "ok"
    none = await tools.escalate_conflict(ctx, cid, "need a decision")
    assert none.status == "error" and "no owner or arbiter" in none.message
    bad = await tools.resolve_conflict(ctx, cid, "approved", "mine")
    assert bad.status == "rejected" and "AUTHORIZATION_FAILED" in bad.message
    missing = await tools.take_over_task(ctx, "nope")
    assert missing.status == "error"
    await other.close(disposition="transfer")
    ok = await ctx.client.wait_until(
        lambda v: v.intents.get("glob", {}).get("state") == "SUSPENDED", 10
    )  # type: ignore[union-attr]
    assert ok
    claim = await tools.take_over_task(ctx, "glob", files=["b.py"])
    assert claim.status == "approved", (
        claim
    )  # handed over, and no owner or arbiter is there to decide

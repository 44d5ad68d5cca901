"""Issue 13.3: a connection lost in the middle of submit_change is settled by op_id, never
reported as a refusal. A WebSocket relay between the agent and a real sidecar cuts the connection
at an exact message: after the coordinator recorded the commit (its answer is lost), or before the
commit reached it; and it can keep the coordinator unreachable."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.client import SessionClient
from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.workspace import find_repo, state_ref_of_bytes
from tests.support.sidecar import RunningSidecar, start_sidecar
from tests.support.wsproxy import Proxy, ws_proxy

pytestmark = pytest.mark.e2e


def commit_frame(direction: str):
    """Cut the connection at the first OP_COMMIT going `direction` (up: to the coordinator), once."""
    done: list[bool] = []

    def cut(d: str, m: dict) -> bool:
        if done or d != direction or m.get("message_type") != "OP_COMMIT":
            return False
        done.append(True)
        return True

    return cut


async def recorded(url: str, sid: str, path: str) -> dict:
    """The coordinator's record of `path`, as a late joiner is told."""
    late = SessionClient(url, "agent:auditor", session_id=sid)
    await late.connect()
    try:
        return late.session_info["payload"]["extensions"]["mpac-bridge"]["state"]["targets"].get(
            path, {}
        )
    finally:
        await late.close()


@dataclass
class Setup:
    sidecar: RunningSidecar
    proxy: Proxy
    ctx: ToolContext
    intent: str
    base: str
    sid: str


@contextlib.asynccontextmanager
async def agent_via_proxy(repo_path: Path, tmp_path: Path) -> AsyncIterator[Setup]:
    """A real sidecar for the repository, a relay in front of it, and an agent (remote mode, so it
    connects through the relay) holding a.py."""
    sc = await start_sidecar("--workspace", str(repo_path), data_dir=tmp_path / "data")
    repo = find_repo(repo_path)
    try:
        async with ws_proxy(sc.url) as proxy:
            ctx = ToolContext(
                repo=repo,
                principal_id="agent:me",
                url=f"{proxy.url}/session/{repo.session_id}",
                session_id=repo.session_id,
                reconnect_wait_sec=3,
            )
            try:
                begun = await tools.begin_task(ctx, "edit a", ["a.py"])
                assert begun.status == "ok"
                state = await tools.get_file_state(ctx, "a.py")
                yield Setup(
                    sc, proxy, ctx, begun.intent_id or "", state.state_ref or "", repo.session_id
                )
            finally:
                await ctx.close()
    finally:
        await sc.stop()


@pytest.mark.parametrize("direction", ["down", "up"])
async def test_a_lost_answer_is_settled_not_rejected(
    repo_path: Path, tmp_path: Path, direction: str
) -> None:
    """down: the coordinator recorded the commit and its answer was lost -> the tool finishes the
    write. up: the commit never arrived -> the resend records it, once."""
    async with agent_via_proxy(repo_path, tmp_path) as s:
        s.proxy.cut = commit_frame(direction)
        res = await tools.submit_change(s.ctx, s.intent, "a.py", s.base, "x = 2\n")
        assert s.proxy.cuts == 1
        assert res.status == "success", res
        assert res.recovered == ("recorded" if direction == "down" else "resent")
        assert (repo_path / "a.py").read_text() == "x = 2\n"
        rec = await recorded(s.sidecar.url, s.sid, "a.py")
        assert rec["op_id"] == res.op_id and rec["state_ref"] == state_ref_of_bytes(b"x = 2\n")
        ups = [m for d, m in s.proxy.seen if d == "up" and m.get("message_type") == "OP_COMMIT"]
        assert len(ups) == 2 and {m["payload"]["op_id"] for m in ups} == {
            res.op_id
        }  # one op, sent twice


async def test_unreachable_coordinator_is_an_error_with_a_next_step_then_settles(
    repo_path: Path, tmp_path: Path
) -> None:
    async with agent_via_proxy(repo_path, tmp_path) as s:
        first_commit = commit_frame("down")

        def cut_and_stay_away(d: str, m: dict) -> bool:
            hit = first_commit(d, m)
            s.proxy.refuse = s.proxy.refuse or hit
            return hit

        s.proxy.cut = cut_and_stay_away
        res = await tools.submit_change(s.ctx, s.intent, "a.py", s.base, "x = 3\n")
        assert res.status == "error" and res.op_id, res
        assert f"op_id={res.op_id!r}" in res.message and "submit_change again" in res.message
        assert (repo_path / "a.py").read_text() == "x = 1\n"  # nothing written
        assert (await recorded(s.sidecar.url, s.sid, "a.py"))[
            "op_id"
        ] == res.op_id  # ...though it was recorded
        s.proxy.refuse, s.proxy.cut = False, None
        assert s.ctx.client is not None
        await asyncio.wait_for(s.ctx.client.connected.wait(), 30)  # the client's own reconnect loop
        again = await tools.submit_change(
            s.ctx, s.intent, "a.py", s.base, "x = 3\n", op_id=res.op_id
        )
        assert again.status == "success" and again.written, again
        assert (repo_path / "a.py").read_text() == "x = 3\n"
        twice = await tools.submit_change(
            s.ctx, s.intent, "a.py", s.base, "x = 3\n", op_id=res.op_id
        )
        assert twice.status == "success"  # idempotent: nothing new is recorded
        assert (await recorded(s.sidecar.url, s.sid, "a.py"))["op_id"] == res.op_id
        now = state_ref_of_bytes(b"x = 3\n")
        other = await tools.submit_change(s.ctx, s.intent, "a.py", now, "x = 4\n", op_id=res.op_id)
        assert other.status == "error" and "not this change" in other.message

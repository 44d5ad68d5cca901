"""Issue 19 end to end through MCP: agents claim functions, not whole files, and non-overlapping
stale writes are merged. Each agent is its own MCP server (in-process `Client(server)`, the real
tool schemas and JSON results) with its own participant, all against one real sidecar."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.client import SessionClient
from bridge.demo.four_agents import CART
from bridge.demo.four_agents import FUNCS as DEMO_FUNCS
from bridge.demo.four_agents import changed as change_return
from bridge.mcp.context import ToolContext
from bridge.mcp.server import build_server
from bridge.workspace import ensure_sidecar, find_repo

FUNCS = ("price", "tax", "shipping", "discount")
SHOP = "shop.py"  # the four functions of the demo's cart, under other names
TEXT = CART
for _old, _new in zip(DEMO_FUNCS, FUNCS, strict=True):
    TEXT = TEXT.replace(f"def {_old}(", f"def {_new}(")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def changed(text: str, func: str) -> str:
    """The agent's edit of one function: its body returns a marked value."""
    return change_return(text, func, f"'{func} changed'")


class Agent:
    def __init__(self, name: str, client: Client) -> None:
        self.name, self.client = name, client

    async def call(self, tool: str, **args: Any) -> dict[str, Any]:
        r = await self.client.call_tool(tool, args)
        assert not r.is_error, r.content
        return r.structured_content


@contextlib.asynccontextmanager
async def agents(repo: Path, n: int) -> AsyncIterator[list[Agent]]:
    async with contextlib.AsyncExitStack() as stack:
        out = []
        for i in range(n):
            ctx = ToolContext(repo=find_repo(repo), principal_id=f"agent:a{i + 1}")
            stack.push_async_callback(ctx.close)
            client = await stack.enter_async_context(Client(build_server(ctx)))
            out.append(Agent(ctx.principal_id, client))
        yield out


async def watcher(repo: Path) -> tuple[SessionClient, list[dict[str, Any]]]:
    """A participant that only watches, and the OP_COMMIT payloads it is sent."""
    info = ensure_sidecar(find_repo(repo))
    w = SessionClient(info.url, "human:watch", session_id=info.session_id, roles=["observer"])
    seen: list[dict[str, Any]] = []
    w.on_event(
        lambda m: seen.append(m["payload"]) if m.get("message_type") == "OP_COMMIT" else None
    )
    await w.connect()
    return w, seen


async def four_agents_edit_one_file(repo: Path) -> dict[str, Any]:
    """Four agents claim one function each of shop.py at once, read it, and submit at once."""
    async with agents(repo, 4) as team:
        begun = await asyncio.gather(
            *(
                a.call(
                    "begin_task",
                    objective=f"change {f}",
                    files=["shop.py"],
                    symbols=[f"shop.py::{f}"],
                )
                for a, f in zip(team, FUNCS, strict=True)
            )
        )
        states = await asyncio.gather(*(a.call("get_file_state", path="shop.py") for a in team))
        going = [
            (a, b, s, f)
            for a, b, s, f in zip(team, begun, states, FUNCS, strict=True)
            if b["status"] == "ok"
        ]
        submitted = await asyncio.gather(
            *(
                a.call(
                    "submit_change",
                    intent_id=b["intent_id"],
                    target="shop.py",
                    state_ref_before=s["state_ref"],
                    content=changed(s["content"], f),
                )
                for a, b, s, f in going
            )
        )
    return {"begun": begun, "submitted": submitted}


@pytest.mark.anyio
async def test_four_agents_on_four_functions_all_proceed_and_merge(repo_path: Path) -> None:
    (repo_path / SHOP).write_text(TEXT)
    w, commits = await watcher(repo_path)
    try:
        out = await four_agents_edit_one_file(repo_path)
        assert [b["status"] for b in out["begun"]] == ["ok"] * 4
        assert all(b["granularity"] == "symbol" for b in out["begun"])
        assert [b["symbols"] for b in out["begun"]] == [[f"shop.py::{f}"] for f in FUNCS]
        statuses = sorted(s["status"] for s in out["submitted"])
        assert statuses == ["merged", "merged", "merged", "success"], out["submitted"]
        for s in out["submitted"]:
            if s["status"] == "merged":
                assert (
                    s["written"]
                    and s["merge"]["outcome"] == "merged"
                    and len(s["merge"]["applied"]) == 1
                )
        final = (repo_path / "shop.py").read_text()
        assert all(f"return '{f} changed'" in final for f in FUNCS)
        check = subprocess.run(
            [
                sys.executable,
                "-c",
                "import shop; print(shop.price(1), shop.tax(1), shop.shipping(1), shop.discount(1))",
            ],
            cwd=repo_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stderr
        assert check.stdout.split() == [
            "price",
            "changed",
            "tax",
            "changed",
            "shipping",
            "changed",
            "discount",
            "changed",
        ]
        # every participant saw one OP_COMMIT per agent; the merged ones say so, and from which base
        assert await w.wait_until(lambda _v: len(commits) == 4, 10)
        merged = [
            c for c in commits if (c.get("extensions") or {}).get("mpac-bridge", {}).get("merge")
        ]
        assert len(merged) == 3
        base = next(s["merge"] for s in out["submitted"] if s["merge"])
        for c in merged:
            info = c["extensions"]["mpac-bridge"]["merge"]
            assert (
                info["base_state_ref"] == base["base_state_ref"]
                and info["hunks"] == 1
                and len(info["symbols"]) == 1
            )
    finally:
        await w.close()


@pytest.mark.anyio
async def test_at_file_granularity_one_proceeds_and_three_are_blocked(repo_path: Path) -> None:
    (repo_path / SHOP).write_text(TEXT)
    ensure_sidecar(find_repo(repo_path), extra_args=["--symbol-granularity", "file"])
    out = await four_agents_edit_one_file(repo_path)
    assert sorted(b["status"] for b in out["begun"]) == ["blocked", "blocked", "blocked", "ok"]
    assert all(b["granularity"] == "file" for b in out["begun"])
    assert [s["status"] for s in out["submitted"]] == ["success"]
    blocked = [b for b in out["begun"] if b["status"] == "blocked"]
    assert all(b["holders"][0]["files"] == ["shop.py"] for b in blocked)


@pytest.mark.anyio
async def test_same_function_is_blocked_and_overlapping_stale_write_is_refused_with_its_hunks(
    repo_path: Path,
) -> None:
    (repo_path / SHOP).write_text(TEXT)
    async with agents(repo_path, 3) as (a, b, c):
        first = await a.call("begin_task", objective="price", files=[], symbols=["shop.py::price"])
        assert first["status"] == "ok"
        second = await b.call(
            "begin_task", objective="tax", files=["shop.py"], symbols=["shop.py::tax"]
        )
        assert second["status"] == "ok"
        assert [(n["principal_id"], n["file"], n["symbols"]) for n in second["same_file"]] == [
            ("agent:a1", "shop.py", ["price"])
        ]
        # (c's answers come after both announces were relayed to it: its view below holds them)
        same = await c.call(
            "begin_task", objective="price too", files=["shop.py"], symbols=["shop.py::price"]
        )
        assert same["status"] == "blocked"
        assert same["holders"][0]["principal_id"] == "agent:a1" and same["holders"][0][
            "symbols"
        ] == ["shop.py::price"]
        whole = await c.call("begin_task", objective="all of it", files=["shop.py"])
        assert whole["status"] == "blocked"  # a whole-file claim overlaps every symbol in the file
        assert {h["principal_id"] for h in whole["holders"]} == {"agent:a1", "agent:a2"}
        overlap = await c.call("check_overlap", files=[], symbols=["shop.py::shipping"])
        assert not overlap["has_overlap"] and {n["principal_id"] for n in overlap["same_file"]} == {
            "agent:a1",
            "agent:a2",
        }
        read_a = await a.call("get_file_state", path="shop.py")
        read_b = await b.call("get_file_state", path="shop.py")
        # both add an import at the same place (imports may change anywhere): the second write overlaps the first
        mine_a = changed(read_a["content"], "price").replace(
            "import math\n", "import math\nimport json\n"
        )
        mine_b = changed(read_b["content"], "tax").replace(
            "import math\n", "import math\nimport re\n"
        )
        ok = await a.call(
            "submit_change",
            intent_id=first["intent_id"],
            target="shop.py",
            state_ref_before=read_a["state_ref"],
            content=mine_a,
        )
        assert ok["status"] == "success"
        stale = await b.call(
            "submit_change",
            intent_id=second["intent_id"],
            target="shop.py",
            state_ref_before=read_b["state_ref"],
            content=mine_b,
        )
        assert stale["status"] == "stale" and stale["merge"]["outcome"] == "conflict"
        [hunk] = stale["merge"]["conflicts"]
        assert (
            hunk["current_text"] == "import json\n"
            and hunk["ours_text"] == "import re\n"
            and hunk["base"]["start"] == 4
        )
        assert stale["current_state_ref"] == ok["state_ref_after"]
        assert (repo_path / "shop.py").read_text() == mine_a  # left as the first agent wrote it
        # out of its claim: b also changes shipping, which it did not claim; once a changed price again,
        # b's write is stale, and the merge is refused with the hunk outside its symbols
        read_b = await b.call("get_file_state", path="shop.py")
        again = await a.call(
            "submit_change",
            intent_id=first["intent_id"],
            target="shop.py",
            state_ref_before=read_b["state_ref"],
            content=read_b["content"].replace("'price changed'", "'price changed twice'"),
        )
        assert again["status"] == "success"
        sneaky = changed(changed(read_b["content"], "tax"), "shipping")
        out = await b.call(
            "submit_change",
            intent_id=second["intent_id"],
            target="shop.py",
            state_ref_before=read_b["state_ref"],
            content=sneaky,
        )
        assert out["status"] == "stale" and out["merge"]["outcome"] == "out_of_scope"
        assert [h["symbols"] for h in out["merge"]["outside"]] == [["shipping"]]
        # as the answer says: claim shipping too, then the same write is merged
        upd = await b.call(
            "update_task",
            intent_id=second["intent_id"],
            files=["shop.py"],
            symbols=["shop.py::tax", "shop.py::shipping"],
        )
        assert upd["status"] == "ok"
        out = await b.call(
            "submit_change",
            intent_id=second["intent_id"],
            target="shop.py",
            state_ref_before=read_b["state_ref"],
            content=sneaky,
        )
        assert out["status"] == "merged" and len(out["merge"]["applied"]) == 2
        final = (repo_path / SHOP).read_text()
        assert (
            "'price changed twice'" in final
            and "'tax changed'" in final
            and "'shipping changed'" in final
        )
        # c waits for price only: free as soon as its holder yields, though b still holds tax and shipping
        waiting = asyncio.ensure_future(
            c.call("wait_for_files", files=["shop.py"], symbols=["shop.py::price"], timeout_sec=30)
        )
        assert (await a.call("yield_task", intent_id=first["intent_id"]))["status"] == "ok"
        assert (await waiting)["status"] == "free"
        assert (
            await c.call(
                "begin_task", objective="price", files=["shop.py"], symbols=["shop.py::price"]
            )
        )["status"] == "ok"

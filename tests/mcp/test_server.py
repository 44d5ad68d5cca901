"""The MCP layer: in-process `Client(server)` (tool list, schemas, errors) and two real
`mpac-bridge mcp` processes over stdio against one sidecar."""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.mcp.server import build_server

TOOLS = {
    "who_is_working",
    "begin_task",
    "check_overlap",
    "get_file_state",
    "submit_change",
    "yield_task",
    "ack_conflict",
    "escalate_conflict",
    "resolve_conflict",
    "take_over_task",
    "update_task",
    "defer_task",
    "list_my_tasks",
    "wait_for_files",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_in_process_tools_schemas_and_errors(ctx: ToolContext) -> None:
    server = build_server(ctx)
    async with Client(server) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert set(listed) >= TOOLS
        assert listed["begin_task"].output_schema["properties"]["status"]["enum"] == [
            "ok",
            "blocked",
            "error",
        ]
        assert "state_ref" in listed["get_file_state"].description or "state_ref" in str(
            listed["get_file_state"].output_schema
        )
        r = await client.call_tool("begin_task", {"objective": "edit", "files": ["a.py"]})
        assert not r.is_error and r.structured_content["status"] == "ok"
        r = await client.call_tool("get_file_state", {"path": ".git/config"})
        assert r.structured_content["status"] == "refused"
        r = await client.call_tool("who_is_working", {"repo_path": "/"})
        assert r.is_error and "repository" in r.content[0].text


async def test_every_tool_is_declared_once_by_its_function() -> None:
    """The registered tools are exactly tools.TOOLS, each schema built from the function's own
    signature (same parameters in the same order, the same required ones, each described) and
    its docstring; nothing is restated in the MCP layer."""
    server = build_server(ToolContext(repo=None, principal_id="agent:schema"), connect_early=False)
    async with Client(server) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == {t.__name__ for t in tools.TOOLS} == TOOLS
    for fn in tools.TOOLS:
        sig = inspect.signature(fn)
        names = list(sig.parameters)[1:]  # after the ToolContext
        schema = listed[fn.__name__].input_schema
        assert list(schema.get("properties", {})) == names, fn.__name__
        required = {n for n in names if sig.parameters[n].default is inspect.Parameter.empty}
        assert set(schema.get("required", [])) == required, fn.__name__
        assert all(prop.get("description") for prop in schema.get("properties", {}).values()), (
            fn.__name__
        )
        assert listed[fn.__name__].description == inspect.getdoc(fn)
    described = {
        name: prop["description"]
        for fn in tools.TOOLS
        for name, prop in listed[fn.__name__].input_schema.get("properties", {}).items()
    }
    assert (
        described["repo_path"] == "repository path; default: the server's repository"
    )  # one shared alias


async def test_two_agents_over_stdio(repo_path: Path) -> None:
    def params(name: str) -> StdioServerParameters:
        env = {**os.environ, "MPAC_AGENT_NAME": name}
        return StdioServerParameters(
            command=sys.executable,
            args=["-m", "bridge", "mcp", "--workspace", str(repo_path)],
            env=env,
        )

    async with Client(params("one")) as one, Client(params("two")) as two:
        init = await one.list_tools()
        assert {t.name for t in init.tools} >= TOOLS
        begun = (
            await one.call_tool("begin_task", {"objective": "edit a", "files": ["a.py"]})
        ).structured_content
        assert begun["status"] == "ok"
        blocked = (
            await two.call_tool("begin_task", {"objective": "also a", "files": ["a.py"]})
        ).structured_content
        assert (
            blocked["status"] == "blocked" and blocked["holders"][0]["principal_id"] == "agent:one"
        )
        state = (await one.call_tool("get_file_state", {"path": "a.py"})).structured_content
        ok = (
            await one.call_tool(
                "submit_change",
                {
                    "intent_id": begun["intent_id"],
                    "target": "a.py",
                    "state_ref_before": state["state_ref"],
                    "content": "x = 10\n",
                },
            )
        ).structured_content
        assert ok["status"] == "success" and (repo_path / "a.py").read_text() == "x = 10\n"
        stale = (
            await one.call_tool(
                "submit_change",
                {
                    "intent_id": begun["intent_id"],
                    "target": "a.py",
                    "state_ref_before": state["state_ref"],
                    "content": "x = 11\n",
                },
            )
        ).structured_content
        assert stale["status"] == "stale" and (repo_path / "a.py").read_text() == "x = 10\n"
        assert (
            await one.call_tool("yield_task", {"intent_id": begun["intent_id"]})
        ).structured_content["status"] == "ok"
        free = (
            await two.call_tool("wait_for_files", {"files": ["a.py"], "timeout_sec": 30})
        ).structured_content
        assert free["status"] == "free"
        again = (
            await two.call_tool("begin_task", {"objective": "also a", "files": ["a.py"]})
        ).structured_content
        assert again["status"] == "ok"

"""The edges a careless agent hits (issue 14): FIFOs, oversized and malformed arguments, unpaired
surrogates sent as raw JSON-RPC, a later begin_task superseding an earlier one, and the holder
shown by get_file_state. Every answer must be a reason, never a hang, a timeout or silence."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from bridge.client import SessionClient
from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.mcp.limits import CONTENT_BYTES, TEXT_BYTES
from bridge.mcp.server import build_server
from bridge.protocol.envelope import parse_ts
from bridge.workspace import paths

pytestmark = pytest.mark.e2e
ANSWER = 60  # seconds: generous, only so a hang fails the test instead of stalling the suite


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def stdio(repo: Path, name: str = "edge") -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "bridge", "mcp", "--workspace", str(repo)],
        env={**os.environ, "MPAC_AGENT_NAME": name},
    )


async def call(client: Client, tool: str, args: dict[str, Any]) -> Any:
    return await asyncio.wait_for(client.call_tool(tool, args), ANSWER)


# --- 1. a FIFO never blocks the server ------------------------------------------------------------


async def test_fifo_is_refused_and_the_server_keeps_serving(repo_path: Path) -> None:
    os.mkfifo(repo_path / "pipe")
    async with Client(stdio(repo_path)) as client:
        state = (await call(client, "get_file_state", {"path": "pipe"})).structured_content
        assert state["status"] == "refused" and "named pipe (FIFO)" in state["message"]
        begun = await call(client, "begin_task", {"objective": "pipe", "files": ["pipe"]})
        assert begun.is_error and "not a regular file" in begun.content[0].text
        submit = (
            await call(
                client,
                "submit_change",
                {
                    "intent_id": "x",
                    "target": "pipe",
                    "state_ref_before": "sha256:absent",
                    "content": "x",
                },
            )
        ).structured_content
        assert submit["status"] == "error" and "FIFO" in submit["message"]
        ok = (await call(client, "get_file_state", {"path": "a.py"})).structured_content
        assert ok["status"] == "ok" and ok["content"] == "x = 1\n"


# --- 2, 3. oversized arguments are refused up front, with the limit ----------------------------------


async def test_oversized_arguments_are_refused_with_the_limit(
    ctx: ToolContext, repo_path: Path
) -> None:
    server = build_server(ctx)
    async with Client(server) as client:
        big = await call(client, "begin_task", {"objective": "x" * 2_000_000, "files": ["a.py"]})
        assert big.is_error
        assert (
            f"objective is 2,000,000 bytes (1.9 MiB); the limit is {TEXT_BYTES:,} bytes"
            in big.content[0].text
        )
        many = [
            f"src/module_{n:05d}/implementation_file.py" for n in range(30_000)
        ]  # ~1.4 MB of paths
        frame = await call(client, "begin_task", {"objective": "everything", "files": many})
        assert frame.is_error and "accepts at most 1,048,576 bytes" in frame.content[0].text
        begun = (
            await call(client, "begin_task", {"objective": "edit a", "files": ["a.py"]})
        ).structured_content
        state = (await call(client, "get_file_state", {"path": "a.py"})).structured_content
        huge = await call(
            client,
            "submit_change",
            {
                "intent_id": begun["intent_id"],
                "target": "a.py",
                "state_ref_before": state["state_ref"],
                "content": "y" * (CONTENT_BYTES + 1),
            },
        )
        assert huge.is_error and f"the limit is {CONTENT_BYTES:,} bytes" in huge.content[0].text
        assert "without content" in huge.content[0].text
        assert (repo_path / "a.py").read_text() == "x = 1\n"
        reason = await call(
            client,
            "yield_task",
            {"intent_id": begun["intent_id"], "reason": "r" * (TEXT_BYTES + 1)},
        )
        assert reason.is_error and "reason is" in reason.content[0].text


# --- 4. bad input always gets a reason ----------------------------------------------------------------


async def test_overlong_paths_get_a_reason(ctx: ToolContext) -> None:
    server = build_server(ctx)
    async with Client(server) as client:
        long = (await call(client, "get_file_state", {"path": "a" * 5000})).structured_content
        assert (
            long["status"] == "refused"
            and "5,000 bytes long; paths are limited to 4,096 bytes" in long["message"]
        )
        name = (await call(client, "get_file_state", {"path": "d/" + "n" * 300})).structured_content
        assert name["status"] == "refused" and "names are limited to 255 bytes" in name["message"]
        begun = await call(client, "begin_task", {"objective": "x", "files": ["a" * 5000]})
        assert begun.is_error and "4,096 bytes" in begun.content[0].text
        in_process = await call(
            client, "get_file_state", {"path": "a\udcff.py"}
        )  # no JSON on this path: the tool sees it
        assert in_process.is_error and "unpaired UTF-16 surrogate" in in_process.content[0].text


class RawStdio:
    """`mpac-bridge mcp` spoken to line by line, as a JSON-RPC peer that escapes what it likes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def answer(self, line: str) -> dict[str, Any]:
        await self.send(line)
        assert self.proc.stdout is not None
        return json.loads(await asyncio.wait_for(self.proc.stdout.readline(), ANSWER))


@pytest.fixture
async def raw(repo_path: Path) -> AsyncIterator[RawStdio]:
    p = stdio(repo_path)
    proc = await asyncio.create_subprocess_exec(
        p.command,
        *p.args,
        env=p.env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    peer = RawStdio(proc)
    init = await peer.answer(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            }
        )
    )
    assert init["result"]["serverInfo"]["name"] == "mpac-bridge"
    await peer.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    yield peer
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def tool_call(rid: int, tool: str, args: str) -> str:
    """A tools/call line with `args` as raw JSON text (so escapes reach the server as written)."""
    return f'{{"jsonrpc":"2.0","id":{rid},"method":"tools/call","params":{{"name":"{tool}","arguments":{args}}}}}'


async def test_unpaired_surrogates_over_stdio_get_a_tool_error(
    raw: RawStdio, repo_path: Path
) -> None:
    path = await raw.answer(tool_call(2, "get_file_state", '{"path":"a\\udcff.py"}'))
    assert path["id"] == 2 and path["result"]["isError"] is True
    assert (
        "path holds an unpaired UTF-16 surrogate ('\\udcff')"
        in path["result"]["content"][0]["text"]
    )
    content = await raw.answer(
        tool_call(
            3,
            "submit_change",
            '{"intent_id":"i","target":"a.py","state_ref_before":"sha256:x","content":"x = \\udcff\\n"}',
        )
    )
    assert content["id"] == 3 and content["result"]["isError"] is True
    assert "content holds an unpaired UTF-16 surrogate" in content["result"]["content"][0]["text"]
    files = await raw.answer(
        tool_call(4, "begin_task", '{"objective":"o","files":["a.py","b\\ud800.py"]}')
    )
    assert "files[1] holds an unpaired UTF-16 surrogate" in files["result"]["content"][0]["text"]
    garbage = await raw.answer("this is not json")
    assert garbage["id"] is None and garbage["error"]["code"] == -32700
    other = await raw.answer(
        '{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"mpac://\\udcff"}}'
    )
    assert (
        other["id"] == 5
        and other["error"]["code"] == -32602
        and "params.uri" in other["error"]["message"]
    )
    fine = await raw.answer(
        tool_call(6, "get_file_state", '{"path":"a.py"}')
    )  # the server still serves
    assert fine["id"] == 6 and fine["result"]["structuredContent"]["content"] == "x = 1\n"
    assert (repo_path / "a.py").read_text() == "x = 1\n"


async def test_the_first_call_after_initialize_finds_every_tool(raw: RawStdio) -> None:
    """Over stdio the tools are registered when the first message after `initialize` arrives
    (issue 17: `initialize` does not wait for them): a tools/call with no tools/list before it
    runs, and the list that follows is complete."""
    first = await raw.answer(tool_call(2, "get_file_state", '{"path":"a.py"}'))
    assert first["id"] == 2 and first["result"]["structuredContent"]["content"] == "x = 1\n"
    listed = await raw.answer('{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{}}')
    names = {t["name"] for t in listed["result"]["tools"]}
    assert {t.__name__ for t in tools.TOOLS} == names


# --- 5. one git process for the ignore check, however many files ---------------------------------------


async def test_begin_task_checks_ignore_rules_in_one_git_process(
    ctx: ToolContext, repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo_path / "many").mkdir()
    files = [f"many/f{n}.py" for n in range(2000)]
    for f in files:
        (repo_path / f).write_text("")
    runs: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        runs.append(list(cmd))
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)  # paths imports subprocess when used
    begun = await tools.begin_task(ctx, "many files", files)
    assert begun.status == "ok" and len(begun.files) == 2000
    assert sum("check-ignore" in cmd for cmd in runs) == 1
    (repo_path / ".gitignore").write_text(".env\nmany/f1999.py\n")
    with pytest.raises(paths.PathRefused, match=r"many/f1999.py is ignored by git"):
        await tools.begin_task(ctx, "one is ignored", files)


# --- 6. superseding tells the agent what it released ------------------------------------------------


async def test_a_later_overlapping_begin_task_lists_what_it_released(
    ctx: ToolContext, repo_path: Path
) -> None:
    eight = [f"f{n}.py" for n in range(8)]
    first = await tools.begin_task(ctx, "eight files", eight)
    assert first.status == "ok" and first.released == []
    second = await tools.begin_task(ctx, "just f3", ["f3.py", "new.py"])
    assert second.status == "ok"
    assert [(r.intent_id, r.files) for r in second.released] == [
        (first.intent_id, [f for f in eight if f != "f3.py"])
    ]
    assert "No longer claimed by you: f0.py" in second.message and "update_task" in second.next_step
    assert [t.intent_id for t in (await tools.list_my_tasks(ctx)).tasks] == [second.intent_id]
    apart = await tools.begin_task(ctx, "unrelated", ["z.py"])
    assert apart.released == [] and apart.message == ""


# --- 9. get_file_state names when a holder's claim expires ---------------------------------------------


async def test_held_by_carries_the_expiry_a_blocked_begin_task_shows(
    ctx: ToolContext, other: SessionClient
) -> None:
    assert (await other.announce("hold a", ["a.py"], intent_id="hold-a", ttl_sec=600)).ok
    blocked = await tools.begin_task(ctx, "want a", ["a.py"])
    state = await tools.get_file_state(ctx, "a.py")
    assert blocked.status == "blocked" and blocked.holders[0].expires_at
    assert state.held_by[0].intent_id == "hold-a"
    shown, told = parse_ts(state.held_by[0].expires_at), parse_ts(blocked.holders[0].expires_at)
    assert shown is not None and told is not None
    assert (
        abs(shown - told) < 60
    )  # the same 600 s claim, as seen by the view and by the coordinator


async def test_the_docs_give_the_ttl_begin_task_really_uses(ctx: ToolContext) -> None:
    concepts = (Path(__file__).resolve().parents[2] / "docs" / "concepts.md").read_text()
    assert f"`begin_task` asks for {tools.DEFAULT_TTL_SEC} s" in " ".join(concepts.split())
    async with Client(build_server(ctx)) as client:
        schema = {t.name: t for t in (await client.list_tools()).tools}["begin_task"].input_schema
    assert f"default {tools.DEFAULT_TTL_SEC} s" in schema["properties"]["ttl_sec"]["description"]

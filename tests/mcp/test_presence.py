"""Presence in every surface (issue 13, point 5): `mpac-bridge status`, a fresh agent's
`who_is_working` and `mpac://session/state`, and an agent connected all along agree on who is
connected and available, and the observer `status` joins with is in none of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from bridge.client import SessionClient
from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.mcp.notify import STATE_URI
from bridge.mcp.server import build_server
from bridge.workspace import ensure_sidecar, find_repo

pytestmark = pytest.mark.e2e
WAIT = 30.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def presence(parts: list[dict[str, Any]]) -> dict[str, tuple[bool, bool, str]]:
    return {
        p["principal_id"]: (bool(p["connected"]), bool(p["is_available"]), str(p["status"]))
        for p in parts
    }


def status_json(repo_path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "status", "--json", "--workspace", str(repo_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["state"]


async def test_every_surface_shows_the_coordinators_presence(repo_path: Path) -> None:
    repo = find_repo(repo_path)
    info = ensure_sidecar(repo)
    watcher = ToolContext(repo=repo, principal_id="agent:watch")
    fresh = ToolContext(repo=repo, principal_id="agent:fresh")
    try:
        await watcher.connected()
        left = SessionClient(info.url, "agent:left", session_id=info.session_id)
        crashed = SessionClient(info.url, "agent:crashed", session_id=info.session_id)
        await left.connect()
        await crashed.connect()
        assert (await crashed.announce("half done", ["a.py"])).ok
        await left.close()  # GOODBYE
        await crashed.abort()  # the socket drops, no GOODBYE
        view = watcher.client.view  # type: ignore[union-attr]
        assert await watcher.client.wait_until(  # type: ignore[union-attr]
            lambda v: v.participants.get("agent:crashed", {}).get("connected") is False, WAIT
        )
        status_json(repo_path)  # a first status run leaves nothing behind
        status = status_json(repo_path)
        expected = presence(status["participants"])
        assert expected["agent:left"] == (False, False, "offline")
        assert expected["agent:crashed"][:2] == (
            False,
            True,
        )  # gone, its intent kept until the liveness timeout
        assert expected["agent:watch"][:2] == (True, True)
        assert not [p for p in expected if p.startswith("service:status")]

        async with Client(build_server(fresh)) as client:
            who = (await client.call_tool("who_is_working", {})).structured_content
            resource = json.loads((await client.read_resource(STATE_URI)).contents[0].text)
        others = {p: v for p, v in presence(resource["participants"]).items() if p != "agent:fresh"}
        assert others == expected
        assert {
            p["principal_id"]: p["available"]
            for p in who["participants"]
            if p["principal_id"] != "agent:fresh"
        } == {p: connected and available for p, (connected, available, _s) in expected.items()}
        live = {
            p: v
            for p, v in presence(list(view.participants.values())).items()
            if p != "agent:fresh"
        }
        assert live == expected
        direct = await tools.who_is_working(watcher)
        assert not [p for p in direct.participants if p.principal_id.startswith("service:status")]
    finally:
        await fresh.close()
        await watcher.close()

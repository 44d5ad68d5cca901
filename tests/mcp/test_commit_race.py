"""Issue 13.1 through the MCP tools: two agents with overlapping scopes submit a change to one file
from one base at the same moment, 100 times. Each round has exactly one success and one stale, and
the disk, the coordinator's record and a late joiner's view agree."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from bridge.client import SessionClient
from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.workspace import ensure_sidecar, find_repo, state_ref_of_bytes

pytestmark = pytest.mark.e2e
ROUNDS = 100


async def test_two_agents_one_base_one_success_one_stale(repo_path: Path) -> None:
    (repo_path / "src").mkdir()
    (repo_path / "src" / "a.py").write_text("v = 0\n")
    subprocess.run(["git", "-C", str(repo_path), "add", "src"], check=True)
    repo = find_repo(repo_path)
    alice = ToolContext(repo=repo, principal_id="agent:alice")
    bob = ToolContext(repo=repo, principal_id="agent:bob")
    try:
        wide = await tools.begin_task(alice, "all of src", ["src/*.py"])
        narrow = await tools.begin_task(bob, "only a", ["src/a.py"])
        assert wide.status == "ok" and narrow.status == "ok"
        assert narrow.conflicts, "overlapping scopes: an advisory conflict, not a lock"
        info = ensure_sidecar(repo)
        tally = {"alice": 0, "bob": 0}
        for n in range(ROUNDS):
            sa, sb = await asyncio.gather(
                tools.get_file_state(alice, "src/a.py"), tools.get_file_state(bob, "src/a.py")
            )
            assert sa.state_ref == sb.state_ref
            base = sa.state_ref or ""
            ra, rb = await asyncio.gather(
                tools.submit_change(
                    alice, wide.intent_id or "", "src/a.py", base, f"v = {n} # alice\n"
                ),
                tools.submit_change(
                    bob, narrow.intent_id or "", "src/a.py", base, f"v = {n} # bob\n"
                ),
            )
            assert sorted([ra.status, rb.status]) == ["stale", "success"], (n, ra, rb)
            win, who = (ra, "alice") if ra.status == "success" else (rb, "bob")
            tally[who] += 1
            on_disk = (repo_path / "src" / "a.py").read_bytes()
            assert on_disk == f"v = {n} # {who}\n".encode()
            assert win.state_ref_after == state_ref_of_bytes(on_disk)
            late = SessionClient(info.url, f"agent:late{n}", session_id=info.session_id)
            await late.connect()
            try:
                recorded = late.session_info["payload"]["extensions"]["mpac-bridge"]["state"][
                    "targets"
                ]["src/a.py"]
                assert (
                    recorded["state_ref"] == win.state_ref_after and recorded["op_id"] == win.op_id
                )
                assert late.view.targets["src/a.py"]["state_ref"] == win.state_ref_after
            finally:
                await late.close()
        assert sum(tally.values()) == ROUNDS
    finally:
        await alice.close()
        await bob.close()

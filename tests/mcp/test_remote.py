"""The MCP tools in remote mode: MPAC_COORDINATOR_URL names a hosted coordinator (multi-session,
token table, TLS). Writes still reach the local work tree; the coordination happens remotely and no
local sidecar is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.client import SessionClient
from bridge.mcp import tools
from bridge.mcp.context import ToolContext, ToolFailure
from bridge.workspace import find_repo, live_runtime, state_ref_of_bytes
from tests.support.sidecar import sidecar
from tests.support.tls import tls_files, token_table

pytestmark = pytest.mark.e2e
TOKEN = "team-token-0123"


async def test_tools_against_a_hosted_tls_coordinator(
    repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = tls_files(tmp_path)
    table = token_table(tmp_path, {TOKEN: {"allowed_sessions": ["shop"], "roles": ["contributor"]}})
    async with sidecar(
        "--multi-session", "--token-table", str(table), *tls.sidecar_args(), data_dir=tmp_path / "d"
    ) as sc:
        url = sc.session_url("shop")
        for var in ("MPAC_SESSION_ID", "MPAC_PRINCIPAL_ID"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("MPAC_COORDINATOR_URL", url)
        monkeypatch.setenv("MPAC_COORDINATOR_TOKEN", TOKEN)
        monkeypatch.setenv("MPAC_AGENT_NAME", "remote-me")
        monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_pem))
        ctx = ToolContext.from_env(repo_path)
        other = SessionClient(url, "agent:teammate", token=TOKEN, ssl_context=tls.client_context())
        await other.connect()
        try:
            assert (await other.announce("pricing rules", ["b.py"], intent_id="mate-b")).ok
            blocked = await tools.begin_task(ctx, "touch b", ["b.py"])
            assert (
                blocked.status == "blocked" and blocked.holders[0].principal_id == "agent:teammate"
            )

            commit_seen = other.wait_for(lambda m: m.get("message_type") == "OP_COMMIT", 20)
            begun = await tools.begin_task(ctx, "edit a", ["a.py"])
            assert begun.status == "ok" and begun.intent_id
            assert await other.wait_until(lambda v: begun.intent_id in v.intents, 20)
            state = await tools.get_file_state(ctx, "a.py")
            done = await tools.submit_change(
                ctx, begun.intent_id, "a.py", state.state_ref, "x = 2\n"
            )
            assert done.status == "success" and done.written
            assert (repo_path / "a.py").read_text() == "x = 2\n"  # the write reached the local disk
            commit = (await commit_seen)["payload"]
            assert commit["target"] == "a.py" and commit["state_ref_after"] == state_ref_of_bytes(
                b"x = 2\n"
            )
            stale = await tools.submit_change(
                ctx, begun.intent_id, "a.py", state.state_ref, "x = 3\n"
            )
            assert stale.status == "stale" and (repo_path / "a.py").read_text() == "x = 2\n"
            assert (await tools.yield_task(ctx, begun.intent_id)).status == "ok"
        finally:
            await ctx.close()
            await other.close()
        assert (
            live_runtime(find_repo(repo_path)) is None
        )  # remote mode never starts a local sidecar

        monkeypatch.setenv("MPAC_COORDINATOR_TOKEN", "wrong-token-000")
        refused = ToolContext.from_env(repo_path)
        try:
            with pytest.raises(ToolFailure, match="cannot join the coordinator"):
                await tools.who_is_working(refused)
        finally:
            await refused.close()


async def test_an_unusable_coordinator_url_is_a_tool_error_that_says_why(
    repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MPAC_SESSION_ID", raising=False)
    for url, why in (
        ("ws://127.0.0.1:9/", "MPAC_SESSION_ID"),
        ("https://team.example/session/shop", "ws:// or wss://"),
    ):
        monkeypatch.setenv("MPAC_COORDINATOR_URL", url)
        ctx = ToolContext.from_env(repo_path)
        assert ctx.url == url  # remote mode all the same: never the local sidecar
        with pytest.raises(ToolFailure, match=why):
            await tools.who_is_working(ctx)
        await ctx.close()
    assert live_runtime(find_repo(repo_path)) is None

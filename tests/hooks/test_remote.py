"""Hooks and the git guard in remote mode: MPAC_COORDINATOR_URL names a hosted coordinator (token
table, TLS, /session/<id>), as it does for the MCP server, and the repository runs no sidecar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.client import SessionClient
from bridge.client.quick import coordinator_of
from bridge.workspace import find_repo, live_runtime
from tests.support.sidecar import sidecar
from tests.support.tls import tls_files, token_table

from .conftest import git
from .test_claude_hooks import edit, hook

pytestmark = pytest.mark.e2e
TOKEN = "team-token-0123"


def test_coordinator_of_reads_the_environment(tmp_path: Path) -> None:
    url = "wss://team.example:443/session/alpha"
    assert coordinator_of(None, {"MPAC_COORDINATOR_URL": url}) == (url, "alpha")
    assert coordinator_of(None, {"MPAC_COORDINATOR_URL": "ws://h:1", "MPAC_SESSION_ID": "s1"}) == (
        "ws://h:1",
        "s1",
    )
    behind_proxy = "wss://team.example/mpac/session/beta"
    assert coordinator_of(None, {"MPAC_COORDINATOR_URL": behind_proxy}) == (behind_proxy, "beta")
    with pytest.raises(ValueError, match="MPAC_SESSION_ID"):
        coordinator_of(None, {"MPAC_COORDINATOR_URL": "ws://h:1/"})
    with pytest.raises(ValueError, match="ws:// or wss://"):
        coordinator_of(None, {"MPAC_COORDINATOR_URL": "https://h/session/a"})


async def test_hook_and_guard_check_a_hosted_tls_coordinator(
    repo_path: Path, tmp_path: Path
) -> None:
    tls = tls_files(tmp_path)
    table = token_table(
        tmp_path, {TOKEN: {"allowed_sessions": ["alpha"], "roles": ["contributor"]}}
    )
    async with sidecar(
        "--multi-session", "--token-table", str(table), *tls.sidecar_args(), data_dir=tmp_path / "d"
    ) as sc:
        url = sc.session_url("alpha")
        assert url.startswith("wss://")
        holder = SessionClient(url, "agent:holder", token=TOKEN, ssl_context=tls.client_context())
        await holder.connect()
        try:
            assert (await holder.announce("refactor a", ["a.py"], intent_id="remote-a")).ok
            remote = {
                "MPAC_COORDINATOR_URL": url,
                "MPAC_COORDINATOR_TOKEN": TOKEN,
                "SSL_CERT_FILE": str(tls.ca_pem),
            }

            out = hook("claude-pretooluse", edit(repo_path, "a.py"), env=remote)
            decision = json.loads(out.stdout)["hookSpecificOutput"]
            assert decision["permissionDecision"] == "deny"
            assert (
                "agent:holder" in decision["permissionDecisionReason"]
                and "remote-a" in decision["permissionDecisionReason"]
            )
            free = hook("claude-pretooluse", edit(repo_path, "b.py"), env=remote)
            assert free.returncode == 0 and free.stdout.strip() == ""

            # a certificate we do not trust: the hook says why and lets the edit through (fail open)
            untrusted = hook(
                "claude-pretooluse",
                edit(repo_path, "a.py"),
                env={**remote, "SSL_CERT_FILE": str(tmp_path / "none.pem")},
            )
            assert untrusted.returncode == 0 and untrusted.stdout.strip() == ""
            assert "cannot reach the coordinator at wss://" in untrusted.stderr
            wrong_token = hook(
                "claude-pretooluse",
                edit(repo_path, "a.py"),
                env={**remote, "MPAC_COORDINATOR_TOKEN": "nope-nope-nope"},
            )
            assert (
                wrong_token.stdout.strip() == ""
                and "cannot reach the coordinator" in wrong_token.stderr
            )
            no_session = hook(
                "claude-pretooluse",
                edit(repo_path, "a.py"),
                env={**remote, "MPAC_COORDINATOR_URL": sc.url},
            )
            assert no_session.stdout.strip() == "" and "MPAC_SESSION_ID" in no_session.stderr

            # the git guard refuses a commit of the held file, checked against the same coordinator
            guard = subprocess.run(
                [sys.executable, "-m", "bridge", "guard", "install", "--workspace", str(repo_path)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert guard.returncode == 0, guard.stderr
            (repo_path / "a.py").write_text("a = 2\n")
            git(repo_path, "add", "a.py")
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("MPAC_")}, **remote}
            blocked = subprocess.run(
                [
                    "git",
                    "-C",
                    str(repo_path),
                    "-c",
                    "user.email=t@t",
                    "-c",
                    "user.name=t",
                    "commit",
                    "-m",
                    "x",
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            assert blocked.returncode != 0
            assert "a.py: agent:holder" in blocked.stderr and "refactor a" in blocked.stderr
            assert (await holder.withdraw("remote-a")).ok
            done = subprocess.run(
                [
                    "git",
                    "-C",
                    str(repo_path),
                    "-c",
                    "user.email=t@t",
                    "-c",
                    "user.name=t",
                    "commit",
                    "-m",
                    "x",
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
        finally:
            await holder.close()
    assert live_runtime(find_repo(repo_path)) is None  # the hooks never started a local sidecar

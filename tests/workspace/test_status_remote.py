"""`mpac-bridge status` in remote mode: MPAC_COORDINATOR_URL (or --url) names a hosted TLS
coordinator, and status shows that session, from anywhere, without a repository or local sidecar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.client import SessionClient
from tests.support.sidecar import sidecar
from tests.support.tls import tls_files, token_table

pytestmark = pytest.mark.e2e
TOKEN = "team-token-0123"


def status(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MPAC_")}
    return subprocess.run(
        [sys.executable, "-m", "bridge", "status", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**base, **env},
    )


async def test_status_shows_the_remote_session(tmp_path: Path) -> None:
    tls = tls_files(tmp_path)
    table = token_table(tmp_path, {TOKEN: {"allowed_sessions": ["shop"], "roles": ["contributor"]}})
    async with sidecar(
        "--multi-session", "--token-table", str(table), *tls.sidecar_args(), data_dir=tmp_path / "d"
    ) as sc:
        url = sc.session_url("shop")
        agent = SessionClient(url, "agent:alice", token=TOKEN, ssl_context=tls.client_context())
        await agent.connect()
        try:
            assert (
                await agent.announce("fix the parser", ["src/parser.py"], intent_id="remote-1")
            ).ok
            env = {
                "MPAC_COORDINATOR_URL": url,
                "MPAC_COORDINATOR_TOKEN": TOKEN,
                "SSL_CERT_FILE": str(tls.ca_pem),
            }
            text = status(
                tmp_path, env=env
            )  # tmp_path is no repository: remote mode does not need one
            assert text.returncode == 0, text.stderr
            for needle in (
                url,
                "(remote: MPAC_COORDINATOR_URL)",
                "shop",
                "agent:alice",
                "fix the parser",
                "src/parser.py",
            ):
                assert needle in text.stdout
            data = json.loads(status(tmp_path, "--json", env=env).stdout)
            assert data["remote"] and data["session_id"] == "shop" and data["error"] is None
            assert [(i["intent_id"], i["principal_id"]) for i in data["state"]["intents"]] == [
                ("remote-1", "agent:alice")
            ]
            # the earlier status run left no participant behind under a per-run name
            assert [p["principal_id"] for p in data["state"]["participants"]] == ["agent:alice"]

            by_flag = status(
                tmp_path, "--url", url, "--token", TOKEN, env={"SSL_CERT_FILE": str(tls.ca_pem)}
            )
            assert by_flag.returncode == 0 and "agent:alice" in by_flag.stdout
            refused = status(tmp_path, env={**env, "MPAC_COORDINATOR_TOKEN": "wrong-token-000"})
            assert refused.returncode == 1 and "could not read the session state" in refused.stdout
            no_session = status(tmp_path, "--url", sc.url, env={"SSL_CERT_FILE": str(tls.ca_pem)})
            assert no_session.returncode == 2 and "MPAC_SESSION_ID" in no_session.stderr
        finally:
            await agent.close()

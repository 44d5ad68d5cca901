"""The sidecar process: command line, workspace mode (runtime file, log, clean stop), idle exit,
token table from the environment."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bridge.workspace import find_repo, read_runtime, runtime_path
from tests.core.helpers import msg
from tests.support.sidecar import reap, start_sidecar
from tests.workspace.helpers import make_repo

pytestmark = pytest.mark.e2e

FLAGS = [
    "--workspace",
    "--host",
    "--port",
    "--session-id",
    "--multi-session",
    "--security-profile",
    "--token-table",
    "--tls",
    "--cert",
    "--key",
    "--data-dir",
    "--idle-timeout",
    "--log-level",
    "--allow-open-network",
    "--allow-origin",
    "--max-frame-bytes",
    "--max-msgs-per-sec",
    "--max-connections-per-session",
    "--send-queue-limit",
    "--heartbeat-interval",
    "--unavailability-timeout",
    "--resolution-timeout",
    "--execution-model",
    "--compliance-profile",
    "--compress",
    "--history-limit",
    "--file-limit",
]


def sidecar_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "sidecar", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_explains_every_flag() -> None:
    out = sidecar_cli("--help")
    assert out.returncode == 0
    for flag in FLAGS:
        assert flag in out.stdout, flag
    import argparse

    from bridge.server.cli import configure

    parser = argparse.ArgumentParser()
    configure(parser)
    for action in parser._actions:  # every flag the parser knows, including ones added later
        if action.option_strings and action.dest != "help":
            assert action.help and len(action.help) > 15, action.option_strings
            assert action.option_strings[0] in out.stdout, action.option_strings


@pytest.mark.parametrize("flag", ["--history-limit", "--file-limit"])
def test_a_memory_cap_too_small_is_refused(tmp_path: Path, flag: str) -> None:
    out = sidecar_cli(flag, "5", "--data-dir", str(tmp_path))
    assert out.returncode == 2 and f"{flag} 5 is too small" in out.stderr


def test_tls_without_a_certificate_says_what_to_pass(tmp_path: Path) -> None:
    out = sidecar_cli("--tls", "--data-dir", str(tmp_path))
    assert out.returncode == 2
    assert "--cert" in out.stderr and "--key" in out.stderr


async def test_workspace_mode_runtime_file_log_and_clean_stop(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    repo = find_repo(root)
    sc = await start_sidecar("--workspace", str(root), data_dir=tmp_path / "data")
    try:
        assert sc.session_id == repo.session_id
        assert f"pid={sc.pid}" in sc.ready_line
        info = read_runtime(runtime_path(repo))
        assert info is not None and (info.pid, info.port, info.session_id) == (
            sc.pid,
            sc.port,
            repo.session_id,
        )
        async with connect(sc.url) as ws:
            hello = msg(
                "HELLO", "agent:w", {"display_name": "w"}, session=repo.session_id, now=time.time()
            )
            await ws.send(json.dumps(hello))
            while (
                json.loads(await asyncio.wait_for(ws.recv(), 30))["message_type"] != "SESSION_INFO"
            ):
                pass
            sc.proc.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as exc:
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
            assert exc.value.rcvd is not None and exc.value.rcvd.reason == "sidecar shutting down"
        assert await asyncio.wait_for(sc.proc.wait(), 30) == 0
        assert not runtime_path(repo).exists()
        assert "stopping" in (repo.data_dir / "sidecar.log").read_text()
    finally:
        await sc.stop()


async def test_idle_timeout_exits_cleanly(tmp_path: Path) -> None:
    sc = await start_sidecar("--session-id", "idle", "--idle-timeout", "1", data_dir=tmp_path)
    try:
        assert await asyncio.wait_for(sc.proc.wait(), 60) == 0
        assert "idle timeout" in sc.stderr_path.read_text()
    finally:
        await sc.stop()


async def test_token_table_from_the_environment_means_authenticated(tmp_path: Path) -> None:
    table = {"env-token-12345": {"allowed_sessions": ["envs"], "roles": ["contributor"]}}
    sc = await start_sidecar(
        "--session-id", "envs", data_dir=tmp_path, env={"MPAC_TOKEN_TABLE": json.dumps(table)}
    )
    try:
        assert "profile=authenticated" in sc.ready_line
        async with connect(sc.url) as ws:
            await ws.send(
                json.dumps(
                    msg("HELLO", "agent:n", {"display_name": "n"}, session="envs", now=time.time())
                )
            )
            assert (
                json.loads(await asyncio.wait_for(ws.recv(), 30))["payload"]["error_code"]
                == "CREDENTIAL_REJECTED"
            )
        async with connect(
            sc.url, additional_headers={"Authorization": "Bearer env-token-12345"}
        ) as ws:
            await ws.send(
                json.dumps(
                    msg("HELLO", "agent:y", {"display_name": "y"}, session="envs", now=time.time())
                )
            )
            assert (
                json.loads(await asyncio.wait_for(ws.recv(), 30))["message_type"] == "SESSION_INFO"
            )
    finally:
        await sc.stop()


async def test_a_sidecar_a_failed_test_left_running_is_reaped(tmp_path: Path) -> None:
    """The suite's safety net (tests/conftest.py): no sidecar process outlives its test."""
    sc = await start_sidecar("--session-id", "reap", data_dir=tmp_path)
    assert reap() == 1
    assert await asyncio.wait_for(sc.proc.wait(), 10) == -signal.SIGKILL
    assert reap() == 0

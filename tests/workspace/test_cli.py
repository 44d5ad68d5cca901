"""`mpac-bridge status` and `mpac-bridge stop` without the real sidecar (see test_real_sidecar.py
for the full round trip)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.workspace import Repo, ensure_sidecar, runtime_path, write_runtime
from bridge.workspace.runtime import pid_alive

from .helpers import FAKE_SIDECAR
from .test_ensure import dead_pid, stale_info

pytestmark = pytest.mark.usefixtures("cleanup_sidecars")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("command", ["status", "stop"])
def test_help_explains(command: str) -> None:
    out = cli(command, "--help")
    assert out.returncode == 0
    assert "--workspace" in out.stdout and "sidecar" in out.stdout


def test_status_without_sidecar(repo: Repo) -> None:
    out = cli("status", "--workspace", str(repo.root))
    assert out.returncode == 0
    assert f"no sidecar running for {repo.root}" in out.stdout
    assert f"mpac-bridge sidecar --workspace {repo.root}" in out.stdout
    data = json.loads(cli("status", "--workspace", str(repo.root), "--json").stdout)
    assert (
        data["running"] is False
        and data["runtime"] is None
        and data["session_id"] == repo.session_id
    )


def test_status_reports_a_stale_runtime_file(repo: Repo) -> None:
    write_runtime(runtime_path(repo), stale_info(repo, dead_pid(), 1))
    out = cli("status", "--workspace", str(repo.root))
    assert out.returncode == 0
    assert "stale runtime file" in out.stdout and "no sidecar running" in out.stdout


def test_outside_a_repository(tmp_path: Path) -> None:
    for command in ("status", "stop"):
        out = cli(command, "--workspace", str(tmp_path))
        assert out.returncode == 2
        assert "not inside a git work tree" in out.stderr


def test_stop_without_sidecar(repo: Repo) -> None:
    out = cli("stop", "--workspace", str(repo.root))
    assert out.returncode == 0 and "nothing to stop" in out.stdout


def test_stop_removes_a_stale_file(repo: Repo) -> None:
    write_runtime(runtime_path(repo), stale_info(repo, dead_pid(), 1))
    out = cli("stop", "--workspace", str(repo.root))
    assert out.returncode == 0 and "stale" in out.stdout
    assert not runtime_path(repo).exists()


def fake(repo: Repo, mode: str) -> list[str]:
    return [sys.executable, str(FAKE_SIDECAR), "--workspace", str(repo.root), "--mode", mode]


def test_stop_a_running_sidecar(repo: Repo) -> None:
    info = ensure_sidecar(repo, timeout=60, command=fake(repo, "ok"))
    out = cli("stop", "--workspace", str(repo.root))
    assert out.returncode == 0 and f"pid {info.pid}" in out.stdout
    assert not pid_alive(info.pid) and not runtime_path(repo).exists()


def test_stop_stubborn_sidecar_needs_force(repo: Repo) -> None:
    info = ensure_sidecar(repo, timeout=60, command=fake(repo, "stubborn"))
    out = cli("stop", "--workspace", str(repo.root), "--timeout", "0.5")
    assert out.returncode == 1 and "--force" in out.stderr
    assert pid_alive(info.pid)
    out = cli("stop", "--workspace", str(repo.root), "--timeout", "0.5", "--force")
    assert out.returncode == 0 and "killed" in out.stdout
    assert not pid_alive(info.pid) and not runtime_path(repo).exists()


def test_status_names_each_participant_once() -> None:
    from bridge.workspace.cli_status import state_lines

    state = {
        "participants": [
            {
                "principal_id": "agent:claude",
                "display_name": "agent:claude",
                "roles": ["contributor"],
                "status": "idle",
            },
            {
                "principal_id": "human:ann",
                "display_name": "Ann",
                "roles": ["owner"],
                "status": "working",
            },
        ]
    }
    lines = state_lines(state, None, 0.0)
    claude = next(line for line in lines if "agent:claude" in line)
    assert claude.count("agent:claude") == 1
    assert any("human:ann (Ann)  roles=owner" in line for line in lines)

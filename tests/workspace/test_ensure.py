"""ensure_sidecar with a stand-in sidecar (fake_sidecar.py) honouring the same contract as the
real one: one sidecar per repository, stale runtime files replaced, failures reported clearly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.workspace import (
    Repo,
    SidecarStartError,
    ensure_sidecar,
    is_alive,
    read_runtime,
    runtime_path,
    write_runtime,
)
from bridge.workspace.ensure import sidecar_command
from bridge.workspace.runtime import RuntimeInfo, pid_alive, port_accepts

from .helpers import FAKE_SIDECAR, sidecar_pids, wait_gone

pytestmark = pytest.mark.usefixtures("cleanup_sidecars")
TIMEOUT = 60.0  # generous: the machine may be loaded


def fake(repo: Repo, mode: str = "ok") -> list[str]:
    return [sys.executable, str(FAKE_SIDECAR), "--workspace", str(repo.root), "--mode", mode]


def test_default_command_runs_the_real_sidecar(repo: Repo) -> None:
    cmd = sidecar_command(repo)
    assert cmd[:4] == [sys.executable, "-m", "bridge", "sidecar"]
    assert cmd[4:8] == ["--workspace", str(repo.root), "--port", "0"]
    assert "--idle-timeout" in cmd
    custom = sidecar_command(repo, ["--idle-timeout", "5"])
    assert custom.count("--idle-timeout") == 1 and custom[-1] == "5"


def test_starts_once_then_reuses(repo: Repo) -> None:
    info = ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo))
    assert is_alive(info)
    assert read_runtime(runtime_path(repo)) == info
    assert info.session_id == repo.session_id
    again = ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo))
    assert again == info
    assert sidecar_pids(repo.root) == [info.pid]


def test_detached_in_its_own_session(repo: Repo) -> None:
    info = ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo))
    assert os.getsid(info.pid) == info.pid != os.getsid(0)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def stale_info(repo: Repo, pid: int, port: int) -> RuntimeInfo:
    return RuntimeInfo(
        pid=pid,
        host="127.0.0.1",
        port=port,
        url=f"ws://127.0.0.1:{port}",
        session_id=repo.session_id,
        started_at=0.0,
        version="old",
        workspace=str(repo.root),
        data_dir=str(repo.data_dir),
    )


def test_dead_pid_replaced(repo: Repo) -> None:
    write_runtime(runtime_path(repo), stale_info(repo, dead_pid(), 1))
    info = ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo))
    assert info.version == "fake" and is_alive(info)


def test_reused_pid_without_listener_replaced(repo: Repo) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening
        write_runtime(
            runtime_path(repo), stale_info(repo, os.getpid(), port)
        )  # our pid: alive, not a sidecar
        info = ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo))
    assert info.pid != os.getpid() and is_alive(info)


def test_corrupt_runtime_file_replaced(repo: Repo) -> None:
    runtime_path(repo).parent.mkdir(parents=True, exist_ok=True)
    runtime_path(repo).write_text("{ not json")
    assert is_alive(ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo)))


def test_failed_start_quotes_the_log(repo: Repo) -> None:
    with pytest.raises(SidecarStartError) as err:
        ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo, "fail"))
    text = str(err.value)
    assert "status 3" in text and "boom" in text and "sidecar.log" in text
    assert not runtime_path(repo).exists()


def test_timeout_stops_the_child_and_quotes_the_log(repo: Repo) -> None:
    with pytest.raises(SidecarStartError) as err:
        ensure_sidecar(repo, timeout=3.0, command=fake(repo, "hang"))
    assert "not ready within 3 s" in str(err.value)
    assert "hanging before it listens" in str(err.value)
    assert sidecar_pids(repo.root) == []


def test_runtime_naming_another_pid_is_not_accepted(repo: Repo) -> None:
    with pytest.raises(SidecarStartError):
        ensure_sidecar(repo, timeout=3.0, command=fake(repo, "other-pid"))


ENSURER = """
import json, sys
from bridge.workspace import ensure_sidecar, find_repo
repo = find_repo(sys.argv[1])
cmd = json.loads(sys.argv[2]) or None
print("ready", flush=True)
sys.stdin.readline()
info = ensure_sidecar(repo, timeout=float(sys.argv[3]), command=cmd)
print(json.dumps(info.to_json()), flush=True)
"""


def ensure_concurrently(
    repo: Repo, n: int, command: list[str] | None, timeout: float
) -> list[dict]:
    """Start `n` processes, wait until each is loaded, release them together, collect results."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ENSURER, str(repo.root), json.dumps(command), str(timeout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=timeout * 3)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_eight_concurrent_callers_share_one_fake_sidecar(repo: Repo) -> None:
    results = ensure_concurrently(repo, 8, fake(repo), TIMEOUT)
    assert len({json.dumps(r, sort_keys=True) for r in results}) == 1
    pid = results[0]["pid"]
    assert sidecar_pids(repo.root) == [pid]
    assert port_accepts("127.0.0.1", results[0]["port"])


def test_sigterm_removes_owned_runtime_file(repo: Repo) -> None:
    info = ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo))
    os.kill(info.pid, signal.SIGTERM)
    assert wait_gone(info.pid)
    assert not pid_alive(info.pid)
    assert not runtime_path(repo).exists()


def test_worktree_reuses_the_same_sidecar(repo: Repo, tmp_path: Path) -> None:
    from bridge.workspace import find_repo

    from .helpers import git

    wt = tmp_path / "wt"
    git(repo.root, "worktree", "add", "-q", "-b", "side", str(wt))
    first = ensure_sidecar(repo, timeout=TIMEOUT, command=fake(repo))
    other = find_repo(wt)
    assert ensure_sidecar(other, timeout=TIMEOUT, command=fake(other)) == first

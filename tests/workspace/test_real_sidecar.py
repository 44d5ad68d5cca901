"""ensure_sidecar, `mpac-bridge status` and `mpac-bridge stop` against the REAL sidecar
(`mpac-bridge sidecar --workspace`). Skipped while `bridge.server.cli` cannot be imported."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bridge.workspace import (
    Repo,
    ensure_sidecar,
    is_alive,
    read_runtime,
    runtime_path,
    write_runtime,
)
from bridge.workspace.runtime import RuntimeInfo, pid_alive

from .helpers import sidecar_pids, wait_gone
from .test_ensure import dead_pid, ensure_concurrently, stale_info

try:
    HAVE_SIDECAR = importlib.util.find_spec("bridge.server.cli") is not None
except ImportError:
    HAVE_SIDECAR = False

pytestmark = [
    pytest.mark.skipif(
        not HAVE_SIDECAR, reason="bridge.server.cli (the real sidecar) is not available yet"
    ),
    pytest.mark.usefixtures("cleanup_sidecars"),
]
TIMEOUT = 60.0


@contextmanager
def participant(info: RuntimeInfo, principal: str, roles: list[str]) -> Iterator[Any]:
    """A raw protocol participant: HELLO, wait for SESSION_INFO; GOODBYE on exit."""
    from websockets.sync.client import connect

    from bridge.protocol.envelope import build_envelope

    sender = {
        "principal_id": principal,
        "principal_type": "agent",
        "sender_instance_id": f"{principal}-{os.getpid()}",
    }
    counter = iter(range(1, 10_000))

    def send(ws: Any, mtype: str, payload: dict[str, Any]) -> str:
        n = next(counter)
        mid = f"{sender['sender_instance_id']}:{n}"
        ws.send(
            json.dumps(
                build_envelope(
                    mtype,
                    payload,
                    session_id=info.session_id,
                    sender=sender,
                    now=time.time(),
                    message_id=mid,
                    lamport=n,
                )
            )
        )
        return mid

    def wait_for(ws: Any, pred: Any) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if pred(msg):
                return msg

    with connect(info.url, open_timeout=TIMEOUT) as ws:
        send(ws, "HELLO", {"display_name": principal, "roles": roles})
        wait_for(ws, lambda m: m.get("message_type") == "SESSION_INFO")
        ws.mpac_send = lambda mtype, payload: send(ws, mtype, payload)  # type: ignore[attr-defined]
        ws.mpac_wait = lambda pred: wait_for(ws, pred)  # type: ignore[attr-defined]
        yield ws
        send(ws, "GOODBYE", {"reason": "user_exit", "intent_disposition": "withdraw"})


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args], capture_output=True, text=True, timeout=TIMEOUT * 2
    )


def test_eight_concurrent_callers_one_real_sidecar_all_connect(repo: Repo) -> None:
    results = ensure_concurrently(repo, 8, None, TIMEOUT)
    assert len({json.dumps(r, sort_keys=True) for r in results}) == 1
    info = RuntimeInfo.from_json(results[0])
    assert info is not None and info.session_id == repo.session_id
    assert sidecar_pids(repo.root) == [info.pid]
    for i in range(8):
        with participant(info, f"agent:a{i}", ["contributor"]):
            pass


def test_real_stale_file_and_dead_pid_replaced(repo: Repo) -> None:
    write_runtime(runtime_path(repo), stale_info(repo, dead_pid(), 1))
    info = ensure_sidecar(repo, timeout=TIMEOUT)
    assert is_alive(info) and info.version != "old"
    # the sidecar is killed without cleanup: its runtime file stays behind, naming a dead pid
    os.kill(info.pid, 9)
    assert wait_gone(info.pid)
    assert read_runtime(runtime_path(repo)) == info
    fresh = ensure_sidecar(repo, timeout=TIMEOUT)
    assert fresh.pid != info.pid and is_alive(fresh)
    assert sidecar_pids(repo.root) == [fresh.pid]


def test_status_and_stop(repo: Repo) -> None:
    out = cli("status", "--workspace", str(repo.root))
    assert out.returncode == 0 and "no sidecar running" in out.stdout
    info = ensure_sidecar(repo, timeout=TIMEOUT)
    with participant(info, "agent:alice", ["contributor"]) as ws:
        mid = ws.mpac_send(
            "INTENT_ANNOUNCE",
            {
                "intent_id": "intent-1",
                "objective": "fix the parser",
                "scope": {"kind": "file_set", "resources": ["src/parser.py"]},
                "ttl_sec": 600,
            },
        )
        ws.mpac_wait(lambda m: m.get("message_id") == mid)  # the relay of our own message: accepted
        js = cli("status", "--workspace", str(repo.root), "--json")
        assert js.returncode == 0, js.stderr
        data = json.loads(js.stdout)
        assert data["running"] and data["runtime"]["pid"] == info.pid and data["error"] is None
        assert [p["principal_id"] for p in data["state"]["participants"]] == ["agent:alice"]
        assert [(i["intent_id"], i["principal_id"]) for i in data["state"]["intents"]] == [
            ("intent-1", "agent:alice")
        ]
        text = cli("status", "--workspace", str(repo.root / "."))
        assert text.returncode == 0, text.stderr
        for needle in (
            f"pid {info.pid}",
            info.url,
            repo.session_id,
            "agent:alice",
            "fix the parser",
            "src/parser.py",
            "sidecar.log",
        ):
            assert needle in text.stdout
    stop = cli("stop", "--workspace", str(repo.root))
    assert stop.returncode == 0 and f"pid {info.pid}" in stop.stdout
    assert not pid_alive(info.pid)
    assert not runtime_path(repo).exists()
    again = cli("stop", "--workspace", str(repo.root))
    assert again.returncode == 0 and "no sidecar running" in again.stdout

"""The runtime file: atomic round trip, corrupt files, liveness, owned removal."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from bridge.workspace import (
    Repo,
    RuntimeInfo,
    is_alive,
    live_runtime,
    read_runtime,
    remove_runtime_if_owned,
    runtime_path,
    write_runtime,
)


def info_for(repo: Repo, pid: int, port: int) -> RuntimeInfo:
    return RuntimeInfo(
        pid=pid,
        host="127.0.0.1",
        port=port,
        url=f"ws://127.0.0.1:{port}",
        session_id=repo.session_id,
        started_at=1700000000.5,
        version="9.9",
        workspace=str(repo.root),
        data_dir=str(repo.data_dir),
    )


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runtime_path(repo: Repo) -> None:
    assert runtime_path(repo) == repo.common_dir / "mpac" / "sidecar.json"


def test_round_trip_is_atomic_and_clean(repo: Repo) -> None:
    info = info_for(repo, 1234, 5678)
    path = runtime_path(repo)
    write_runtime(path, info)  # creates the data dir
    assert read_runtime(path) == info
    assert read_runtime(repo) == info  # draft form: the Repo itself
    assert json.loads(path.read_text())["url"] == "ws://127.0.0.1:5678"
    assert sorted(p.name for p in path.parent.iterdir()) == ["sidecar.json"]  # no temp file left
    info2 = info_for(repo, 4321, 8765)
    write_runtime(path, info2)
    assert read_runtime(path) == info2


def test_draft_positional_form_fills_host(repo: Repo) -> None:
    info = RuntimeInfo(1, 2, "ws://127.0.0.1:2", "s", 0.0, "v", "/w")
    assert info.host == "127.0.0.1" and info.data_dir == ""


def test_missing_or_corrupt_reads_none(repo: Repo) -> None:
    path = runtime_path(repo)
    assert read_runtime(path) is None
    path.parent.mkdir(parents=True)
    for text in [
        "",
        "{",
        "[]",
        "null",
        '{"pid": 1}',
        json.dumps({**info_for(repo, 1, 2).to_json(), "pid": "1"}),
        json.dumps({**info_for(repo, 1, 2).to_json(), "port": True}),
        "\xff\xfe",
    ]:
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        assert read_runtime(path) is None, text


def test_is_alive_needs_pid_and_listening_port(repo: Repo) -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        assert is_alive(info_for(repo, os.getpid(), port))
        assert not is_alive(info_for(repo, dead_pid(), port))  # listening, but the pid is gone
    assert not is_alive(info_for(repo, os.getpid(), closed_port()))  # pid reused, nothing listening


def test_live_runtime(repo: Repo) -> None:
    assert live_runtime(repo) is None
    write_runtime(runtime_path(repo), info_for(repo, dead_pid(), closed_port()))
    assert live_runtime(repo) is None


def test_remove_only_if_owned(repo: Repo, tmp_path: Path) -> None:
    path = runtime_path(repo)
    write_runtime(path, info_for(repo, 111, 1))
    remove_runtime_if_owned(path, 222)
    assert path.exists()
    remove_runtime_if_owned(path, 111)
    assert not path.exists()
    remove_runtime_if_owned(path, 111)  # already gone: no error

"""The runtime file `<common dir>/mpac/sidecar.json` and `ensure_sidecar()`: one sidecar per
repository, started detached under a file lock."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bridge.workspace.repo import Repo

START_TIMEOUT = 15.0


@dataclass
class RuntimeInfo:
    pid: int
    port: int
    url: str
    session_id: str
    started_at: float
    version: str
    workspace: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def runtime_path(repo: Repo) -> Path:
    return repo.data_dir / "sidecar.json"


def log_path(repo: Repo) -> Path:
    return repo.data_dir / "sidecar.log"


def write_runtime(path: Path, info: RuntimeInfo) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info.to_json(), indent=2))
    os.replace(tmp, path)


def read_runtime(repo: Repo) -> RuntimeInfo | None:
    try:
        data = json.loads(runtime_path(repo).read_text())
        return RuntimeInfo(**{k: data[k] for k in RuntimeInfo.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child is not alive
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def port_open(url: str, timeout: float = 0.5) -> bool:
    import socket

    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def live_runtime(repo: Repo) -> RuntimeInfo | None:
    """The runtime info when its sidecar is alive and listening; None for a stale or missing file."""
    info = read_runtime(repo)
    if info is None or not pid_alive(info.pid) or not port_open(info.url):
        return None
    return info


def ensure_sidecar(repo: Repo, *, extra_args: list[str] | None = None, timeout: float = START_TIMEOUT) -> RuntimeInfo:
    """Return the repository's running sidecar, starting one if needed. Concurrent callers (threads
    or processes) serialize on a lock file, so exactly one sidecar is started."""
    info = live_runtime(repo)
    if info is not None:
        return info
    repo.data_dir.mkdir(parents=True, exist_ok=True)
    with open(repo.data_dir / "sidecar.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            info = live_runtime(repo)
            if info is not None:
                return info
            runtime_path(repo).unlink(missing_ok=True)  # stale: dead pid or closed port
            cmd = [sys.executable, "-m", "bridge", "sidecar", "--workspace", str(repo.root), "--port", "0", "--idle-timeout", "1800"]
            cmd += extra_args or []
            with open(log_path(repo), "ab") as log:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, cwd=repo.root)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                info = read_runtime(repo)
                if info is not None and info.pid == proc.pid:
                    return info
                if proc.poll() is not None:
                    raise RuntimeError(f"the sidecar exited with status {proc.returncode}; see {log_path(repo)}")
                time.sleep(0.02)  # polling a file the child writes once; bounded by the deadline
            proc.kill()
            raise RuntimeError(f"the sidecar did not start within {timeout:.0f} s; see {log_path(repo)}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

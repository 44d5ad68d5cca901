"""`ensure_sidecar()`: one sidecar per repository, started on demand, detached, under a file lock
so that any number of simultaneous callers end up sharing exactly one."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bridge.workspace.repo import Repo
from bridge.workspace.runtime import (
    RuntimeInfo,
    is_alive,
    log_path,
    pid_alive,
    port_accepts,
    read_runtime,
    runtime_path,
)


class SidecarStartError(Exception):
    """The sidecar did not come up; the message quotes the end of its log."""


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    tail = text.rstrip().splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


DEFAULT_IDLE_TIMEOUT = 900.0  # an auto-started sidecar exits after 15 idle minutes


def sidecar_command(repo: Repo, extra_args: Sequence[str] = ()) -> list[str]:
    """The real sidecar for `repo` on an ephemeral port; adds `--idle-timeout` unless given."""
    extra = list(extra_args)
    if not any(a == "--idle-timeout" or a.startswith("--idle-timeout=") for a in extra):
        extra += ["--idle-timeout", f"{DEFAULT_IDLE_TIMEOUT:g}"]
    return [
        sys.executable,
        "-m",
        "bridge",
        "sidecar",
        "--workspace",
        str(repo.root),
        "--port",
        "0",
        *extra,
    ]


def ensure_sidecar(
    repo: Repo,
    *,
    timeout: float = 15.0,
    extra_args: Sequence[str] = (),
    command: Sequence[str] | None = None,
) -> RuntimeInfo:
    """The repository's live sidecar, starting a detached one if there is none. Raises
    SidecarStartError when it does not come up within `timeout` seconds. `command` replaces the
    launcher (default: `sidecar_command(repo, extra_args)`); it must honour the runtime-file
    contract (write it once listening, with its own pid)."""
    repo.data_dir.mkdir(parents=True, exist_ok=True)
    with open(repo.data_dir / "sidecar.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            path = runtime_path(repo)
            info = read_runtime(path)
            if info is not None and is_alive(info):
                return info
            path.unlink(missing_ok=True)  # missing, corrupt, dead pid, or nothing listening
            return _start(
                repo, timeout, list(command) if command else sidecar_command(repo, extra_args)
            )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _start(repo: Repo, timeout: float, argv: list[str]) -> RuntimeInfo:
    log = log_path(repo)
    with open(log, "ab") as err:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            cwd=repo.root,
            close_fds=True,
        )
    deadline = time.monotonic() + timeout
    delay = 0.005
    path = runtime_path(repo)
    while True:
        info = read_runtime(path)
        if info is not None and info.pid == proc.pid and port_accepts(info.host, info.port):
            return info
        status = proc.poll()
        if status is not None:
            raise SidecarStartError(
                f"the sidecar for {repo.root} exited with status {status} before it was ready.\n"
                f"Last lines of {log}:\n{log_tail(log)}"
            )
        if time.monotonic() >= deadline:
            break
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))  # backoff poll, bounded
        delay = min(delay * 2, 0.1)
    if pid_alive(proc.pid):
        proc.kill()
    proc.wait()
    raise SidecarStartError(
        f"the sidecar for {repo.root} was not ready within {timeout:g} s and was stopped.\n"
        f"Last lines of {log}:\n{log_tail(log)}"
    )

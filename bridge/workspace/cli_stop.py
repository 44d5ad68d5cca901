"""`mpac-bridge stop`: ask the repository's sidecar to shut down cleanly (SIGTERM)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from bridge.workspace.repo import NotARepository, find_repo
from bridge.workspace.runtime import (
    is_alive,
    pid_alive,
    read_runtime,
    remove_runtime_if_owned,
    runtime_path,
)

HELP = "Stop the repository's sidecar cleanly."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Stop the sidecar serving a git repository: send it SIGTERM (it saves a final snapshot, "
        "closes connections and removes its runtime file) and wait for it to exit. Agents that "
        "connect later start a new one automatically."
    )
    parser.add_argument(
        "--workspace",
        default=".",
        metavar="PATH",
        help="a path inside the repository (default: the current directory)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SEC",
        help="how long to wait for a clean exit (default 10)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="if it has not exited after --timeout, kill it (SIGKILL)",
    )


def wait_exit(pid: int, timeout: float) -> bool:
    """Poll (5 ms growing to 100 ms) until `pid` is gone; True if it exited in time."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.1)
    return True


def run(args: argparse.Namespace) -> int:
    try:
        repo = find_repo(Path(args.workspace))
    except NotARepository as exc:
        print(f"mpac-bridge stop: {exc}", file=sys.stderr)
        return 2
    path = runtime_path(repo)
    info = read_runtime(path)
    if info is None:
        print(f"no sidecar running for {repo.root}; nothing to stop")
        return 0
    if not is_alive(info):
        path.unlink(missing_ok=True)
        print(
            f"no sidecar running for {repo.root} (removed a stale runtime file naming pid {info.pid})"
        )
        return 0
    try:
        os.kill(info.pid, signal.SIGTERM)
    except ProcessLookupError:
        print(f"sidecar pid {info.pid} exited already")
        return 0
    except PermissionError:
        print(
            f"mpac-bridge stop: not allowed to signal pid {info.pid} (another user's process?)",
            file=sys.stderr,
        )
        return 1
    if wait_exit(info.pid, args.timeout):
        print(f"stopped the sidecar for {repo.root} (pid {info.pid})")
        return 0
    if not args.force:
        print(
            f"the sidecar (pid {info.pid}) did not exit within {args.timeout:g} s; "
            "run `mpac-bridge stop --force` to kill it",
            file=sys.stderr,
        )
        return 1
    with contextlib.suppress(ProcessLookupError):
        os.kill(info.pid, signal.SIGKILL)
    wait_exit(info.pid, 5.0)
    remove_runtime_if_owned(path, info.pid)
    print(f"killed the sidecar for {repo.root} (pid {info.pid}) after it ignored SIGTERM")
    return 0

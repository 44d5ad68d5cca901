"""A stand-in sidecar for ensure_sidecar tests, honouring the same contract as the real one:
bind, write the runtime file atomically, remove it at clean exit (SIGTERM).

usage: fake_sidecar.py --workspace PATH [--mode ok|fail|hang|other-pid|stubborn]
(stubborn ignores SIGTERM)
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import time

from bridge.workspace import find_repo
from bridge.workspace.runtime import (
    RuntimeInfo,
    remove_runtime_if_owned,
    runtime_path,
    write_runtime,
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--mode", default="ok")
    args, _ = parser.parse_known_args()
    signal.alarm(300)  # never outlive a crashed test run by long
    repo = find_repo(args.workspace)
    if args.mode == "fail":
        print("fake sidecar: cannot open the journal (boom)", file=sys.stderr, flush=True)
        return 3
    if args.mode == "hang":
        print("fake sidecar: hanging before it listens", file=sys.stderr, flush=True)
        signal.pause()
        return 0
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    path = runtime_path(repo)

    def stop(_sig: int, _frame: object) -> None:
        remove_runtime_if_owned(path, os.getpid())
        sys.exit(0)

    signal.signal(signal.SIGTERM, signal.SIG_IGN if args.mode == "stubborn" else stop)
    pid = os.getpid() if args.mode != "other-pid" else 1
    info = RuntimeInfo(
        pid=pid,
        host="127.0.0.1",
        port=port,
        url=f"ws://127.0.0.1:{port}",
        session_id=repo.session_id,
        started_at=time.time(),
        version="fake",
        workspace=str(repo.root),
        data_dir=str(repo.data_dir),
    )
    write_runtime(path, info)
    print(f"fake sidecar listening on {port}", file=sys.stderr, flush=True)
    while True:
        conn, _ = sock.accept()
        conn.close()


if __name__ == "__main__":
    sys.exit(main())

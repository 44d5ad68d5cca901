"""`mpac-bridge sidecar`: run the coordinator as a WebSocket server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

HELP = "Run the MPAC coordinator (WebSocket server) for a repository or a team."


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Run the MPAC coordinator. Locally it serves one repository's session on 127.0.0.1 and keeps its "
        "state in <git common dir>/mpac/. Hosted, it serves many sessions at /session/<id> with tokens and TLS."
    )
    g = p.add_argument_group("where")
    g.add_argument("--workspace", type=Path, help="repository to coordinate (session id, data dir and runtime file come from it)")
    g.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    g.add_argument("--port", type=int, default=0, help="port; 0 picks a free one, printed and recorded (default 0)")
    g.add_argument("--session-id", help="session id in single-session mode (default: derived from --workspace, else 'default')")
    g.add_argument("--multi-session", action="store_true", help="serve any /session/<id> (hosted mode)")
    g.add_argument("--data-dir", type=Path, help="journal and snapshots (default <git common dir>/mpac, else ./mpac-data)")
    s = p.add_argument_group("security")
    s.add_argument("--security-profile", choices=["open", "authenticated"], help="open (loopback only) or authenticated (tokens); "
                   "default: authenticated when a token table is given, else open")
    s.add_argument("--token-table", help="JSON file {token: {allowed_sessions: [...], roles: [...]}}; MPAC_TOKEN_TABLE also works")
    s.add_argument("--tls", action="store_true", help="serve wss:// (needs --cert and --key)")
    s.add_argument("--cert", type=Path, help="TLS certificate chain (PEM)")
    s.add_argument("--key", type=Path, help="TLS private key (PEM)")
    s.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN", help="browser Origin to accept (repeatable); others are refused")
    s.add_argument("--allow-open-network", action="store_true", help="let the open profile bind a non-loopback address (no authentication!)")
    lim = p.add_argument_group("limits")
    lim.add_argument("--max-frame", type=int, default=4 * 1024 * 1024, help="largest accepted frame in bytes (default 4 MiB)")
    lim.add_argument("--rate", type=float, default=200.0, help="messages per second per connection (default 200, bursts of 2x)")
    lim.add_argument("--max-connections", type=int, default=256, help="connections per session (default 256)")
    lim.add_argument("--send-queue", type=int, default=1024, help="queued outbound messages before a slow client is cut off (default 1024)")
    lim.add_argument("--idle-timeout", type=float, default=0.0, help="exit after this many seconds with no participants (0 = never)")
    pol = p.add_argument_group("coordinator policy")
    pol.add_argument("--heartbeat-interval", type=float, default=30.0, help="seconds between COORDINATOR_STATUS heartbeats (default 30)")
    pol.add_argument("--unavailability-timeout", type=float, default=90.0, help="silence before a participant's intents are suspended (default 90)")
    pol.add_argument("--resolution-timeout", type=float, default=300.0, help="seconds before an unresolved conflict escalates (default 300)")
    pol.add_argument("--intent-ttl", type=float, default=300.0, help="TTL of intents that give none (default 300)")
    pol.add_argument("--execution-model", choices=["post_commit", "pre_commit"], default="post_commit", help="default post_commit")
    pol.add_argument("--compliance-profile", choices=["core", "governance"], default="governance", help="default governance")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default INFO")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 130
    except (ValueError, OSError) as exc:
        print(f"mpac-bridge sidecar: {exc}", file=sys.stderr)
        return 2


async def _main(args: argparse.Namespace) -> int:
    from bridge import __version__
    from bridge.core import CoordinatorConfig
    from bridge.server.app import Sidecar
    from bridge.server.config import SESSION_ID, ServerConfig
    from bridge.server.tokens import TokenTable, TokenTableError
    from bridge.store import SqliteStore

    repo = None
    lookup = None
    session_id = args.session_id
    data_dir = args.data_dir
    if args.workspace is not None:
        from bridge.workspace import NotARepository, find_repo, make_state_ref_lookup

        try:
            repo = find_repo(args.workspace)
        except NotARepository as exc:
            raise ValueError(f"{args.workspace} is not a git repository ({exc})") from None
        session_id = session_id or repo.session_id
        data_dir = data_dir or repo.data_dir
        lookup = make_state_ref_lookup(repo)

    session_id = session_id or "default"
    if not SESSION_ID.match(session_id):
        raise ValueError(f"invalid session id {session_id!r}")
    data_dir = Path(data_dir or "mpac-data")
    try:
        tokens = TokenTable.load(args.token_table)
    except TokenTableError as exc:
        raise ValueError(str(exc)) from None
    profile = args.security_profile or ("authenticated" if tokens else "open")
    if args.tls and (args.cert is None or args.key is None):
        raise ValueError("--tls needs --cert and --key")
    if (args.cert or args.key) and not args.tls:
        raise ValueError("--cert/--key are given without --tls")
    cfg = ServerConfig(
        host=args.host, port=args.port, session_id=session_id, multi_session=args.multi_session,
        security_profile=profile, data_dir=data_dir, workspace=repo.root if repo else None,
        tls_cert=args.cert if args.tls else None, tls_key=args.key if args.tls else None,
        allow_origins=args.allow_origin, allow_open_network=args.allow_open_network,
        idle_timeout=args.idle_timeout, max_frame=args.max_frame, rate_per_sec=args.rate,
        rate_burst=args.rate * 2, max_connections=args.max_connections, send_queue=args.send_queue,
    )
    coord_cfg = CoordinatorConfig(
        security_profile=profile, compliance_profile=args.compliance_profile, execution_model=args.execution_model,
        heartbeat_interval_sec=args.heartbeat_interval, unavailability_timeout_sec=args.unavailability_timeout,
        resolution_timeout_sec=args.resolution_timeout, default_intent_ttl_sec=args.intent_ttl,
    )
    store = SqliteStore(data_dir / "journal.sqlite3")
    sidecar = Sidecar(cfg, coord_cfg, store, tokens, lookup)
    port = await sidecar.start()
    scheme = "wss" if cfg.tls_cert else "ws"
    url = f"{scheme}://{'127.0.0.1' if cfg.host in ('0.0.0.0', '') else cfg.host}:{port}"
    if repo is not None:
        from bridge.workspace.runtime import RuntimeInfo, runtime_path, write_runtime

        write_runtime(
            runtime_path(repo),
            RuntimeInfo(pid=os.getpid(), port=port, url=url, session_id=session_id, started_at=time.time(), version=__version__,
                        workspace=str(repo.root), host=cfg.host, data_dir=str(data_dir)),
        )
    where = "/session/<id>" if cfg.multi_session else f"session {session_id}"
    print(f"mpac-bridge sidecar ready {url} ({where}, profile {profile}, data {data_dir})", flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, sidecar.stopping.set)
    idle = asyncio.create_task(sidecar.idle_watch())
    await sidecar.stopping.wait()
    idle.cancel()
    await sidecar.shutdown()
    if repo is not None:
        from bridge.workspace import remove_runtime_if_owned, runtime_path

        remove_runtime_if_owned(runtime_path(repo), os.getpid())
    print("mpac-bridge sidecar stopped", flush=True)
    return 0

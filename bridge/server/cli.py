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

from bridge.cliargs import add_log_level, add_workspace

HELP = "Run the MPAC coordinator (WebSocket server) for a repository or a team."


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Run the MPAC coordinator. Locally it serves one repository's session on 127.0.0.1 and keeps its "
        "state in <git common dir>/mpac/. Hosted, it serves many sessions at /session/<id> with tokens and TLS. "
        "It runs on uvloop when that is installed (pip install 'mpac-bridge[fast]'), else on asyncio's loop; "
        "MPAC_EVENT_LOOP=asyncio|uvloop chooses."
    )
    g = p.add_argument_group("where")
    add_workspace(
        g, "repository to coordinate (session id, data dir and runtime file come from it)"
    )
    g.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    g.add_argument(
        "--port",
        type=int,
        default=0,
        help="port; 0 picks a free one, printed and recorded (default 0)",
    )
    g.add_argument(
        "--session-id",
        help="session id in single-session mode (default: derived from --workspace, else 'default')",
    )
    g.add_argument(
        "--multi-session", action="store_true", help="serve any /session/<id> (hosted mode)"
    )
    g.add_argument(
        "--data-dir",
        type=Path,
        help="journal and snapshots (default <git common dir>/mpac, else ./mpac-data)",
    )
    s = p.add_argument_group("security")
    s.add_argument(
        "--security-profile",
        choices=["open", "authenticated"],
        help="open (loopback only) or authenticated (tokens); "
        "default: authenticated when a token table is given, else open",
    )
    s.add_argument(
        "--token-table",
        help="JSON file {token: {allowed_sessions: [...], roles: [...]}}; MPAC_TOKEN_TABLE also works",
    )
    s.add_argument("--tls", action="store_true", help="serve wss:// (needs --cert and --key)")
    s.add_argument("--cert", type=Path, help="TLS certificate chain (PEM)")
    s.add_argument("--key", type=Path, help="TLS private key (PEM)")
    s.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="browser Origin to accept (repeatable); others are refused",
    )
    s.add_argument(
        "--allow-open-network",
        action="store_true",
        help="let the open profile bind a non-loopback address (no authentication!)",
    )
    lim = p.add_argument_group("limits")
    lim.add_argument(
        "--max-frame-bytes",
        "--max-frame",
        dest="max_frame",
        type=int,
        default=None,
        metavar="N",
        help="largest accepted frame in bytes (default 1 MiB, announced to clients in SESSION_INFO): a bigger one is "
        "refused with a PROTOCOL_ERROR naming the message; one over 4 times N closes the connection (1009)",
    )
    lim.add_argument(
        "--max-msgs-per-sec",
        "--rate",
        dest="rate",
        type=float,
        default=200.0,
        metavar="N",
        help="messages per second per connection, bursts of twice that; excess gets a PROTOCOL_ERROR, "
        "and a client that keeps going is disconnected (default 200)",
    )
    lim.add_argument(
        "--max-connections-per-session",
        "--max-connections",
        dest="max_connections",
        type=int,
        default=256,
        metavar="N",
        help="connections per session; more are refused with HTTP 503 (default 256)",
    )
    lim.add_argument(
        "--send-queue-limit",
        "--send-queue",
        dest="send_queue",
        type=int,
        default=1024,
        metavar="N",
        help="messages waiting for a compressed connection's writer before that slow client is cut off "
        "(default 1024); every connection is also cut off once --max-backlog bytes it has not read are waiting",
    )
    lim.add_argument(
        "--max-backlog",
        dest="max_backlog",
        type=int,
        default=8 * 1024 * 1024,
        metavar="BYTES",
        help="unsent bytes a connection may have waiting before it is cut off as a slow consumer "
        "(default 8 MiB); a joining client's replay of the session state does not count",
    )
    lim.add_argument(
        "--compress",
        action="store_true",
        help="offer permessage-deflate to clients; off by default: frames are small and each broadcast would "
        "be compressed once per client, which costs more CPU than it saves except on slow links",
    )
    lim.add_argument(
        "--commit-in-loop",
        action="store_true",
        help="commit the SQLite journal in the event loop itself rather than in its own thread: "
        "about a fifth less CPU per message, but a commit that waits for the disk (20-60 ms now "
        "and then under steady load) then holds every client; off by default",
    )
    lim.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="SEC",
        help="exit after this many seconds with no connected participant; 0 = never "
        "(default 1800 with --workspace, else 0)",
    )
    f = p.add_argument_group("fleet (several nodes sharing one PostgreSQL; see docs/hosted.md)")
    f.add_argument(
        "--store",
        metavar="URL",
        default=None,
        help="postgresql://user@host/db: keep sessions in PostgreSQL and run as one node of a fleet "
        "(needs --multi-session); MPAC_STORE_URL also works, and keeps a password out of the process list. "
        "Default: the SQLite journal in --data-dir",
    )
    f.add_argument(
        "--node-name",
        metavar="NAME",
        help="this node's name, unique in the fleet and stable across restarts "
        "(default <hostname>-<port>)",
    )
    f.add_argument(
        "--node-url",
        metavar="URL",
        help="where clients are redirected to reach this node: ws(s)://host:port, or a path "
        "on the reverse proxy such as /node/NAME (default: the address it listens on)",
    )
    f.add_argument(
        "--lease-ttl",
        type=float,
        default=5.0,
        metavar="SEC",
        help="a session's lease lasts this long without renewal: the longest a hung node keeps its sessions "
        "(a killed node's are taken at once) (default 5)",
    )
    f.add_argument(
        "--lease-renew",
        type=float,
        default=None,
        metavar="SEC",
        help="seconds between lease renewals (default a third of --lease-ttl)",
    )
    f.add_argument(
        "--release-idle",
        type=float,
        default=600.0,
        metavar="SEC",
        help="release a session nobody is connected to after this long, so any node may take it next; 0 = never (default 600)",
    )
    pol = p.add_argument_group("coordinator policy")
    pol.add_argument(
        "--heartbeat-interval",
        type=float,
        default=30.0,
        help="seconds between COORDINATOR_STATUS heartbeats (default 30)",
    )
    pol.add_argument(
        "--unavailability-timeout",
        type=float,
        default=90.0,
        help="silence before a participant's intents are suspended (default 90)",
    )
    pol.add_argument(
        "--resolution-timeout",
        type=float,
        default=300.0,
        help="seconds before an unresolved conflict escalates (default 300)",
    )
    pol.add_argument(
        "--intent-ttl",
        type=float,
        default=300.0,
        help="TTL of intents that give none (default 300)",
    )
    pol.add_argument(
        "--history-limit",
        type=int,
        default=10_000,
        metavar="N",
        help="ended intents, committed operations and closed conflicts remembered per session (for late "
        "joiners, references and id reuse checks); memory grows with history up to this cap (default 10000)",
    )
    pol.add_argument(
        "--file-limit",
        type=int,
        default=50_000,
        metavar="N",
        help="files whose last commit is remembered per session (stale-write checks, late joiners); past it the "
        "least recently committed file is forgotten and its next commit is checked against the disk only "
        "(default 50000)",
    )
    pol.add_argument(
        "--commit-landing-grace",
        type=float,
        default=30.0,
        metavar="SEC",
        help="how long an accepted commit whose write is not yet on disk keeps its base stale, so a second "
        "commit from the same base is refused (less if its author leaves or its task ends; default 30)",
    )
    pol.add_argument(
        "--execution-model",
        choices=["post_commit", "pre_commit"],
        default="post_commit",
        help="default post_commit",
    )
    pol.add_argument(
        "--compliance-profile",
        choices=["core", "governance"],
        default=None,
        help="default governance, with claims approved by the core rules while no owner or arbiter is "
        "connected; naming governance here makes an owner or arbiter decide every claim",
    )
    pol.add_argument(
        "--claim-approval",
        choices=["auto", "governance", "arbiter_or_auto"],
        default=None,
        help="who approves a takeover (INTENT_CLAIM): auto = nobody objects (a handed-over task at once, a "
        "crashed agent's after --claim-grace unless it returns); governance = an owner or arbiter; "
        "arbiter_or_auto = an owner or arbiter when one is connected, else auto (default: auto with "
        "--compliance-profile core, governance with --compliance-profile governance, else arbiter_or_auto)",
    )
    pol.add_argument(
        "--claim-grace",
        type=float,
        default=30.0,
        metavar="SEC",
        help="seconds a claim on a crashed agent's task waits for its owner to return before automatic approval (default 30)",
    )
    pol.add_argument(
        "--symbol-granularity",
        choices=["symbol", "file"],
        default=None,
        help="the unit agents claim: symbol = functions and classes (path::name), two claims on different "
        "symbols of one file both proceed and stale writes are merged; file = whole files, as before "
        "(default symbol, or MPAC_SYMBOL_GRANULARITY)",
    )
    add_log_level(
        p,
        "INFO",
        "log verbosity (default INFO); with --workspace the log is <git common dir>/mpac/sidecar.log",
    )


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _setup_logging(level: str, log_file: Path | None) -> None:
    """stderr always; with a workspace also a rotating `sidecar.log` (unless stderr already is that file,
    which is how `ensure_sidecar` starts us: then the rotating handler alone writes it)."""
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter(FORMAT)
    stderr_is_log = False
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            st, lf = os.fstat(2), os.stat(log_file)
            stderr_is_log = (st.st_dev, st.st_ino) == (lf.st_dev, lf.st_ino)
        except OSError:
            pass
        from logging.handlers import RotatingFileHandler  # only in workspace mode (start-up time)

        fh = RotatingFileHandler(log_file, maxBytes=1 << 20, backupCount=3, encoding="utf-8")
        fh.setFormatter(fmt)
        root.addHandler(fh)
    if not stderr_is_log:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(fmt)
        root.addHandler(sh)


def _settle_heap() -> None:
    """Once, before the sidecar announces itself: move every object alive now (the imported
    modules, the restored sessions) out of the garbage collector's generations. A full collection
    visits every tracked object, and these would be most of them for the life of the process
    (issue 17: loop stalls); they are still freed by reference counting when released, and a
    forked snapshot writer no longer dirties their pages. Only a reference cycle that is alive
    now and dies later is never collected: a bounded, one-time cost, unlike freezing again and
    again (docs/performance.md). No collection first: at this point it finds nothing and costs
    about 12 ms of start-up."""
    import gc

    gc.freeze()
    logging.getLogger("mpac.sidecar").info("heap settled: %d objects frozen", gc.get_freeze_count())


def run(args: argparse.Namespace) -> int:
    from bridge.server.eventloop import choose

    try:
        loop_name, loop_factory = choose()
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(_main(args, loop_name))
    except KeyboardInterrupt:
        return 130
    except (ValueError, OSError) as exc:
        print(f"mpac-bridge sidecar: {exc}", file=sys.stderr)
        return 2


async def _main(args: argparse.Namespace, loop_name: str = "asyncio") -> int:
    from bridge import __version__
    from bridge.core import CoordinatorConfig
    from bridge.protocol.frames import MAX_FRAME_BYTES
    from bridge.server.config import SESSION_ID, ServerConfig
    from bridge.server.embed import serve_sidecar
    from bridge.server.tokens import TokenTable, TokenTableError

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
    _setup_logging(args.log_level, repo.data_dir / "sidecar.log" if repo is not None else None)
    idle_timeout = (
        args.idle_timeout
        if args.idle_timeout is not None
        else (1800.0 if repo is not None else 0.0)
    )

    if args.history_limit < 100:
        raise ValueError(
            f"--history-limit {args.history_limit} is too small: at least 100 ended objects must be remembered"
        )
    max_frame = args.max_frame or MAX_FRAME_BYTES
    if max_frame < 16384:
        raise ValueError(
            f"--max-frame-bytes {max_frame} is too small: a HELLO or SESSION_INFO needs at least 16384"
        )
    if args.file_limit < 100:
        raise ValueError(
            f"--file-limit {args.file_limit} is too small: at least 100 files must be remembered"
        )
    if args.commit_landing_grace < 0:
        raise ValueError(
            f"--commit-landing-grace {args.commit_landing_grace:g} must be 0 or more seconds"
        )
    if args.claim_grace < 0:
        raise ValueError(f"--claim-grace {args.claim_grace:g} must be 0 or more seconds")
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
        raise ValueError(
            "--tls needs --cert FILE (certificate chain, PEM) and --key FILE (private key, PEM)"
        )
    if (args.cert or args.key) and not args.tls:
        raise ValueError("--cert/--key are given without --tls")
    cfg = ServerConfig(
        host=args.host,
        port=args.port,
        session_id=session_id,
        multi_session=args.multi_session,
        security_profile=profile,
        data_dir=data_dir,
        workspace=repo.root if repo else None,
        tls_cert=args.cert if args.tls else None,
        tls_key=args.key if args.tls else None,
        allow_origins=args.allow_origin,
        allow_open_network=args.allow_open_network,
        idle_timeout=idle_timeout,
        max_frame=max_frame,
        rate_per_sec=args.rate,
        rate_burst=args.rate * 2,
        max_connections=args.max_connections,
        send_queue=args.send_queue,
        max_backlog=args.max_backlog,
        compress=args.compress,
        commit_in_loop=args.commit_in_loop,
        store_url=args.store or os.environ.get("MPAC_STORE_URL") or None,
        node_name=args.node_name,
        node_url=args.node_url,
        lease_ttl=args.lease_ttl,
        lease_renew=args.lease_renew,
        release_idle=args.release_idle,
    )
    claim_approval = args.claim_approval or (
        "governance" if args.compliance_profile == "governance" else ""
    )
    granularity = args.symbol_granularity or os.environ.get("MPAC_SYMBOL_GRANULARITY") or "symbol"
    if granularity not in ("symbol", "file"):
        raise ValueError(f"MPAC_SYMBOL_GRANULARITY must be symbol or file, not {granularity!r}")
    coord_cfg = CoordinatorConfig(
        security_profile=profile,
        compliance_profile=args.compliance_profile or "governance",
        execution_model=args.execution_model,
        claim_approval=claim_approval,
        claim_grace_sec=args.claim_grace,
        heartbeat_interval_sec=args.heartbeat_interval,
        unavailability_timeout_sec=args.unavailability_timeout,
        resolution_timeout_sec=args.resolution_timeout,
        default_intent_ttl_sec=args.intent_ttl,
        history_limit=args.history_limit,
        file_limit=args.file_limit,
        commit_landing_grace_sec=args.commit_landing_grace,
        symbol_granularity=granularity,
    )
    running = await serve_sidecar(cfg, coord_cfg, tokens=tokens, lookup=lookup)
    logging.getLogger("mpac.sidecar").info("event loop: %s", loop_name)
    _settle_heap()
    watch = None
    if os.environ.get("MPAC_LOOP_WATCH"):  # measurements only (bridge/server/loopwatch.py)
        from bridge.server.loopwatch import start_from_env

        watch = start_from_env()
    port, url = running.port, running.url
    if repo is not None:
        from bridge.workspace.runtime import RuntimeInfo, runtime_path, write_runtime

        write_runtime(
            runtime_path(repo),
            RuntimeInfo(
                pid=os.getpid(),
                port=port,
                url=url,
                session_id=session_id,
                started_at=time.time(),
                version=__version__,
                workspace=str(repo.root),
                host=cfg.host,
                data_dir=str(data_dir),
            ),
        )
    where = "*" if cfg.multi_session else session_id
    store = running.sidecar.store.describe() if cfg.store_url else data_dir
    node = f" node={running.sidecar.fleet.store.me}" if running.sidecar.fleet is not None else ""
    print(
        f"mpac-bridge sidecar ready {url} session={where} pid={os.getpid()} profile={profile} data={store}{node}",
        flush=True,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, running.sidecar.stopping.set)
    await running.wait_stopping()
    logging.getLogger("mpac.sidecar").info("stopping: final snapshot, closing connections")
    await running.stop()
    if watch is not None:
        watch.stop()
    if repo is not None:
        from bridge.workspace import remove_runtime_if_owned, runtime_path

        remove_runtime_if_owned(runtime_path(repo), os.getpid())
    print("mpac-bridge sidecar stopped", flush=True)
    return 0

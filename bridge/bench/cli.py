"""`mpac-bridge bench`: measure the coordinator, the wire, the MCP server and start-up times."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import Any

HELP = "Measure the coordinator, the wire, the MCP server, start-up times and symbol extraction."

MODES = (
    "core",
    "wire",
    "cpu",
    "rate",
    "memory",
    "relay",
    "stall",
    "startup",
    "profile",
    "mcp",
    "symbols",
    "fleet",
)
EPILOG = """modes:
  core      in-process coordinator, µs per message kind at N active intents (--sizes)
  wire      a real sidecar: overlapping announce latency with K clients (--clients), closed-loop
            throughput (--duration, default 30 s), RSS over --rss-msgs messages, longest loop stall
  cpu       sidecar CPU µs per message in the closed loop at fan-out 2, 10, 50 (--clients),
            --duration s per run (default 10), --repeat runs each (default 3)
  rate      messages/s over one --duration s run (default 60): first and last 5 s, RSS per message
            after --warmup s (default 20), the sidecar with --history-limit 1000 so its caps are full by then
  memory    RSS per active intent: one client announces N disjoint intents (--sizes, default
            1000,10000); also the peak (VmHWM) above the final RSS
  relay     announce -> relay p50/p99 at N active intents (--sizes, default 10,1000,10000) with
            --idle idle clients (default 20), and the reference mpac 0.2.13 at --ref-sizes
            (default 10,1000) in the same run
  stall     longest event-loop stall: --active intents (10000) with --objective-bytes (8192)
            objectives, then a --duration s closed loop (default 60)
  startup   sidecar start to ready and to SESSION_INFO, a Claude Code hook (deny, allow) and MCP
            initialize, median of --repeat rounds (default 10), plus -X importtime top imports
  profile   cProfile (or --profiler py-spy) of the sidecar in the closed loop at 10 clients
  mcp       tool latencies through a real stdio MCP session
  symbols   symbol extraction per 1,000 lines, cold and cached; one merge decision
  fleet     coordinator nodes on PostgreSQL: append cost, throughput on 1 vs 3 nodes, failover
            (needs PostgreSQL server binaries and nginx)

before/after: --ab DIR runs another checkout's code (DIR/.venv/bin/python when it exists, its
bridge package either way) alternately with this one, in cpu, rate, memory, relay, stall and
startup, and reports both with their ratio. --floor adds the floor server (the transport alone:
websockets reads each frame, it is relayed framed once per turn) to cpu and relay, and to stall
a bare busy loop run alone (the pauses the machine itself causes: the floor under any loop)."""


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Reproducible measurements on this machine. Each figure is the median of --repeat runs and the "
        "report names the machine and the load average of each run. Progress goes to stderr; the table "
        "(or --json) to stdout."
    )
    p.epilog = EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument(
        "what",
        nargs="?",
        default="all",
        choices=[*MODES, "all"],
        help="which benchmark (default all; fleet needs PostgreSQL server binaries and nginx, and is skipped by all without them)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--quick", action="store_true", help="small settings (seconds, for CI)")
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per figure; the median is reported (default 3; startup 10; rate, memory, relay, stall 1)",
    )
    p.add_argument(
        "--sizes",
        default=None,
        help="active-intent counts: core 10,1000,10000; memory 1000,10000; relay 10,1000,10000",
    )
    p.add_argument(
        "--ref-sizes",
        default=None,
        help="relay: active-intent counts for the reference (default 10,1000; 'none' to skip)",
    )
    p.add_argument(
        "--clients",
        default=None,
        help="wire: client counts (2,10,50); cpu: fan-outs (2,10,50); rate, stall, profile: clients (10)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds of each closed-loop run (wire 30, cpu 10, rate 60, stall 60, profile 20; fleet: per run, 15)",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds left out of the CPU and RSS figures (cpu 2, rate 20)",
    )
    p.add_argument("--samples", type=int, default=None, help="latency samples (wire, relay: 300)")
    p.add_argument(
        "--rss-msgs", type=int, default=None, help="wire: messages of the RSS run (100000)"
    )
    p.add_argument(
        "--history-limit",
        type=int,
        default=1000,
        help="rate: the sidecar's --history-limit, small so the caps fill "
        "during the warm-up (default 1000; 0 for the sidecar's own default)",
    )
    p.add_argument(
        "--idle", type=int, default=20, help="relay: idle clients connected (default 20)"
    )
    p.add_argument(
        "--active", type=int, default=None, help="stall: active intents before the loop (10000)"
    )
    p.add_argument(
        "--objective-bytes",
        type=int,
        default=8192,
        help="stall: size of each objective (default 8192)",
    )
    p.add_argument(
        "--profiler",
        choices=["cprofile", "py-spy"],
        default="cprofile",
        help="profile: which profiler (default cprofile)",
    )
    p.add_argument("--top", type=int, default=25, help="profile: functions listed (default 25)")
    p.add_argument(
        "--lines",
        type=int,
        default=None,
        help="symbols: lines of each generated source (default 5000)",
    )
    ab = p.add_argument_group("before/after")
    ab.add_argument(
        "--ab",
        metavar="DIR",
        help="another checkout (e.g. a git worktree of the old code) to run alternately with this one",
    )
    ab.add_argument(
        "--ab-python",
        metavar="PATH",
        help="the interpreter for --ab's checkout (default its .venv/bin/python, else ours)",
    )
    ab.add_argument(
        "--floor",
        action="store_true",
        help="cpu, relay: also run the floor server (bridge/bench/floorserver.py), which only lets "
        "websockets read each frame and relays it: what the transport alone costs; stall: also "
        "run a bare busy loop alone for --duration s (bridge/bench/hiccup.py): the pauses this "
        "machine itself causes",
    )
    ab.add_argument(
        "--sidecar-arg",
        action="append",
        default=[],
        metavar="OPTION",
        help="one more option for this checkout's sidecar (repeat it for several), e.g. "
        "--sidecar-arg=--commit-in-loop; with it --ab may name this checkout, to compare the "
        "option against the defaults",
    )
    ab.add_argument(
        "--sidecar-python",
        metavar="PATH",
        help="the interpreter for this checkout's processes (default this one)",
    )


def _ints(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    if text is not None and text.strip().lower() == "none":
        return ()
    return tuple(int(x) for x in text.split(",")) if text else default


def run(args: argparse.Namespace) -> int:
    from bridge.bench.launch import FLOOR, targets_of
    from bridge.bench.loop import load
    from bridge.bench.machine import machine

    quick = args.quick

    def progress(text: str) -> None:
        print(f"… {text}", file=sys.stderr, flush=True)

    try:
        targets = targets_of(args.ab, args.sidecar_python, args.ab_python, tuple(args.sidecar_arg))
    except ValueError as exc:
        print(f"mpac-bridge bench: {exc}", file=sys.stderr)
        return 2
    report: dict[str, Any] = {
        "machine": machine(),
        "quick": quick,
        "load_at_start": load(),
        "targets": [t.label for t in targets],
    }
    what = args.what

    def rep(default: int, quick_default: int = 1) -> int:
        return args.repeat or (quick_default if quick else default)

    def wants(mode: str) -> bool:
        return what in (mode, "all")

    if wants("core"):
        from bridge.bench import core

        sizes = _ints(args.sizes, (10, 1000) if quick else (10, 1000, 10000))
        report["core"] = core.run(
            sizes, repeat=rep(3), count=300 if quick else 2000, progress=progress
        )
    if wants("wire"):
        from bridge.bench import wire

        clients = _ints(args.clients, (2, 10) if quick else (2, 10, 50))
        duration = args.duration or (3.0 if quick else 30.0)
        report["wire"] = wire.run(
            clients,
            samples=args.samples or (50 if quick else 300),
            duration=duration,
            rss_msgs=args.rss_msgs or (5_000 if quick else 100_000),
            progress=progress,
        )
    if wants("cpu"):
        from bridge.bench import cpu

        report["cpu"] = cpu.cpu(
            _ints(args.clients, (2, 10) if quick else (2, 10, 50)),
            duration=args.duration or (2.0 if quick else 10.0),
            warmup=args.warmup if args.warmup is not None else (0.5 if quick else 2.0),
            repeat=rep(3),
            targets=[FLOOR, *targets] if args.floor else targets,
            progress=progress,
        )
    if wants("rate"):
        from bridge.bench import cpu

        report["rate"] = cpu.rate(
            _ints(args.clients, (10,))[0],
            duration=args.duration or (4.0 if quick else 60.0),
            warmup=args.warmup if args.warmup is not None else (1.0 if quick else 20.0),
            repeat=rep(1),
            targets=targets,
            progress=progress,
            history_limit=args.history_limit or None,
        )
    if wants("memory"):
        from bridge.bench import memory

        report["memory"] = memory.run(
            _ints(
                args.sizes if what == "memory" else None, (200, 1000) if quick else (1000, 10000)
            ),
            repeat=rep(1),
            targets=targets,
            progress=progress,
        )
    if wants("relay"):
        from bridge.bench import relay

        report["relay"] = relay.run(
            _ints(
                args.sizes if what == "relay" else None, (10, 200) if quick else (10, 1000, 10000)
            ),
            _ints(args.ref_sizes, (10,) if quick else (10, 1000)),
            samples=args.samples or (20 if quick else 300),
            idle=5 if quick and args.idle == 20 else args.idle,
            targets=[*targets, FLOOR] if args.floor else targets,
            progress=progress,
            repeat=rep(1),
        )
    if wants("stall"):
        from bridge.bench import stall

        report["stall"] = stall.run(
            args.active or (300 if quick else 10_000),
            args.objective_bytes,
            duration=args.duration or (3.0 if quick else 60.0),
            clients=_ints(args.clients if what == "stall" else None, (10,))[0],
            repeat=rep(1),
            targets=targets,
            progress=progress,
            floor=args.floor,
        )
    if wants("startup"):
        from bridge.bench import startup

        report["startup"] = startup.run(
            repeat=rep(10, 2), targets=targets, progress=progress, warm_up=not quick
        )
    if wants("profile"):
        from bridge.bench import profiling

        report["profile"] = profiling.run(
            _ints(args.clients if what == "profile" else None, (10,))[0],
            duration=args.duration or (3.0 if quick else 20.0),
            warmup=args.warmup if args.warmup is not None else (0.5 if quick else 2.0),
            profiler=args.profiler,
            top=args.top,
            target=targets[-1],
            progress=progress,
        )
    if wants("symbols"):
        from bridge.bench import symbols, symbols_sessions

        report["symbols"] = symbols.run(
            lines=args.lines or (1000 if quick else 5000),
            repeat=3 if quick else rep(3) * 2 + 1,
            progress=progress,
        )
        report["symbols"].update(
            symbols_sessions.run(
                active=100 if quick else 1000, repeat=1 if quick else rep(3), progress=progress
            )
        )
    if wants("fleet"):
        report["fleet"] = _fleet(args, quick, progress, required=what == "fleet")
    if wants("mcp"):
        if importlib.util.find_spec("bridge.mcp.bench") is None:
            report["mcp"] = {"skipped": "bridge.mcp.bench is not available in this build"}
        else:
            progress("mcp: tool latencies through a real stdio session")
            from bridge.mcp import bench as mcp_bench

            report["mcp"] = mcp_bench.run(
                10 if quick else 30, files=1000 if quick else 10_000, big_mib=32 if quick else 300
            )
    report["load_at_end"] = load()
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        print_tables(report)
    return 0


def _fleet(args: argparse.Namespace, quick: bool, progress: Any, required: bool) -> dict[str, Any]:
    from bridge.bench.nginxproc import INSTALL_HINT as NGINX_HINT
    from bridge.bench.nginxproc import find_nginx
    from bridge.bench.pgcluster import INSTALL_HINT as PG_HINT
    from bridge.bench.pgcluster import find_bindir

    missing = [
        hint for ok, hint in ((find_bindir(), PG_HINT), (find_nginx(), NGINX_HINT)) if not ok
    ]
    if importlib.util.find_spec("psycopg") is None:
        missing.append("pip install 'mpac-bridge[postgres]'")
    if missing:
        if required:
            raise SystemExit("mpac-bridge bench fleet: " + "; ".join(missing))
        return {"skipped": "; ".join(missing)}
    from bridge.bench import fleet

    return fleet.run(quick, args.duration, progress)


def print_fleet(con: Any, f: dict[str, Any]) -> None:
    from rich.table import Table

    if "skipped" in f:
        con.print(f"fleet: skipped ({f['skipped']})")
        return
    a = f["append"]
    con.print(
        f"fleet: journal append per message (PostgreSQL {f['postgresql']}, {a['appends']} appends, median): "
        f"SQLite {a['sqlite']['us_per_append']:.0f} µs, PostgreSQL {a['postgresql']['us_per_append']:.0f} µs "
        f"(synchronous_commit off: {a['postgresql_async_commit']['us_per_append']:.0f} µs)"
    )
    one = f["one_session"]
    con.print(
        f"fleet: one session, {one['clients']} clients, closed loop: PostgreSQL node {one['postgresql']['msgs_per_sec']:,.0f} msg/s "
        f"({one['postgresql']['sidecar_cpu_us_per_msg']:.0f} µs node CPU/msg), SQLite sidecar {one['sqlite']['msgs_per_sec']:,.0f} msg/s "
        f"({one['sqlite']['sidecar_cpu_us_per_msg']:.0f} µs/msg)"
    )
    t = Table(title="fleet: aggregate closed-loop throughput")
    for col in (
        "synchronous_commit",
        "nodes",
        "sessions",
        "msg/s",
        "node CPU µs/msg",
        "sessions per node",
    ):
        t.add_column(col, justify="right")
    for r in f["aggregate"]:
        t.add_row(
            r.get("synchronous_commit", "on"),
            str(r["nodes"]),
            f"{r['sessions']} x {r['clients_per_session']}",
            f"{r['msgs_per_sec']:,.0f}",
            f"{r['node_cpu_us_per_msg']:.0f}",
            " ".join(f"{k}:{v}" for k, v in r["sessions_per_node"].items()),
        )
    con.print(t)
    fo = f["failover"]
    con.print(
        f"fleet: failover kill -9 -> first client served again, {fo['takeovers']} session takeovers over {len(fo['kills'])} kills: "
        f"p50 {fo['p50_ms']:.0f} ms, max {fo['max_ms']:.0f} ms; nothing acknowledged lost: {fo['ok']}"
    )


def print_tables(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(
        width=None if sys.stdout.isatty() else 150
    )  # a file or pipe gets whole rows, not 80 columns
    m = report["machine"]
    con.print(
        f"[bold]mpac-bridge bench[/]  {m['cores']} cores, Python {m['python']}, {m['platform']}"
        + (
            f"; load average {report['load_at_start']:.2f} at start"
            if "load_at_start" in report
            else ""
        )
    )
    if "core" in report:
        t = Table(title="core: in-process coordinator (median)")
        for col in ("message", "active", "withdrawn", "µs/msg", "msgs/s"):
            t.add_column(col, justify="right" if col != "message" else "left")
        for r in report["core"]:
            t.add_row(
                r["kind"],
                str(r["active"]),
                str(r["withdrawn"]),
                f"{r['us_per_msg']:.1f}",
                f"{r['msgs_per_sec']:,.0f}",
            )
        con.print(t)
    if "wire" in report:
        w = report["wire"]
        t = Table(title="wire: overlapping announce → other party's notification")
        for col in ("clients", "p50 ms", "p99 ms", "max ms"):
            t.add_column(col, justify="right")
        for r in w["latency"]:
            t.add_row(
                str(r["clients"]), f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.2f}"
            )
        con.print(t)
        tp = w["throughput"]
        con.print(
            f"throughput (10 clients, closed loop): {tp['msgs_per_sec']:,.0f} msg/s; first 5 s {tp['first_5s_per_sec']:,.0f}/s, "
            f"last 5 s {tp['last_5s_per_sec']:,.0f}/s; sidecar CPU {tp['sidecar_cpu_us_per_msg']:.0f} µs/msg"
        )
        mem = w["memory"]
        con.print(
            f"memory: RSS {mem['rss_before_kb']} KiB → {mem['rss_after_kb']} KiB over {mem['messages']:,} messages "
            f"({mem['rss_bytes_per_msg']:.1f} B/msg)"
        )
        stall = tp.get("loop_stall")
        if stall:
            con.print(
                f"longest event-loop stall in the closed loop: {stall['max_ms']:.1f} ms ({stall['over_20ms']} ticks over 20 ms)"
            )
        whole = w.get("loop_stall")
        if whole:
            con.print(
                f"longest event-loop stall over the whole run: {whole['max_ms']:.1f} ms "
                f"(CPU {whole['max_cpu_ms']:.1f} ms; {whole['over_20ms']} over 20 ms, {whole['over_100ms']} over 100 ms)"
            )
    from bridge.bench.report import print_sections

    print_sections(con, report)
    if "symbols" in report:
        print_symbols(con, report["symbols"])
    if "fleet" in report:
        print_fleet(con, report["fleet"])
    if "mcp" in report:
        mc = report["mcp"]
        if "skipped" in mc:
            con.print(f"mcp: skipped ({mc['skipped']})")
            return
        t = Table(
            title=f"mcp: warm tool calls through a real stdio session (initialize {mc['initialize_ms']:.0f} ms)"
        )
        for col in ("tool", "p50 ms", "p99 ms", "calls"):
            t.add_column(col, justify="left" if col == "tool" else "right")
        for name, r in mc["tools"].items():
            t.add_row(name, f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", str(r["calls"]))
        con.print(t)
        e = mc.get("edges")
        if e:
            con.print(
                f"mcp: begin_task with {e['begin_task_files']:,} files {e['begin_task_ms']:.0f} ms; get_file_state on a "
                f"{e['big_file_mib']} MiB file {e['get_file_state_big_ms']:.0f} ms, server peak RSS "
                f"{e['rss_peak_before_mib'] or 0:.0f} → {e['rss_peak_after_mib'] or 0:.0f} MiB"
            )


def print_symbols(con: Any, sym: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(title="symbols: extraction, cold per 1,000 lines and cached per call (median)")
    for col in (
        "language",
        "lines",
        "symbols",
        "cold ms/1k",
        "cached µs",
        "ref given µs",
        "first ms",
    ):
        t.add_column(col, justify="left" if col == "language" else "right")
    for r in sym["extraction"]:
        t.add_row(
            r["language"],
            f"{r['lines']:,}",
            str(r["symbols"]),
            f"{r['cold_ms_per_1k_lines']:.2f}",
            f"{r['cached_us']:.1f}",
            f"{r['cached_ref_given_us']:.2f}",
            f"{r['first_call_ms']:.1f}",
        )
    con.print(t)
    m = sym["merge"]
    con.print(
        f"merge decision ({m['lines']:,}-line Python file, git diff + checks, no cache): {m['decide_ms']:.1f} ms"
    )
    a = sym.get("announce")
    if a:
        con.print(
            f"announce at {a['active']:,} active intents (coordinator, median µs): file-level {a['file_level_us']:.1f}; "
            f"{a['symbols']} symbols of one file {a['symbols_20_us']:.1f} (+{a['added_us']:.1f}); the same in a file where "
            f"others hold other symbols {a['symbols_20_shared_file_us']:.1f}; building the scope in the client {a['client_scope_us']:.1f}"
        )
    rows = sym.get("parallelism")
    if rows:
        t = Table(
            title="symbols: four agents change four functions of one file at once (real sidecar, MCP tools)"
        )
        for col in (
            "granularity",
            "agents",
            "began at once",
            "blocked",
            "changes landed",
            "of which merged",
            "round ms",
        ):
            t.add_column(col, justify="left" if col == "granularity" else "right")
        for r in rows:
            t.add_row(
                r["granularity"],
                str(r["agents"]),
                str(r["proceeded"]),
                str(r["blocked"]),
                str(r["landed"]),
                str(r["merged"]),
                f"{r['wall_ms']:.0f}",
            )
        con.print(t)

"""`mpac-bridge bench`: measure the coordinator, the wire, the MCP server and start-up times."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import Any

HELP = "Measure the coordinator, the wire, the MCP server, start-up times and symbol extraction."


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Reproducible measurements on this machine. Each figure is the median of --repeat runs and the "
        "report names the machine. Progress goes to stderr; the table (or --json) to stdout."
    )
    p.add_argument("what", nargs="?", default="all", choices=["core", "wire", "mcp", "startup", "symbols", "fleet", "all"],
                   help="which benchmark (default all; fleet needs PostgreSQL server binaries and nginx, and is skipped by all without them)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--quick", action="store_true", help="small settings (seconds, for CI)")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    p.add_argument("--sizes", default=None, help="core: active-intent counts, e.g. 10,1000,10000")
    p.add_argument("--clients", default=None, help="wire: client counts, e.g. 2,10,50")
    p.add_argument("--duration", type=float, default=None, help="wire: seconds of closed-loop throughput (default 30); fleet: per run (default 15)")
    p.add_argument("--lines", type=int, default=None, help="symbols: lines of each generated source (default 5000)")


def _ints(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",")) if text else default


def run(args: argparse.Namespace) -> int:
    from bridge.bench import core, startup, wire
    from bridge.bench.machine import machine

    quick = args.quick

    def progress(text: str) -> None:
        print(f"… {text}", file=sys.stderr, flush=True)

    report: dict[str, Any] = {"machine": machine(), "quick": quick}
    what = args.what
    if what in ("core", "all"):
        sizes = _ints(args.sizes, (10, 1000) if quick else (10, 1000, 10000))
        report["core"] = core.run(sizes, repeat=1 if quick else args.repeat, count=300 if quick else 2000, progress=progress)
    if what in ("wire", "all"):
        clients = _ints(args.clients, (2, 10) if quick else (2, 10, 50))
        duration = args.duration or (3.0 if quick else 30.0)
        report["wire"] = wire.run(clients, samples=50 if quick else 300, duration=duration, rss_msgs=5_000 if quick else 100_000, progress=progress)
    if what in ("startup", "all"):
        progress("startup: sidecar process to SESSION_INFO")
        report["startup"] = startup.run(repeat=2 if quick else 5)
    if what in ("symbols", "all"):
        from bridge.bench import symbols, symbols_sessions

        report["symbols"] = symbols.run(lines=args.lines or (1000 if quick else 5000), repeat=3 if quick else args.repeat * 2 + 1,
                                        progress=progress)
        report["symbols"].update(symbols_sessions.run(active=100 if quick else 1000, repeat=1 if quick else args.repeat,
                                                      progress=progress))
    if what in ("fleet", "all"):
        report["fleet"] = _fleet(args, quick, progress, required=what == "fleet")
    if what in ("mcp", "all"):
        if importlib.util.find_spec("bridge.mcp.bench") is None:
            report["mcp"] = {"skipped": "bridge.mcp.bench is not available in this build"}
        else:
            progress("mcp: tool latencies through a real stdio session")
            from bridge.mcp import bench as mcp_bench  # type: ignore[attr-defined]

            report["mcp"] = mcp_bench.run(10 if quick else 30, files=1000 if quick else 10_000, big_mib=32 if quick else 300)
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

    missing = [hint for ok, hint in ((find_bindir(), PG_HINT), (find_nginx(), NGINX_HINT)) if not ok]
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
    con.print(f"fleet: journal append per message (PostgreSQL {f['postgresql']}, {a['appends']} appends, median): "
              f"SQLite {a['sqlite']['us_per_append']:.0f} µs, PostgreSQL {a['postgresql']['us_per_append']:.0f} µs "
              f"(synchronous_commit off: {a['postgresql_async_commit']['us_per_append']:.0f} µs)")
    one = f["one_session"]
    con.print(f"fleet: one session, {one['clients']} clients, closed loop: PostgreSQL node {one['postgresql']['msgs_per_sec']:,.0f} msg/s "
              f"({one['postgresql']['sidecar_cpu_us_per_msg']:.0f} µs node CPU/msg), SQLite sidecar {one['sqlite']['msgs_per_sec']:,.0f} msg/s "
              f"({one['sqlite']['sidecar_cpu_us_per_msg']:.0f} µs/msg)")
    t = Table(title="fleet: aggregate closed-loop throughput")
    for col in ("synchronous_commit", "nodes", "sessions", "msg/s", "node CPU µs/msg", "sessions per node"):
        t.add_column(col, justify="right")
    for r in f["aggregate"]:
        t.add_row(r.get("synchronous_commit", "on"), str(r["nodes"]), f"{r['sessions']} x {r['clients_per_session']}", f"{r['msgs_per_sec']:,.0f}",
                  f"{r['node_cpu_us_per_msg']:.0f}", " ".join(f"{k}:{v}" for k, v in r["sessions_per_node"].items()))
    con.print(t)
    fo = f["failover"]
    con.print(f"fleet: failover kill -9 -> first client served again, {fo['takeovers']} session takeovers over {len(fo['kills'])} kills: "
              f"p50 {fo['p50_ms']:.0f} ms, max {fo['max_ms']:.0f} ms; nothing acknowledged lost: {fo['ok']}")


def print_tables(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    m = report["machine"]
    con.print(f"[bold]mpac-bridge bench[/]  {m['cores']} cores, Python {m['python']}, {m['platform']}")
    if "core" in report:
        t = Table(title="core: in-process coordinator (median)")
        for col in ("message", "active", "withdrawn", "µs/msg", "msgs/s"):
            t.add_column(col, justify="right" if col != "message" else "left")
        for r in report["core"]:
            t.add_row(r["kind"], str(r["active"]), str(r["withdrawn"]), f"{r['us_per_msg']:.1f}", f"{r['msgs_per_sec']:,.0f}")
        con.print(t)
    if "wire" in report:
        w = report["wire"]
        t = Table(title="wire: overlapping announce → other party's notification")
        for col in ("clients", "p50 ms", "p99 ms", "max ms"):
            t.add_column(col, justify="right")
        for r in w["latency"]:
            t.add_row(str(r["clients"]), f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.2f}")
        con.print(t)
        tp = w["throughput"]
        con.print(f"throughput (10 clients, closed loop): {tp['msgs_per_sec']:,.0f} msg/s; first 5 s {tp['first_5s_per_sec']:,.0f}/s, "
                  f"last 5 s {tp['last_5s_per_sec']:,.0f}/s; sidecar CPU {tp['sidecar_cpu_us_per_msg']:.0f} µs/msg")
        mem = w["memory"]
        con.print(f"memory: RSS {mem['rss_before_kb']} KiB → {mem['rss_after_kb']} KiB over {mem['messages']:,} messages "
                  f"({mem['rss_bytes_per_msg']:.1f} B/msg)")
    if "startup" in report:
        s = report["startup"]
        con.print(f"startup: sidecar process → SESSION_INFO {s['sidecar_to_session_info_ms']:.0f} ms"
                  + (f"; MCP initialize {s['mcp_initialize_ms']:.0f} ms" if "mcp_initialize_ms" in s else ""))
    if "symbols" in report:
        print_symbols(con, report["symbols"])
    if "fleet" in report:
        print_fleet(con, report["fleet"])
    if "mcp" in report:
        mc = report["mcp"]
        if "skipped" in mc:
            con.print(f"mcp: skipped ({mc['skipped']})")
            return
        t = Table(title=f"mcp: warm tool calls through a real stdio session (initialize {mc['initialize_ms']:.0f} ms)")
        for col in ("tool", "p50 ms", "p99 ms", "calls"):
            t.add_column(col, justify="left" if col == "tool" else "right")
        for name, r in mc["tools"].items():
            t.add_row(name, f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", str(r["calls"]))
        con.print(t)
        e = mc.get("edges")
        if e:
            con.print(f"mcp: begin_task with {e['begin_task_files']:,} files {e['begin_task_ms']:.0f} ms; get_file_state on a "
                      f"{e['big_file_mib']} MiB file {e['get_file_state_big_ms']:.0f} ms, server peak RSS "
                      f"{e['rss_peak_before_mib'] or 0:.0f} → {e['rss_peak_after_mib'] or 0:.0f} MiB")


def print_symbols(con: Any, sym: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(title="symbols: extraction, cold per 1,000 lines and cached per call (median)")
    for col in ("language", "lines", "symbols", "cold ms/1k", "cached µs", "ref given µs", "first ms"):
        t.add_column(col, justify="left" if col == "language" else "right")
    for r in sym["extraction"]:
        t.add_row(r["language"], f"{r['lines']:,}", str(r["symbols"]), f"{r['cold_ms_per_1k_lines']:.2f}", f"{r['cached_us']:.1f}",
                  f"{r['cached_ref_given_us']:.2f}", f"{r['first_call_ms']:.1f}")
    con.print(t)
    m = sym["merge"]
    con.print(f"merge decision ({m['lines']:,}-line Python file, git diff + checks, no cache): {m['decide_ms']:.1f} ms")
    a = sym.get("announce")
    if a:
        con.print(f"announce at {a['active']:,} active intents (coordinator, median µs): file-level {a['file_level_us']:.1f}; "
                  f"{a['symbols']} symbols of one file {a['symbols_20_us']:.1f} (+{a['added_us']:.1f}); the same in a file where "
                  f"others hold other symbols {a['symbols_20_shared_file_us']:.1f}; building the scope in the client {a['client_scope_us']:.1f}")
    rows = sym.get("parallelism")
    if rows:
        t = Table(title="symbols: four agents change four functions of one file at once (real sidecar, MCP tools)")
        for col in ("granularity", "agents", "began at once", "blocked", "changes landed", "of which merged", "round ms"):
            t.add_column(col, justify="left" if col == "granularity" else "right")
        for r in rows:
            t.add_row(r["granularity"], str(r["agents"]), str(r["proceeded"]), str(r["blocked"]), str(r["landed"]), str(r["merged"]),
                      f"{r['wall_ms']:.0f}")
        con.print(t)

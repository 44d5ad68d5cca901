"""Readable tables for the issue-17 benchmarks (cpu, rate, memory, relay, stall, startup, profile)."""

from __future__ import annotations

from typing import Any


def _f(value: Any, fmt: str = ",.0f", none: str = "-") -> str:
    return none if value is None else format(value, fmt)


def _loads(loads: list[Any]) -> str:
    return ", ".join(_f(x, ".1f") for x in loads if x is not None)


def _table(title: str, cols: tuple[str, ...], left: int = 1) -> Any:
    from rich.table import Table

    t = Table(title=title)
    for i, col in enumerate(cols):
        t.add_column(col, justify="left" if i < left else "right")
    return t


def _labels(section: dict[str, Any]) -> list[str]:
    return list(section.get("targets", []))


def print_cpu(con: Any, cpu: dict[str, Any]) -> None:
    t = _table(
        f"cpu: sidecar CPU per message in the closed loop ({cpu['duration_sec']:g} s runs, {cpu['warmup_sec']:g} s warm-up left out, "
        f"median of {cpu['repeat']})",
        (
            "target",
            "fan-out",
            "µs/msg",
            "runs µs/msg",
            "of it kernel",
            "msg/s per core",
            "msg/s measured",
            "bench µs/msg",
            "load",
        ),
    )
    for row in cpu["fanout"]:
        for label in _labels(cpu):
            r = row.get(label)
            if r:
                t.add_row(
                    label,
                    str(row["clients"]),
                    _f(r["sidecar_cpu_us_per_msg"]),
                    ", ".join(_f(x) for x in r["sidecar_cpu_us_per_msg_runs"]),
                    _f(r["sidecar_sys_us_per_msg"]),
                    _f(r["one_core_msgs_per_sec"]),
                    _f(r["msgs_per_sec_after_warmup"]),
                    _f(r["bench_cpu_us_per_msg"]),
                    _loads(r["loads"]),
                )
        if row.get("ratio"):
            q = row["ratio"]
            t.add_row(
                "ratio (this / other)",
                str(row["clients"]),
                _f(q["sidecar_cpu_us_per_msg"], ".2f"),
                "",
                _f(q["sidecar_sys_us_per_msg"], ".2f"),
                _f(q["one_core_msgs_per_sec"], ".2f"),
                _f(q["msgs_per_sec_after_warmup"], ".2f"),
                "",
                "",
            )
    con.print(t)


def print_rate(con: Any, rate: dict[str, Any]) -> None:
    t = _table(
        f"rate: closed loop, {rate['clients']} clients, {rate['duration_sec']:g} s (RSS per message after {rate['warmup_sec']:g} s; "
        f"--history-limit {rate.get('history_limit') or 'default'})",
        (
            "target",
            "msg/s",
            "first 5 s",
            "last 5 s",
            "CPU µs/msg",
            "msg/s per core",
            "RSS B/msg",
            "longest gap ms",
            "load",
        ),
    )
    for label in _labels(rate):
        r = rate.get(label)
        if r:
            t.add_row(
                label,
                _f(r["msgs_per_sec"]),
                _f(r["first_5s_per_sec"]),
                _f(r["last_5s_per_sec"]),
                _f(r["sidecar_cpu_us_per_msg"]),
                _f(r["one_core_msgs_per_sec"]),
                _f(r["rss_bytes_per_msg_after_warmup"], ".1f"),
                _f(r["max_gap_ms"], ".1f"),
                _loads(r["loads"]),
            )
    con.print(t)
    for run in rate.get("runs", []):
        stall = run.get("loop_stall")
        con.print(
            f"  {run['target']}: RSS {run['rss_start_kb'] / 1024:.1f} → {run['rss_warm_kb'] / 1024:.1f} (warm) → "
            f"{run['rss_end_kb'] / 1024:.1f} MiB over {run['messages']:,} messages"
            + (f"; longest loop stall {stall['max_ms']:.1f} ms" if stall else "")
        )


def _stall_cell(ls: dict[str, Any] | None) -> str:
    """`max (CPU)`, and the collector's share of it when the watch records one."""
    if not ls:
        return "-"
    gc_ms = ls.get("max_gc_ms")
    tail = f", GC {gc_ms:.0f}" if gc_ms is not None else ""
    return f"{ls['max_ms']:.1f} ({ls['max_cpu_ms']:.0f}{tail})"


def print_memory(con: Any, mem: dict[str, Any]) -> None:
    t = _table(
        "memory: sidecar RSS per active intent (one client, N disjoint announces)",
        (
            "target",
            "intents",
            "B/intent",
            "RSS after MiB",
            "peak above MiB",
            "steps above trend MiB",
            "announce s",
            "load",
        ),
    )
    for row in mem["rows"]:
        for label in _labels(mem):
            r = row.get(label)
            if r:
                t.add_row(
                    label,
                    f"{row['intents']:,}",
                    _f(r["bytes_per_intent"]),
                    _f(r["rss_after_kb"] / 1024, ".1f"),
                    _f(r["hwm_above_rss_kb"] / 1024, ".1f"),
                    _f(r["rss_steps_above_trend_kb"] / 1024, ".1f"),
                    _f(r["announce_sec"], ".1f"),
                    _loads(r["loads"]),
                )
    con.print(t)


def print_relay(con: Any, relay: dict[str, Any]) -> None:
    t = _table(
        f"relay: announce → another client receives it, {relay['idle_clients']} idle clients, {relay['samples']} samples, "
        f"median of {relay.get('repeat', 1)}",
        ("target", "active", "p50 ms", "runs p50", "p99 ms", "max ms", "setup s", "load"),
    )
    for r in relay["rows"]:
        t.add_row(
            r["target"],
            f"{r['active']:,}",
            _f(r["p50_ms"], ".2f"),
            ", ".join(_f(x, ".2f") for x in r.get("p50_ms_runs", [])),
            _f(r["p99_ms"], ".2f"),
            _f(r["max_ms"], ".1f"),
            _f(r["setup_sec"], ".1f"),
            _loads(r.get("loads", [r["load"]])),
        )
    con.print(t)
    for q in relay.get("ratios", []):
        con.print(
            f"  at {q['active']:,} active: {q['target']} is {q['p50_times_faster']:.1f}x faster than the reference at p50, "
            f"{q['p99_times_faster']:.1f}x at p99"
        )
    if not relay.get("ratios"):
        con.print(f"  reference: {relay['reference']}")


def print_stall(con: Any, stall: dict[str, Any]) -> None:
    t = _table(
        "stall: longest event-loop stall (loop watch) and longest gap without an answer (clients)",
        (
            "target",
            "intents x B",
            "loading: stall ms (snapshots)",
            "loop: stall ms (CPU, GC)",
            "less core wait ms",
            "ticks >20/>100 ms",
            "snapshots",
            "gap ms",
            "msg/s",
            "load",
        ),
    )
    for r in stall["runs"]:
        s, ls = r.get("setup_stall"), r.get("loop_stall")
        t.add_row(
            r["target"],
            f"{r['active']:,} x {r['objective_bytes']:,}",
            f"{_f(s and s['max_ms'], '.1f')} ({_f(r.get('snapshots_loading'))})",
            _stall_cell(ls),
            _f(ls and ls.get("max_own_ms"), ".1f"),
            f"{ls['over_20ms']}/{ls['over_100ms']}" if ls else "-",
            _f(r.get("snapshots_loop")),
            _f(r["max_gap_ms"], ".1f"),
            _f(r["msgs_per_sec"]),
            f"{r['load']:.1f}",
        )
    con.print(t)
    floor = stall.get("floor")
    if floor:
        con.print(
            f"  floor: a bare busy loop alone for {floor['duration_sec']:g} s paused at most "
            f"{floor['max_ms']:.1f} ms ({floor['max_without_steal_ms']:.1f} ms without steal "
            f"time), {floor['over_20ms']} pause(s) over 20 ms"
        )
    for r in stall["runs"]:
        ls = r.get("loop_stall") or {}
        if ls.get("stalls_with_steal"):
            con.print(
                f"  {r['target']}: {ls['stalls_with_steal']} stall(s) over 20 ms had steal time "
                "(the hypervisor ran something else); the longest without: "
                f"{_f(ls.get('max_without_steal_ms'), '.1f')} ms"
            )
        w = ls.get("writer_slowest")
        if w:
            con.print(
                f"  {r['target']}: the journal writer's slowest batch {w['writer_max_ms']:.1f} ms "
                f"(store commit {w.get('writer_store_ms', 0):.1f}, audit lines "
                f"{w.get('writer_lines_ms', 0):.1f}, {w.get('writer_entries', 0):,} entries)"
            )


def print_startup(con: Any, st: dict[str, Any]) -> None:
    t = _table(
        f"startup: median of {st['repeat']} rounds",
        (
            "target",
            "sidecar ready ms",
            "→ SESSION_INFO ms",
            "hook deny ms",
            "hook allow ms",
            "MCP initialize ms",
            "→ tools/list ms",
            "loads",
        ),
    )
    for label, r in st["targets"].items():
        t.add_row(
            label,
            _f(r["sidecar_ready_ms"]),
            _f(r["sidecar_session_info_ms"]),
            _f(r["hook_deny_ms"]),
            _f(r["hook_allow_ms"]),
            _f(r["mcp_initialize_ms"]),
            _f(r["mcp_tools_list_ms"]),
            _loads(r["loads"][:3]) + ("…" if len(r["loads"]) > 3 else ""),
        )
    con.print(t)
    for label, r in st["targets"].items():
        for what, imp in (r.get("imports") or {}).items():
            top = ", ".join(
                f"{m['module']} {m['cumulative_ms']:.0f}" for m in imp["top_cumulative"]
            )
            pk = ", ".join(f"{p['package']} {p['self_ms']:.0f}" for p in imp["top_packages"][:6])
            con.print(
                f"  {label}, {what}: imports {imp['total_ms']:.0f} ms ({imp['modules']} modules); top cumulative ms: {top}; "
                f"by package: {pk}"
            )


def print_profile(con: Any, prof: dict[str, Any]) -> None:
    con.print(
        f"profile ({prof['profiler']}, {prof['target']}): {prof['clients']} clients, {prof['duration_sec']:g} s, "
        f"{prof['messages']:,} messages, {prof['us_per_msg']:.0f} µs/msg profiled (sidecar CPU {prof['sidecar_cpu_us_per_msg']:.0f} "
        f"µs/msg), load {prof['load']:.1f}"
    )
    t = _table("profile: self time by kind", ("kind", "µs/msg", "share"))
    for c in prof["by_category"]:
        t.add_row(c["category"], _f(c["us_per_msg"], ".1f"), f"{c['share']:.0%}")
    con.print(t)
    for key, title in (("top_self", "self"), ("top_cumulative", "cumulative")):
        t = _table(
            f"profile: top functions by {title} time", ("function", "calls", "µs/msg", "share")
        )
        for r in prof[key]:
            t.add_row(
                r["function"][:90], _f(r["calls"]), _f(r["us_per_msg"], ".1f"), f"{r['share']:.0%}"
            )
        con.print(t)


PRINTERS = {
    "cpu": print_cpu,
    "rate": print_rate,
    "memory": print_memory,
    "relay": print_relay,
    "stall": print_stall,
    "startup": print_startup,
    "profile": print_profile,
}


def print_sections(con: Any, report: dict[str, Any]) -> None:
    for key, printer in PRINTERS.items():
        if key in report:
            printer(con, report[key])

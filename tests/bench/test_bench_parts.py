"""Pure parts of the benchmarks: import-time parsing, profile grouping, the loop-watch reader and the
A/B medians."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bridge.bench import importtime, profiling
from bridge.bench.ab import alternate, medians
from bridge.bench.launch import Proc, Target

IMPORTS = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _io
import time:      2000 |       5000 |     pydantic.main
import time:      3000 |       8000 |   pydantic
import time:       500 |      12000 | bridge.core
some log line the server wrote
import time:       400 |        400 | bridge.protocol.scope
"""


def test_importtime_summary_totals_self_times_and_ranks_cumulative() -> None:
    s = importtime.summarise(IMPORTS, top=3)
    assert s["modules"] == 5
    assert s["total_ms"] == 6.0
    assert [m["module"] for m in s["top_cumulative"]] == [
        "bridge.core",
        "pydantic",
        "pydantic.main",
    ]
    assert s["top_cumulative"][2]["depth"] == 2
    assert s["top_packages"][0] == {"package": "pydantic", "self_ms": 5.0}
    assert {"package": "bridge", "self_ms": 0.9} in s["top_packages"]


def test_profile_categories_name_the_libraries() -> None:
    assert profiling.category("~:<method 'execute' of 'sqlite3.Connection' objects>") == "sqlite"
    assert profiling.category("/x/lib/python3.11/json/encoder.py:iterencode") == "json"
    assert (
        profiling.category(
            "~:<method 'validate_python' of 'pydantic_core._pydantic_core.SchemaValidator' objects>"
        )
        == "pydantic"
    )
    assert (
        profiling.category("/x/site-packages/websockets/frames.py:serialize")
        == "websockets framing"
    )
    assert profiling.category("~:<built-in method _hashlib.openssl_sha256>") == "hashing"
    assert profiling.category("/w/bridge/core/intents.py:on_announce") == "bridge.core"
    assert profiling.category("~:<method 'poll' of 'select.epoll' objects>") == profiling.IDLE


def test_pyspy_collapsed_stacks_give_self_and_cumulative_time(tmp_path: Path) -> None:
    raw = tmp_path / "spy.txt"
    raw.write_text(
        "main (bridge/server/app.py);handle (bridge/core/coordinator.py) 30\n"
        "main (bridge/server/app.py);dumps (json/__init__.py) 10\n"
        "_run_once (asyncio/base_events.py);EpollSelector.select (selectors.py:451) 20\n"
    )
    rep = profiling.from_pyspy(raw, messages=100, top=5, rate=100)
    assert rep["profiled_sec"] == pytest.approx(0.4) and rep["us_per_msg"] == pytest.approx(4000)
    assert rep["idle_sec"] == pytest.approx(
        0.2
    )  # the epoll wait is idle, and the loop frames above it are not listed
    assert not any(
        r["function"].startswith(("_run_once", "EpollSelector")) for r in rep["top_cumulative"]
    )
    top = {r["function"]: r for r in rep["top_cumulative"]}
    assert top["main (bridge/server/app.py)"]["cumulative_sec"] == pytest.approx(0.4)
    assert top["main (bridge/server/app.py)"]["self_sec"] == 0
    shares = {c["category"]: round(c["share"], 6) for c in rep["by_category"]}
    assert shares == {"bridge.core": 0.75, "json": 0.25}


def test_loop_watch_reader_attributes_stalls_to_a_phase(tmp_path: Path) -> None:
    path = tmp_path / "loop.jsonl"
    lines = [
        {"t": 100.5, "stall_ms": 80.0, "cpu_ms": 79.0},
        {
            "t": 101.0,
            "ticks": 50,
            "max_ms": 80.0,
            "max_cpu_ms": 79.0,
            "over_20ms": 1,
            "over_100ms": 0,
        },
        {
            "t": 102.0,
            "ticks": 90,
            "max_ms": 4.0,
            "max_cpu_ms": 1.0,
            "over_20ms": 0,
            "over_100ms": 0,
        },
        {"t": 102.7, "stall_ms": 250.0, "cpu_ms": 3.0},
        {
            "t": 103.0,
            "ticks": 70,
            "max_ms": 250.0,
            "max_cpu_ms": 3.0,
            "over_20ms": 1,
            "over_100ms": 1,
        },
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    proc = Proc(None, "ws://x", 0.0, 0.0, Target("t"), watch_path=path)  # type: ignore[arg-type]
    early = proc.stalls(100.0, 101.5)
    assert early is not None and early["max_ms"] == 80.0 and early["over_20ms"] == 1
    quiet = proc.stalls(101.2, 102.2)  # only short stalls: the overlapping windows say how long
    assert quiet is not None and quiet["max_ms"] == 4.0 and quiet["over_20ms"] == 0
    late = proc.stalls(102.2, 103.5)
    assert (
        late is not None
        and late["max_ms"] == 250.0
        and late["max_cpu_ms"] == 3.0
        and late["over_100ms"] == 1
    )
    between = proc.stalls(100.7, 100.9)  # the window's 80 ms stall was before: at most 20 ms here
    assert between is not None and between["max_ms"] == 20.0 and between["max_is_upper_bound"]
    assert Proc(None, "ws://x", 0.0, 0.0, Target("t")).stalls() is None  # type: ignore[arg-type]


def test_stall_summary_sets_steal_apart_and_keeps_forks_and_the_writers_slowest_batch(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watch.jsonl"
    lines = [
        {"t": 100.5, "stall_ms": 45.0, "cpu_ms": 1.0, "steal_ms": 30},  # the hypervisor
        {"t": 100.8, "stall_ms": 24.0, "cpu_ms": 22.0},  # our own
        {"t": 101.0, "ticks": 80, "max_ms": 45.0, "max_cpu_ms": 1.0, "over_20ms": 2,
         "over_100ms": 0, "fork_ms": 9.5, "writer_max_ms": 12.0, "writer_store_ms": 11.0,
         "writer_lines_ms": 0.5, "writer_entries": 4},
        {"t": 102.0, "ticks": 99, "max_ms": 6.0, "max_cpu_ms": 5.0, "over_20ms": 0,
         "over_100ms": 0, "fork_ms": 4.0, "writer_max_ms": 90.0, "writer_store_ms": 89.0,
         "writer_lines_ms": 0.2, "writer_entries": 2,
         "disk_waits": {"mpac-journal D ext4_da_get_block_prep in j-wal": 40}},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    proc = Proc(None, "ws://x", 0.0, 0.0, Target("t"), watch_path=path)  # type: ignore[arg-type]
    s = proc.stalls(100.0, 102.0)
    assert s is not None and s["max_ms"] == 45.0
    assert s["max_without_steal_ms"] == 24.0 and s["stalls_with_steal"] == 1
    assert s["forks_ms"] == [9.5, 4.0]
    slow = s["writer_slowest"]
    assert slow["writer_max_ms"] == 90.0 and slow["writer_entries"] == 2
    assert slow["disk_waits"] == {"mpac-journal D ext4_da_get_block_prep in j-wal": 40}


async def test_alternate_runs_each_target_equally_often_and_first() -> None:
    a, b = Target("old"), Target("new")
    seen: list[str] = []

    async def run(t: Target) -> dict[str, Any]:
        seen.append(t.label)
        return {"cpu": 200.0 if t is a else 100.0 + len(seen), "load": 1.0}

    rows = await alternate([a, b], 4, run)
    assert seen == ["old", "new", "new", "old", "old", "new", "new", "old"]
    m = medians(rows, ("cpu",), [a, b])
    assert m["old"]["cpu"] == 200.0 and m["old"]["runs"] == 4
    assert m["new"]["cpu_runs"] == [102.0, 103.0, 106.0, 107.0]
    assert m["ratio"]["cpu"] == m["new"]["cpu"] / 200.0


async def test_the_load_client_follows_a_redirect_to_the_serving_node(tmp_path: Path) -> None:
    """A fleet node answers the upgrade with 307 and the holder's URL; the load client follows it."""
    from bridge.bench.client import join
    from bridge.bench.launch import start
    from bridge.bench.wire import SIDECAR_ARGS

    proc = await start(tmp_path, *SIDECAR_ARGS)
    try:

        async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {proc.url}/session/bench\r\nContent-Length: 0\r\n\r\n".encode()
            )
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(redirect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = await join(f"ws://127.0.0.1:{port}/session/bench", "agent:redirected")
        answered = await client.request(
            "INTENT_ANNOUNCE",
            {
                "intent_id": "r1",
                "objective": "o",
                "scope": {"kind": "file_set", "resources": ["r.py"]},
            },
        )
        assert answered > 0 and client.errors == 0
        await client.close()
        server.close()
        await server.wait_closed()
    finally:
        await proc.stop()

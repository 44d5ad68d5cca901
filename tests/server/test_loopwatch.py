"""The sidecar's loop-stall watch (MPAC_LOOP_WATCH) records how late its periodic callback ran."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.server import journalwriter, loopwatch, snapfork


class Kept(io.StringIO):
    def close(self) -> None:  # keep the text readable after stop()
        pass


async def test_a_blocked_loop_is_recorded_as_a_stall_with_its_cpu_time() -> None:
    out = Kept()
    watch = loopwatch.LoopWatch(out, tick=0.005, window=0.05)
    watch.start()
    await asyncio.sleep(0.02)  # a few on-time ticks first
    deadline = time.monotonic() + 0.06
    while time.monotonic() < deadline:  # hold the event loop (busy, so the stall costs CPU)
        pass
    await asyncio.sleep(0.08)  # lets the late tick run and a window close
    watch.stop()
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    stalls = [r for r in rows if "stall_ms" in r]
    windows = [r for r in rows if "max_ms" in r]
    assert len(stalls) == 1 and stalls[0]["stall_ms"] >= 40
    # busy: it ran, or it waited for a core (a loaded machine), not blocked
    assert stalls[0]["cpu_ms"] + stalls[0].get("run_wait_ms", 0) > 20
    assert max(w["max_ms"] for w in windows) == stalls[0]["stall_ms"]
    assert sum(w["over_20ms"] for w in windows) == 1 and all(w["ticks"] > 0 for w in windows)


@pytest.mark.skipif(not snapfork.AVAILABLE, reason="no os.fork here")
async def test_a_snapshot_fork_during_a_stall_is_named_in_its_line() -> None:
    out = Kept()
    watch = loopwatch.LoopWatch(out, tick=0.005, window=0.05)
    watch.start()
    await asyncio.sleep(0.02)
    pid, fd = snapfork.fork(lambda: {"state": 1})  # the fork, then hold the loop past 20 ms
    deadline = time.monotonic() + 0.04
    while time.monotonic() < deadline:
        pass
    assert "".join(snapfork.pieces(fd)) == '{"state":1}' and snapfork.reap(pid, fd) == 0
    deadline = time.monotonic() + 10
    while "stall_ms" not in out.getvalue():  # the late tick writes its line
        assert time.monotonic() < deadline, "no stall line"
        await asyncio.sleep(0)
    watch.stop()
    stalls = [json.loads(line) for line in out.getvalue().splitlines() if "stall_ms" in line]
    assert len(stalls) == 1 and stalls[0]["fork_ms"] > 0


def test_off_unless_the_variable_names_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loopwatch.ENV, raising=False)
    assert loopwatch.start_from_env() is None


async def test_on_when_the_variable_names_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "loop.jsonl"
    monkeypatch.setenv(loopwatch.ENV, str(path))
    watch = loopwatch.start_from_env()
    assert watch is not None
    await asyncio.sleep(0.03)
    watch.stop()
    (summary,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert summary["ticks"] >= 1 and summary["max_ms"] >= 0


async def _stall_rows(hold: Callable[[], object]) -> list[dict[str, Any]]:
    out = Kept()
    watch = loopwatch.LoopWatch(out, tick=0.005, window=10)
    watch.start()
    await asyncio.sleep(0.02)
    hold()
    await asyncio.sleep(0.03)  # the late tick runs and writes its line
    watch.stop()
    return [r for r in map(json.loads, out.getvalue().splitlines()) if "stall_ms" in r]


async def test_a_stall_says_what_the_loop_thread_was_doing() -> None:
    """Busy: the collector's share and running samples; blocked on a lock: sleeping samples."""
    import gc
    import sys
    import threading

    heap = [[n] for n in range(300_000)]  # a full collection of these takes a while

    def collect() -> None:
        deadline = time.monotonic() + 0.05
        while time.monotonic() < deadline:
            gc.collect()

    (busy,) = await _stall_rows(collect)
    assert busy["gc_gen"] == 2 and busy["gc_ms"] > 10
    del heap
    lock = threading.Lock()
    lock.acquire()
    releaser = threading.Timer(0.06, lock.release)
    releaser.start()
    (blocked,) = await _stall_rows(lock.acquire)  # the loop thread waits for another thread
    releaser.join()
    if sys.platform == "linux":
        assert set(busy) >= {"loop_cpu_ms", "run_wait_ms"}
        assert blocked["loop_cpu_ms"] < blocked["stall_ms"] / 2  # blocked, not busy
        # the sampler thread may be starved on a loaded machine; what it saw was a sleeping loop
        samples = blocked.get("blocked_in") or {}
        assert all(k.split()[0] in ("S", "R") for k in samples)
        assert not samples or any(k.startswith("S") for k in samples)


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="no /proc/stat here")
def test_steal_time_is_read_from_proc_stat_in_milliseconds() -> None:
    first = loopwatch.steal_ms()
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    assert fields[0] == "cpu" and first is not None and first >= 0
    assert first % loopwatch._TICK_MS == 0  # whole clock ticks
    later = loopwatch.steal_ms()
    assert later is not None and later >= first


async def test_the_journal_writers_slowest_batch_is_in_the_window_line() -> None:
    out = Kept()
    journalwriter.slowest = (0, 0, 0, 0)
    watch = loopwatch.LoopWatch(out, tick=0.005, window=0.02)
    watch.start()
    journalwriter.slowest = (30_000_000, 25_000_000, 4_000_000, 12)  # as the writer notes one
    deadline = time.monotonic() + 10
    while "writer_max_ms" not in out.getvalue():
        assert time.monotonic() < deadline, "no window line with the writer's batch"
        await asyncio.sleep(0.005)
    watch.stop()
    rows = [json.loads(line) for line in out.getvalue().splitlines() if "writer_max_ms" in line]
    assert rows == [rows[0]] and journalwriter.take_slowest() == (0, 0, 0, 0)  # taken, reset
    row = rows[0]
    assert (row["writer_max_ms"], row["writer_store_ms"], row["writer_lines_ms"]) == (30, 25, 4)
    assert row["writer_entries"] == 12


@pytest.mark.skipif(not Path("/proc/thread-self").exists(), reason="no /proc here")
def test_a_threads_state_is_read_and_disk_only_skips_a_running_one() -> None:
    assert loopwatch._thread_state("/proc/thread-self/", disk_only=True) == ""  # running
    assert loopwatch._thread_state("/proc/thread-self/") == "R 0"  # this very call
    assert loopwatch._thread_state("/proc/self/task/999999999/") is None  # gone

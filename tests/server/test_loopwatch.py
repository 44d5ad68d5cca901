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

from bridge.server import loopwatch, snapfork


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

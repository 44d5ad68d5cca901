"""The sidecar's loop-stall watch (MPAC_LOOP_WATCH) records how late its periodic callback ran."""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path

import pytest

from bridge.server import loopwatch


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
    assert stalls[0]["cpu_ms"] > 20  # the process was busy, not descheduled
    assert max(w["max_ms"] for w in windows) == stalls[0]["stall_ms"]
    assert sum(w["over_20ms"] for w in windows) == 1 and all(w["ticks"] > 0 for w in windows)


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

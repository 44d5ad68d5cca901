"""Event-loop stall watch, for measurements (`mpac-bridge bench stall`, `bench wire`).

Off unless the environment variable MPAC_LOOP_WATCH names a file: the sidecar then schedules a
callback every 10 ms and measures how late it runs. A callback that runs 800 ms late means that
for 800 ms no connection was served (a snapshot, a long handler, a blocking write, or the
process not being scheduled at all). It appends JSON lines to the file: each stall over 20 ms
as it ends, and once a second a summary of the last window:

    {"t": <wall clock at the end of the stall>, "stall_ms": x, "cpu_ms": y}
    {"t": <wall clock at the end of the window>, "ticks": n, "max_ms": x, "max_cpu_ms": y,
     "over_20ms": k, "over_100ms": j}

`cpu_ms` is the CPU time the process used during the stall: close to the stall when the sidecar
itself was busy, much less when it was blocked on I/O or descheduled by a busy machine. The
readers (the benchmarks) filter the lines by time to attribute stalls to a phase. When the
variable is unset nothing is imported or scheduled.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import IO

ENV = "MPAC_LOOP_WATCH"
TICK_SEC = 0.01
WINDOW_SEC = 1.0
STALL_LINE_SEC = 0.020  # stalls longer than this get a line of their own


class LoopWatch:
    def __init__(self, out: IO[str], tick: float = TICK_SEC, window: float = WINDOW_SEC) -> None:
        self.out, self.tick, self.window = out, tick, window
        self.loop = asyncio.get_running_loop()
        self.handle: asyncio.TimerHandle | None = None
        self._reset(self.loop.time())
        self.last_cpu = time.process_time()
        self.due = self.loop.time() + tick

    def _reset(self, now: float) -> None:
        self.window_start = now
        self.ticks = 0
        self.max_lag = 0.0
        self.max_cpu = 0.0
        self.over_20 = 0
        self.over_100 = 0

    def start(self) -> None:
        self.handle = self.loop.call_at(self.due, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        cpu = time.process_time()
        lag = max(0.0, now - self.due)
        self.ticks += 1
        if lag > self.max_lag:
            self.max_lag, self.max_cpu = lag, cpu - self.last_cpu
        if lag > STALL_LINE_SEC:
            self.over_20 += 1
            self.out.write(
                json.dumps(
                    {
                        "t": round(time.time(), 3),
                        "stall_ms": round(lag * 1000, 3),
                        "cpu_ms": round((cpu - self.last_cpu) * 1000, 3),
                    }
                )
                + "\n"
            )
        self.over_100 += lag > 0.100
        self.last_cpu = cpu
        if now - self.window_start >= self.window:
            self._emit(now)
        self.due = now + self.tick
        self.handle = self.loop.call_at(self.due, self._tick)

    def _emit(self, now: float) -> None:
        if self.ticks:
            self.out.write(
                json.dumps(
                    {
                        "t": round(time.time(), 3),
                        "ticks": self.ticks,
                        "max_ms": round(self.max_lag * 1000, 3),
                        "max_cpu_ms": round(self.max_cpu * 1000, 3),
                        "over_20ms": self.over_20,
                        "over_100ms": self.over_100,
                    }
                )
                + "\n"
            )
            self.out.flush()
        self._reset(now)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self._emit(self.loop.time())
        self.out.close()


def start_from_env() -> LoopWatch | None:
    """A started watch when MPAC_LOOP_WATCH names a file (appended to), else None."""
    path = os.environ.get(ENV)
    if not path:
        return None
    watch = LoopWatch(open(path, "a", encoding="utf-8"))  # noqa: SIM115 - closed by stop()
    watch.start()
    return watch

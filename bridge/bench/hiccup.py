"""`bench stall --floor`: the pauses a busy loop sees on this machine with nothing of ours running.

The loop-stall target (20 ms) is about the sidecar, but a process on a virtual machine also stops
when the hypervisor runs something else. Some of that shows as steal time in `/proc/stat`; some
does not: on the 2-core benchmark machine a bare Python loop with nothing else running saw 16-25
ms in which its own thread was charged the whole time as CPU and no steal was recorded. That is
the floor under any event loop here. This probe measures it: a child process spins for
`duration` seconds in slices of about 50 µs and records every gap over 1 ms between two slices,
with the CPU its thread was charged meanwhile and the steal time of all CPUs (10 ms steps).

Run as `python -m bridge.bench.hiccup SECONDS`; it prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from bridge.server.loopwatch import steal_ms

GAP_SEC = 0.001  # gaps longer than this are recorded
STALL_SEC = 0.020  # the stall target
KEEP = 10  # the longest gaps listed


def _steal_ms() -> int:
    return steal_ms() or 0  # the loop watch's reading; 0 where /proc/stat does not give it


def probe(duration: float) -> dict[str, Any]:
    """Spin for `duration` seconds; the longest gaps between slices, with CPU and steal."""
    gaps: list[tuple[float, float, int]] = []  # (wall ms, thread CPU ms, steal ms)
    over = 0
    end = time.perf_counter() + duration
    wall, cpu, steal = time.perf_counter(), time.thread_time(), _steal_ms()
    slices = 0
    while wall < end:
        x = 0
        for i in range(400):  # about 50 µs of interpreter work
            x += i
        now, now_cpu = time.perf_counter(), time.thread_time()
        slices += 1
        if now - wall > GAP_SEC:
            now_steal = _steal_ms()
            gaps.append(
                (round((now - wall) * 1000, 2), round((now_cpu - cpu) * 1000, 2), now_steal - steal)
            )
            over += now - wall > STALL_SEC
            steal = now_steal
        elif slices % 200 == 0:  # every ~10 ms: the steal counter moves in 10 ms steps
            steal = _steal_ms()
        wall, cpu = now, now_cpu
    gaps.sort(reverse=True)
    no_steal = [g for g in gaps if g[2] == 0]
    return {
        "duration_sec": duration,
        "max_ms": gaps[0][0] if gaps else 0.0,
        "max_without_steal_ms": no_steal[0][0] if no_steal else 0.0,
        "over_20ms": over,
        "gaps_over_1ms": len(gaps),
        "longest": [{"gap_ms": g, "cpu_ms": c, "steal_ms": s} for g, c, s in gaps[:KEEP]],
    }


async def run(duration: float, python: str = sys.executable) -> dict[str, Any]:
    """The probe in a process of its own (nothing else of ours in it)."""
    proc = await asyncio.create_subprocess_exec(
        python, "-m", "bridge.bench.hiccup", str(duration), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the hiccup probe exited with {proc.returncode}")
    result: dict[str, Any] = json.loads(out)
    return result


if __name__ == "__main__":
    print(json.dumps(probe(float(sys.argv[1]))))

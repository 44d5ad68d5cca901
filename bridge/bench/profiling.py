"""`bench profile`: where the sidecar's time goes per message, in the closed loop at fan-out 10.

Two profilers: `cprofile` (the default; the sidecar runs under cProfile timing CPU time, which
counts every call, so call-heavy code looks more expensive than it is: compare shares, not
absolute times) and `py-spy` (sampling from outside, close to the real distribution; needs the `py-spy`
executable and permission to read the process). Either profiles the loop after its warm-up
only, not the imports and start-up. Reported: the top functions by cumulative and
by self time, and self time grouped by what it is (json, pydantic, sqlite, websockets framing,
hashing, asyncio and sockets, and our packages).
"""

from __future__ import annotations

import asyncio
import os
import pstats
import shutil
import signal
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge.bench.launch import THIS, Target, start
from bridge.bench.loop import closed_loop, load
from bridge.bench.wire import SIDECAR_ARGS

# (category, substrings of "file:function") in the order they are tried
IDLE = "idle (waiting in epoll)"
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (IDLE, ("'poll' of 'select.epoll'", "select.epoll", "EpollSelector.select")),
    ("pydantic", ("pydantic",)),
    ("json", ("json/", "_json", "json.", "msgspec")),
    ("sqlite", ("sqlite3", "bridge/store/sqlite")),
    ("hashing", ("hashlib", "sha256", "openssl_")),
    ("websockets framing", ("websockets/",)),
    ("asyncio, selectors, sockets", ("asyncio/", "selectors", "socket", "uvloop", "_overlapped")),
    ("audit transcript", ("bridge/store/transcript",)),
    ("bridge.core audit chain", ("bridge/core/audit",)),
    ("bridge.protocol (parse, envelopes)", ("bridge/protocol/",)),
    ("bridge.core", ("bridge/core/",)),
    ("bridge.server", ("bridge/server/",)),
    ("bridge.store", ("bridge/store/",)),
    ("logging", ("logging/",)),
)


def category(where: str) -> str:
    for name, needles in CATEGORIES:
        if any(n in where for n in needles):
            return name
    return "other"


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3", "/bridge/"):
        i = path.find(marker)
        if i >= 0:
            return (
                path[i + len(marker) :]
                if marker != "/bridge/"
                else "bridge/" + path[i + len(marker) :]
            )
    return path


def from_cprofile(path: Path, messages: int, top: int) -> dict[str, Any]:
    """The time in the epoll wait is idle (small with a CPU timer, all of it with a wall-clock one),
    so it is reported on its own and left out of the shares and of the per-message figures."""
    stats = pstats.Stats(str(path))
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    rows = []
    groups: dict[str, float] = defaultdict(float)
    for (file, line, func), (_cc, calls, tt, ct, _callers) in raw.items():
        where = f"{file}:{func}"
        groups[category(where)] += tt
        rows.append(
            {
                "function": f"{_short(file)}:{line}({func})" if line else func,
                "calls": calls,
                "self_sec": tt,
                "cumulative_sec": ct,
            }
        )
    idle = groups.pop(IDLE, 0.0)
    total = sum(groups.values())  # self times add up to the total
    waiting = _waiting(raw)
    busy = [r for (key, r) in zip(raw, rows, strict=True) if key not in waiting]
    report = _report("cprofile", total, busy, groups, messages, top)
    report["idle_sec"] = idle
    return report


def _waiting(raw: dict[Any, tuple[Any, ...]]) -> set[Any]:
    """The epoll wait and every function that (transitively) called it: their cumulative time is
    mostly idle, so they are left out of the function lists."""
    todo = [k for k in raw if "select.epoll" in k[2]]
    seen: set[Any] = set()
    while todo:
        key = todo.pop()
        if key in seen or key not in raw:
            continue
        seen.add(key)
        todo.extend(raw[key][4])
    return seen


def from_pyspy(path: Path, messages: int, top: int, rate: int) -> dict[str, Any]:
    """py-spy's raw (collapsed) output: `frame;frame;...;leaf count` per distinct stack. py-spy
    samples a thread that is runnable but not running (descheduled on a busy machine) as active,
    so its total exceeds the CPU the sidecar used; samples in the epoll wait are reported as idle
    and left out, and so are the frames above it (the event loop's, which hold everything)."""
    self_n: Counter[str] = Counter()
    cum_n: Counter[str] = Counter()
    waiting: set[str] = set()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        self_n[frames[-1]] += n
        for f in set(frames):
            cum_n[f] += n
        if category(frames[-1]) == IDLE:
            waiting.update(frames)
    per = 1 / rate  # seconds per sample
    groups: dict[str, float] = defaultdict(float)
    for f, n in self_n.items():
        groups[category(f)] += n * per
    idle = groups.pop(IDLE, 0.0)
    rows = [
        {
            "function": f,
            "calls": None,
            "self_sec": self_n.get(f, 0) * per,
            "cumulative_sec": n * per,
        }
        for f, n in cum_n.items()
        if f not in waiting
    ]
    report = _report("py-spy", sum(groups.values()), rows, groups, messages, top)
    report["idle_sec"] = idle
    return report


def _report(
    profiler: str,
    total: float,
    rows: list[dict[str, Any]],
    groups: dict[str, float],
    messages: int,
    top: int,
) -> dict[str, Any]:
    def us(sec: float) -> float:
        return sec * 1e6 / max(1, messages)

    def pick(key: str) -> list[dict[str, Any]]:
        chosen = sorted(rows, key=lambda r: -r[key])[:top]
        return [
            {**r, "us_per_msg": us(r[key]), "share": r[key] / total if total else 0.0}
            for r in chosen
        ]

    return {
        "profiler": profiler,
        "profiled_sec": total,
        "messages": messages,
        "us_per_msg": us(total),
        "top_cumulative": pick("cumulative_sec"),
        "top_self": pick("self_sec"),
        "by_category": [
            {
                "category": c,
                "self_sec": s,
                "us_per_msg": us(s),
                "share": s / total if total else 0.0,
            }
            for c, s in sorted(groups.items(), key=lambda kv: -kv[1])
        ],
    }


PYSPY_RATE = 200  # samples per second


def pyspy_path() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


async def run_async(
    clients: int,
    duration: float,
    warmup: float,
    profiler: str,
    top: int,
    target: Target,
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "profile.out"
        exe = pyspy_path()
        if profiler == "py-spy" and exe is None:
            raise RuntimeError(
                "py-spy is not installed (pip install py-spy), or use --profiler cprofile"
            )
        # cProfile runs inside the sidecar from the warm-up on (bridge/bench/profiled.py); py-spy attaches then
        flags = (
            ("-m", "bridge.bench.profiled", str(out_path), "--") if profiler == "cprofile" else ()
        )
        proc = await start(Path(tmp) / "data", *SIDECAR_ARGS, target=target, python_flags=flags)
        spies: list[asyncio.Task[tuple[int | None, bytes]]] = []

        async def spy() -> tuple[int | None, bytes]:
            assert exe is not None
            child = await asyncio.create_subprocess_exec(
                exe,
                "record",
                "--pid",
                str(proc.proc.pid),
                "--duration",
                str(max(1, round(duration - warmup))),
                "--rate",
                str(PYSPY_RATE),
                "--format",
                "raw",
                "--function",
                "--nonblocking",
                "-o",
                str(out_path),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _out, err = await child.communicate()
            return child.returncode, err

        def on_warm() -> None:
            if profiler == "cprofile":
                os.kill(proc.proc.pid, signal.SIGUSR1)
            else:
                spies.append(asyncio.get_running_loop().create_task(spy()))

        try:
            if progress:
                progress(
                    f"profile: {profiler}, closed loop with {clients} clients for {duration:g} s ({warmup:g} s not profiled)"
                )
            load0 = load()
            loop = await closed_loop(proc, clients, duration, warmup=warmup, on_warm=on_warm)
            if profiler == "cprofile":
                os.kill(proc.proc.pid, signal.SIGUSR2)
                for _ in range(600):
                    if out_path.exists():
                        break
                    await asyncio.sleep(0.05)
            else:
                code, err = await asyncio.wait_for(spies[0], 120)
                if code != 0 or not out_path.exists():
                    raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-800:]}")
        finally:
            for task in spies:
                task.cancel()
            await proc.stop()
        messages = loop["messages_after_warmup"]
        if profiler == "cprofile":
            report = from_cprofile(out_path, messages, top)
        else:
            report = from_pyspy(out_path, messages, top, PYSPY_RATE)
        report.update(
            {
                "clients": clients,
                "duration_sec": duration,
                "warmup_sec": warmup,
                "msgs_per_sec": loop["msgs_per_sec_after_warmup"],
                "sidecar_cpu_us_per_msg": loop["sidecar_cpu_us_per_msg"],
                "load": load0,
                "target": target.label,
            }
        )
        return report


def run(
    clients: int = 10,
    duration: float = 20.0,
    warmup: float = 2.0,
    profiler: str = "cprofile",
    top: int = 25,
    target: Target = THIS,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    return asyncio.run(run_async(clients, duration, warmup, profiler, top, target, progress))

"""Start a real coordinator process for measurements and wait for its readiness line.

A `Target` says whose code runs: this checkout (the default), another checkout of mpac-bridge
(`--ab DIR`, for alternating before/after runs on the same machine) or the public reference
package (`mpac==0.2.13`, run by `bridge.bench.refserver`), or the floor server
(`bridge.bench.floorserver`: websockets reads each frame and it is relayed, nothing else, so it
measures what the transport alone costs). The benchmark's own clients are the same for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bridge

READY = re.compile(rb"(?:mpac-bridge sidecar|mpac reference server) ready (wss?://\S+)")
HERE = Path(bridge.__file__).resolve().parent.parent  # this checkout's root


@dataclass(frozen=True)
class Target:
    """Whose coordinator a benchmark runs: `kind` is "bridge", "reference" or "floor"."""

    label: str
    python: str = sys.executable
    root: Path = HERE
    kind: str = "bridge"
    sidecar_args: tuple[str, ...] = ()  # more options for its sidecar (bench --sidecar-arg)

    def argv(self, *args: str, python_flags: tuple[str, ...] = ()) -> list[str]:
        return [self.python, *python_flags, "-m", "bridge", *args]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a child process: `bridge` is imported from this target's root."""
        env = {**os.environ, **(extra or {})}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(self.root), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
        )
        return env


WRITER_KEYS = (
    "writer_max_ms",
    "writer_store_ms",
    "writer_lines_ms",
    "writer_entries",
    "disk_waits",
)

THIS = Target("this checkout")
REFERENCE = Target("reference mpac 0.2.13", kind="reference")
FLOOR = Target("floor server", kind="floor")


def other_checkout(path: str, python: str | None = None) -> Target:
    """A target for another checkout (a git worktree of this project): its own .venv's Python when it
    has one (its dependencies may differ), else ours; its `bridge` package either way."""
    root = Path(path).resolve()
    if not (root / "bridge" / "__init__.py").is_file():
        raise ValueError(f"{path} is not a checkout of mpac-bridge (no bridge/__init__.py)")
    venv = root / ".venv" / "bin" / "python"
    chosen = python or (str(venv) if venv.exists() else sys.executable)
    return Target(f"{root.name}", python=chosen, root=root)


def targets_of(
    ab: str | None,
    sidecar_python: str | None,
    ab_python: str | None = None,
    sidecar_args: tuple[str, ...] = (),
) -> list[Target]:
    """The targets a benchmark alternates between: [other, this] with --ab, else [this]. With
    `sidecar_args`, --ab may name this checkout: its default options against these."""
    label = " ".join(["this checkout", *sidecar_args])
    this = Target(label, python=sidecar_python or sys.executable, sidecar_args=sidecar_args)
    if not ab:
        return [this]
    other = other_checkout(ab, ab_python)
    if other.root == this.root:
        if not sidecar_args:
            raise ValueError(f"--ab {ab} is this checkout; give another worktree")
        other = Target("this checkout, default options", python=this.python)
    return [other, this]


def reference_available() -> str | None:
    """None when the reference package can be run, else why not."""
    import importlib.util

    if importlib.util.find_spec("mpac_protocol") is None:
        return "the reference package is not installed (pip install mpac==0.2.13)"
    return None


@dataclass
class Proc:
    proc: asyncio.subprocess.Process
    url: str
    started: float
    ready: float
    target: Target
    watch_path: Path | None = None
    err_path: Path | None = None
    _tmp: Any = field(default=None, repr=False)

    def stderr_text(self) -> str:
        """What the process has written to stderr so far."""
        return (
            self.err_path.read_text(errors="replace")
            if self.err_path and self.err_path.exists()
            else ""
        )

    def _status(self, key: str) -> int:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
        return 0

    def rss_kb(self) -> int:
        return self._status("VmRSS:")

    def hwm_kb(self) -> int:
        """The peak RSS of the process so far (VmHWM)."""
        return self._status("VmHWM:")

    def cpu_times(self) -> tuple[float, float]:
        """(user, system) CPU seconds the process has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def cpu_sec(self) -> float:
        """CPU time (user + system) the process has used so far."""
        return sum(self.cpu_times())

    def stalls(self, since: float = 0.0, until: float = float("inf")) -> dict[str, Any] | None:
        """The loop watch's record between two wall-clock times, summarised; None when this coordinator
        has no loop watch (the reference, or a checkout from before it existed). Stalls over 20 ms
        have exact times; shorter ones come from the once-a-second windows that overlap the range."""
        if self.watch_path is None or not self.watch_path.exists():
            return None
        stalls, windows = [], []
        for line in self.watch_path.read_text().splitlines():
            with contextlib.suppress(ValueError, KeyError):
                row = json.loads(line)
                if "stall_ms" in row and since <= row["t"] <= until:
                    stalls.append(row)
                elif "max_ms" in row and since <= row["t"] <= until + 1.0:
                    windows.append(row)
        if not stalls and not windows:
            return None
        # (stall, CPU, GC) in ms; the GC time is known for stalls over 20 ms from newer watches
        candidates = [(s["stall_ms"], s["cpu_ms"], s.get("gc_ms")) for s in stalls]
        candidates += [
            (w["max_ms"], w["max_cpu_ms"], None) for w in windows if w["max_ms"] <= 20
        ]  # longer ones are exact above
        # none: every overlapping window's worst stall lies outside the range, so inside it none was over 20 ms
        worst = max(candidates, key=lambda c: c[0]) if candidates else (20.0, 0.0, None)
        return {
            "max_ms": worst[0],
            "max_cpu_ms": worst[1],
            "max_gc_ms": worst[2],
            "full_gc_stalls": sum(1 for s in stalls if s.get("gc_gen") == 2),
            "worst_stalls": [
                {
                    k: s.get(k)
                    for k in (
                        "stall_ms",
                        "cpu_ms",
                        "gc_ms",
                        "gc_gen",
                        "loop_cpu_ms",
                        "run_wait_ms",
                        "blocked_in",
                        "fork_ms",
                        "steal_ms",
                        "faults",
                        "threads_cpu_ms",
                    )
                    if k in s
                }
                for s in sorted(stalls, key=lambda s: -s["stall_ms"])[:10]
            ],
            # the longest stall less the time the loop thread waited for a core (a busy machine)
            "max_own_ms": max(
                (s["stall_ms"] - s["run_wait_ms"] for s in stalls if "run_wait_ms" in s),
                default=None,
            ),
            # the longest stall in which the hypervisor did not run something else instead
            # (no `steal_ms`): what the sidecar and this machine's load did by themselves
            "max_without_steal_ms": max(
                [s["stall_ms"] for s in stalls if not s.get("steal_ms")]
                + [w["max_ms"] for w in windows if w["max_ms"] <= 20],
                default=None,
            ),
            "stalls_with_steal": sum(1 for s in stalls if s.get("steal_ms")),
            "max_is_upper_bound": not candidates,
            "over_20ms": len(stalls),
            "over_100ms": sum(1 for s in stalls if s["stall_ms"] > 100),
            "ticks": sum(w["ticks"] for w in windows),
            "stalls_over_20ms_ms": sorted((s["stall_ms"] for s in stalls), reverse=True)[:20],
            # each snapshot's fork (it holds the loop), from the windows
            "forks_ms": [w["fork_ms"] for w in windows if "fork_ms" in w],
            # the journal writer's slowest batch (no answer leaves meanwhile), from the windows
            "writer_slowest": max(
                ({k: w[k] for k in WRITER_KEYS if k in w} for w in windows if "writer_max_ms" in w),
                key=lambda w: w["writer_max_ms"],
                default=None,
            ),
        }

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 60)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._tmp is not None:
            self._tmp.cleanup()


async def start(
    data_dir: Path,
    *args: str,
    target: Target = THIS,
    watch: bool = False,
    env: dict[str, str] | None = None,
    python_flags: tuple[str, ...] = (),
) -> Proc:
    """Start the target's coordinator on an ephemeral loopback port. `args` go to `mpac-bridge sidecar`
    (ignored by the reference and the floor server, which have no such options). `watch` turns on the loop-stall watch."""
    extra = dict(env or {})
    watch_path = None
    tmp = tempfile.TemporaryDirectory(prefix="mpac-bench-proc-")
    if watch and target.kind == "bridge":
        watch_path = Path(tmp.name) / "loop.jsonl"
        extra["MPAC_LOOP_WATCH"] = str(watch_path)
    err_path = Path(tmp.name) / "stderr.log"
    if target.kind == "reference":
        argv = [
            target.python,
            *python_flags,
            "-m",
            "bridge.bench.refserver",
            "--session-id",
            _session_of(args),
        ]
    elif target.kind == "floor":
        argv = [target.python, *python_flags, "-m", "bridge.bench.floorserver"]
    else:
        argv = target.argv(
            "sidecar",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--log-level",
            "WARNING",
            *args,
            *target.sidecar_args,
            python_flags=python_flags,
        )
    started = time.perf_counter()
    with open(err_path, "wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            env=target.env(extra),
            cwd=str(target.root),
        )
    assert proc.stdout is not None
    try:
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not line:
                tail = err_path.read_text(errors="replace")[-1500:]
                raise RuntimeError(
                    f"{target.label}: the coordinator exited before it was ready ({' '.join(argv)}): {tail}"
                )
            m = READY.search(line)
            if m:
                asyncio.get_running_loop().create_task(_drain(proc))
                return Proc(
                    proc,
                    m.group(1).decode(),
                    started,
                    time.perf_counter(),
                    target,
                    watch_path,
                    err_path,
                    tmp,
                )
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        tmp.cleanup()
        raise


def _session_of(args: tuple[str, ...]) -> str:
    return args[args.index("--session-id") + 1] if "--session-id" in args else "bench"


async def _drain(proc: asyncio.subprocess.Process) -> None:
    """Read what the coordinator prints after its ready line, so a full pipe never blocks it."""
    assert proc.stdout is not None
    with contextlib.suppress(Exception):
        while await proc.stdout.readline():
            pass

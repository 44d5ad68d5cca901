"""Event-loop stall watch, for measurements (`mpac-bridge bench stall`, `bench wire`).

Off unless the environment variable MPAC_LOOP_WATCH names a file: the sidecar then schedules a
callback every 10 ms and measures how late it runs. A callback that runs 800 ms late means that
for 800 ms no connection was served (a snapshot, a long handler, a blocking write, or the
process not being scheduled at all). It appends JSON lines to the file: each stall over 20 ms
as it ends, and once a second a summary of the last window:

    {"t": <wall clock at the end of the stall>, "stall_ms": x, "cpu_ms": y, "gc_ms": z, "gc_gen": g,
     "loop_cpu_ms": c, "run_wait_ms": w, "blocked_in": {"S futex_wait_queue": 12, ...}, ...}
    {"t": <wall clock at the end of the window>, "ticks": n, "max_ms": x, "max_cpu_ms": y,
     "over_20ms": k, "over_100ms": j, "fork_ms": f, "writer_max_ms": w, ...}

A stall line:
- `cpu_ms`: the CPU time the process used during the stall: close to the stall when the sidecar
  itself was busy, much less when it was blocked on I/O or descheduled by a busy machine.
- `gc_ms`, `gc_gen`: the time the garbage collector ran meanwhile (from `gc.callbacks`) and the
  oldest generation it collected (2: a full collection), or -1 when it did not run.
- Where Linux gives `/proc/thread-self/schedstat`: `loop_cpu_ms`, the loop thread's own CPU time;
  `run_wait_ms`, the time it was ready to run but waited for a core (a busy machine, not the
  sidecar); `faults`, its minor page faults (after a snapshot's fork: pages copied on write);
  `threads_cpu_ms`, the CPU the other threads used (by thread name, approximate: read ten times
  a second).
- `blocked_in`: a thread samples the loop thread's state and kernel wait channel every 2 ms (R
  running, S sleeping, D waiting for the disk, then " in <file>" when the syscall names one;
  `futex_wait_queue` is a lock or the GIL, `balance_dirty_pages` the kernel slowing a writer; no
  samples at all: another thread held the GIL, or the loop thread did while blocked).
- `fork_ms`: the time spent forking a snapshot's child during the stall (the fork holds the GIL).
- `steal_ms`: the time the hypervisor gave this machine's CPUs to someone else during the stall
  (all CPUs together, from `/proc/stat`, in steps of 10 ms). A stall with steal and neither CPU
  nor waits of our own was the virtual machine not running at all.

A window line:
- `fork_ms` (when a snapshot was forked in the window): the time the fork took, stall or not.
- `writer_max_ms`, `writer_store_ms`, `writer_lines_ms`, `writer_entries`: the journal writer
  thread's slowest batch in the window (its time in all, in the store's commit, appending audit
  lines, and the entries it held). While it runs, the loop goes on but no later answer leaves.
- `disk_waits`: by thread and wait channel, the 2 ms samples in which one of the threads that
  write to disk (the journal's writer, the checkpointer, the snapshot's worker) waited for it.

The readers (the benchmarks) filter the lines by time to attribute stalls to a phase. When the
variable is unset nothing is imported or scheduled.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import threading
import time
from collections import Counter
from typing import IO

from bridge.server import journalwriter, snapfork

ENV = "MPAC_LOOP_WATCH"
TICK_SEC = 0.01
WINDOW_SEC = 1.0
STALL_LINE_SEC = 0.020  # stalls longer than this get a line of their own
# threads that write to disk (the journal's writer, the WAL checkpointer, the snapshot's worker),
# by name prefix: their waits for the disk are counted too (`disk_waits`)
DISK_THREADS = ("mpac-journal", "mpac-wal-checkpoint", "asyncio_")


class LoopWatch:
    def __init__(self, out: IO[str], tick: float = TICK_SEC, window: float = WINDOW_SEC) -> None:
        self.out, self.tick, self.window = out, tick, window
        self.loop = asyncio.get_running_loop()
        self.handle: asyncio.TimerHandle | None = None
        self._reset(self.loop.time())
        self.last_cpu = time.process_time()
        self.due = self.loop.time() + tick
        self.gc_sec = 0.0  # collector time since the last tick
        self.gc_gen = -1  # the oldest generation collected since the last tick
        self._gc_started = 0.0
        gc.callbacks.append(self._on_gc)
        self.last_sched = _schedstat()
        self.last_steal = steal_ms()
        self.forked_ns = self.window_forked_ns = snapfork.fork_ns
        self.threads_cpu = _threads_cpu()
        self.samples: Counter[str] = Counter()  # the loop thread's state since the last tick
        self.disk_samples: Counter[str] = Counter()  # disk waits of DISK_THREADS in the window
        self._sampling = threading.Event()
        self._sampler = threading.Thread(
            target=self._sample, args=(threading.get_native_id(),), daemon=True
        )
        self._sampler.start()

    def _sample(self, tid: int) -> None:
        base = f"/proc/self/task/{tid}/"
        others: dict[str, int] = {}
        n = 0
        while not self._sampling.wait(0.002):
            state = _thread_state(base)
            if state is None:
                return  # not Linux, or the thread is gone
            self.samples[state] += 1
            if n % 50 == 0:  # the threads that write to disk, looked up ten times a second
                others = {
                    t.name: t.native_id
                    for t in threading.enumerate()
                    if t.native_id is not None and t.name.startswith(DISK_THREADS)
                }
            n += 1
            for name, other in others.items():
                state = _thread_state(f"/proc/self/task/{other}/", disk_only=True)
                if state:
                    self.disk_samples[f"{name} {state}"] += 1

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_sec += time.perf_counter() - self._gc_started
            self.gc_gen = max(self.gc_gen, info.get("generation", -1))

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
        sched = _schedstat()
        steal = steal_ms()
        if lag > STALL_LINE_SEC:
            self.over_20 += 1
            row: dict[str, object] = {
                "t": round(time.time(), 3),
                "stall_ms": round(lag * 1000, 3),
                "cpu_ms": round((cpu - self.last_cpu) * 1000, 3),
                "gc_ms": round(self.gc_sec * 1000, 3),
                "gc_gen": self.gc_gen,
            }
            if sched is not None and self.last_sched is not None:
                row["loop_cpu_ms"] = round((sched[0] - self.last_sched[0]) / 1e6, 3)
                row["run_wait_ms"] = round((sched[1] - self.last_sched[1]) / 1e6, 3)
                row["faults"] = sched[2] - self.last_sched[2]
            threads = _threads_cpu()  # who else used the CPU meanwhile (ms, over 1 ms only)
            busy = {
                name: round((ns - self.threads_cpu.get(name, 0)) / 1e6, 1)
                for name, ns in threads.items()
                if ns - self.threads_cpu.get(name, 0) > 1_000_000
            }
            if busy:
                row["threads_cpu_ms"] = busy
            if steal is not None and self.last_steal is not None and steal > self.last_steal:
                row["steal_ms"] = steal - self.last_steal
            if snapfork.fork_ns != self.forked_ns:  # a snapshot's fork (it holds the GIL)
                row["fork_ms"] = round((snapfork.fork_ns - self.forked_ns) / 1e6, 3)
            if self.samples:
                row["blocked_in"] = dict(self.samples.most_common(4))
            self.out.write(json.dumps(row) + "\n")
        self.last_sched, self.last_steal = sched, steal
        self.forked_ns = snapfork.fork_ns
        if lag > STALL_LINE_SEC or self.ticks % 10 == 0:  # cheap enough: ten times a second
            self.threads_cpu = _threads_cpu()
        self.samples = Counter()
        self.over_100 += lag > 0.100
        self.last_cpu = cpu
        self.gc_sec, self.gc_gen = 0.0, -1
        if now - self.window_start >= self.window:
            self._emit(now)
        self.due = now + self.tick
        self.handle = self.loop.call_at(self.due, self._tick)

    def _emit(self, now: float) -> None:
        if self.ticks:
            row: dict[str, object] = {
                "t": round(time.time(), 3),
                "ticks": self.ticks,
                "max_ms": round(self.max_lag * 1000, 3),
                "max_cpu_ms": round(self.max_cpu * 1000, 3),
                "over_20ms": self.over_20,
                "over_100ms": self.over_100,
            }
            if snapfork.fork_ns != self.window_forked_ns:  # every snapshot's fork, stall or not
                row["fork_ms"] = round((snapfork.fork_ns - self.window_forked_ns) / 1e6, 3)
            if self.disk_samples:
                row["disk_waits"] = dict(self.disk_samples.most_common(4))
                self.disk_samples = Counter()
            took, store, lines, entries = journalwriter.take_slowest()
            if took:
                row["writer_max_ms"] = round(took / 1e6, 3)
                row["writer_store_ms"] = round(store / 1e6, 3)
                row["writer_lines_ms"] = round(lines / 1e6, 3)
                row["writer_entries"] = entries
            self.out.write(json.dumps(row) + "\n")
            self.out.flush()
        self.window_forked_ns = snapfork.fork_ns
        self._reset(now)

    def stop(self) -> None:
        self._sampling.set()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self._emit(self.loop.time())
        self.out.close()


# syscalls whose first argument is a file descriptor: read, write, pread64, pwrite64, fsync,
# fdatasync, ftruncate, fallocate (x86-64 numbers; elsewhere no file is named)
_FD_CALLS = {0, 1, 17, 18, 74, 75, 77, 285}


def _file_of(base: str) -> str:
    """ " in <file name>" for a thread blocked in a syscall on a file, else ""."""
    try:
        with open(base + "syscall", "rb") as f:
            fields = f.read().split()
        if not fields or not fields[0].isdigit() or int(fields[0]) not in _FD_CALLS:
            return ""
        target = os.readlink(f"/proc/self/fd/{int(fields[1], 16)}")
    except (OSError, ValueError, IndexError):
        return ""
    return " in " + os.path.basename(target)


def _thread_state(base: str, disk_only: bool = False) -> str | None:
    """ "<state> <wait channel>" of the thread at `base`, with " in <file>" when it waits for the
    disk (D); None when it cannot be read (gone, not Linux). `disk_only`: "" unless in D, and the
    wait channel is then not even read."""
    try:
        with open(base + "stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0].decode()
        if disk_only and state != "D":
            return ""
        with open(base + "wchan", "rb") as f:
            wchan = f.read().decode() or "-"
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    return f"{state} {wchan}" + (_file_of(base) if state == "D" else "")


def _threads_cpu() -> dict[str, int]:
    """ns on a CPU of each of this process's threads but the calling one, by Python thread name
    (the native id for a thread Python did not start)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    me = threading.get_native_id()
    out: dict[str, int] = {}
    try:
        for tid in os.listdir("/proc/self/task"):
            if int(tid) == me:
                continue
            with open(f"/proc/self/task/{tid}/schedstat", "rb") as f:
                out[names.get(int(tid), tid)] = int(f.read().split()[0])
    except (OSError, ValueError):
        pass
    return out


def _schedstat() -> tuple[int, int, int] | None:
    """(ns on a CPU, ns waiting for one, minor page faults) of the calling thread, or None off
    Linux. Minor faults count, among others, the pages copied after a fork (copy-on-write)."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            on_cpu, waiting, _ = f.read().split()
        with open("/proc/thread-self/stat", "rb") as f:
            minflt = f.read().rsplit(b")", 1)[1].split()[7]
        return int(on_cpu), int(waiting), int(minflt)
    except (OSError, ValueError, IndexError):
        return None


_TICK_MS = 1000 // (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


def steal_ms() -> int | None:
    """Steal time of all CPUs so far (ms), or None where /proc/stat does not give it."""
    try:
        with open("/proc/stat", "rb") as f:
            return int(f.readline().split()[8]) * _TICK_MS
    except (OSError, ValueError, IndexError):
        return None


def start_from_env() -> LoopWatch | None:
    """A started watch when MPAC_LOOP_WATCH names a file (appended to), else None."""
    path = os.environ.get(ENV)
    if not path:
        return None
    watch = LoopWatch(open(path, "a", encoding="utf-8"))  # noqa: SIM115 - closed by stop()
    watch.start()
    return watch

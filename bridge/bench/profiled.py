"""Run `mpac-bridge sidecar` with cProfile switched on by SIGUSR1 and off (and written) by SIGUSR2.

A benchmark helper for `bench profile`: profiling only the measured window leaves the imports and
the start-up out. Usage: python -m bridge.bench.profiled OUT.prof -- sidecar [options...]
"""

from __future__ import annotations

import cProfile
import os
import pstats
import signal
import sys
import threading
import time
from typing import Any


def main(argv: list[str]) -> int:
    out, rest = argv[0], [a for a in argv[1:]]
    while rest and rest[0] in (
        "--",
        "-m",
        "bridge",
    ):  # launch.start puts `-m bridge` before the subcommand
        rest.pop(0)
    # Each thread's own CPU time, not wall time: on a shared machine, time the process spends
    # descheduled would otherwise be charged to whatever function was running (often a socket
    # send), and process time would charge the journal thread's work to the loop's functions.
    prof = cProfile.Profile(time.thread_time)
    # The journal's commits run in their own thread (bridge/server/journalwriter.py), which a
    # profiler enabled in the main thread does not see: each batch is profiled there, under a lock
    # that the dump takes, so the two profiles are merged whole.
    from bridge.server import journalwriter

    writer_prof = cProfile.Profile(time.thread_time)
    writer_lock = threading.Lock()
    active = [False]
    commit = journalwriter.JournalWriter._commit

    def profiled_commit(self: journalwriter.JournalWriter, batch: list[Any]) -> None:
        if not active[0]:
            return commit(self, batch)
        with writer_lock:
            writer_prof.enable()
            try:
                return commit(self, batch)
            finally:
                writer_prof.disable()

    journalwriter.JournalWriter._commit = profiled_commit  # type: ignore[method-assign]

    def on(*_: Any) -> None:
        active[0] = True
        prof.enable()

    def off(*_: Any) -> None:
        prof.disable()
        active[0] = False
        with writer_lock:
            stats = pstats.Stats(prof)
            if writer_prof.getstats():
                stats.add(writer_prof)
        stats.dump_stats(out + ".tmp")
        os.replace(out + ".tmp", out)  # readers see the whole file or none

    signal.signal(signal.SIGUSR1, on)
    signal.signal(signal.SIGUSR2, off)
    from bridge.cli import main as cli_main

    return cli_main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

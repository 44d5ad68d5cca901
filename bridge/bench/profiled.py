"""Run `mpac-bridge sidecar` with cProfile switched on by SIGUSR1 and off (and written) by SIGUSR2.

A benchmark helper for `bench profile`: profiling only the measured window leaves the imports and
the start-up out. Usage: python -m bridge.bench.profiled OUT.prof -- sidecar [options...]
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
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
    # CPU time, not wall time: on a shared machine, time the process spends descheduled would
    # otherwise be charged to whatever function was running (often a socket send)
    prof = cProfile.Profile(time.process_time)

    def on(*_: Any) -> None:
        prof.enable()

    def off(*_: Any) -> None:
        prof.disable()
        prof.dump_stats(out + ".tmp")
        os.replace(out + ".tmp", out)  # readers see the whole file or none

    signal.signal(signal.SIGUSR1, on)
    signal.signal(signal.SIGUSR2, off)
    from bridge.cli import main as cli_main

    return cli_main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

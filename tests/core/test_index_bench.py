"""The index benchmark script runs and prints one row per size (shape only, no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_index.py"


def test_bench_index_script_runs() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split() for line in out.stdout.splitlines()[1:] if line.strip()]
    assert [r[0] for r in rows] == ["10", "1000", "10000"]
    assert all(len(r) == 5 and all(float(v) > 0 for v in r[1:]) for r in rows)

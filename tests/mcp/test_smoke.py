"""`mpac-bridge smoke all` passes on a scratch copy (the seed's smoke checks, event-driven)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_smoke_all_passes(repo_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "smoke", "all", "--workspace", str(repo_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("PASS") == 5
    assert not (repo_path / "smoke.txt").exists()  # the user's repository is untouched

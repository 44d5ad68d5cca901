"""`mpac-bridge demo` runs end to end: real sidecar, real files, exit 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_demo_passes_and_tells_the_story() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "demo", "--no-color"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    for line in (
        "blocked: STALE_INTENT",
        "INTENT_DEFERRED resolved",
        "refused on disk: the file changed",
        "refused: STALE_STATE_REF",
        "refused: AUTHORIZATION_FAILED",
        "RESOLUTION accepted",
        "INTENT_BACKOFF",
        "carol-pricing is SUSPENDED",
        "INTENT_CLAIM pending",
        "INTENT_CLAIM_STATUS approved",
        "demo passed",
    ):
        assert line in text, line
    # It names the scratch repository at the start and, since it deleted it, says so at the end.
    scratch = Path(re.search(r"scratch repository (\S+)", text).group(1))  # type: ignore[union-attr]
    assert not scratch.exists()
    assert text.rstrip().endswith(
        "scratch repository removed (run with --keep to look at it afterwards)"
    )


def test_symbols_scenario_shows_claims_on_functions_and_merges() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "demo", "--scenario", "symbols", "--no-color"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    for line in (
        "claims shop/cart.py::subtotal",
        "merged into the current file",
        "imports cleanly",
        "4 agents began at once, 4 changes landed in one round (3 merged)",
        "blocked: held by agent:alice",
        "stale: conflict at line",
        "the file is exactly as alice wrote it",
        "demo passed",
    ):
        assert line in text, line

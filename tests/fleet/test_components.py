"""Missing PostgreSQL or nginx: a skip that names what to install, and a failure under
MPAC_REQUIRE_COMPONENTS=1 (what .ci/run sets), so CI cannot pass by skipping the fleet tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_run(test: str, **env: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsfE", "-p", "no:cacheprovider", test],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    return res.stdout + res.stderr


@pytest.mark.parametrize(
    ("test", "var", "hint"),
    [
        (
            "tests/store/test_postgres.py::test_renewal_reports_leases_taken_over",
            "MPAC_PG_BINDIR",
            "apt-get install postgresql-15",
        ),
        (
            "tests/fleet/test_docs_config.py::test_the_shipped_config_is_valid_nginx",
            "MPAC_NGINX",
            "apt-get install nginx",
        ),
    ],
)
def test_a_missing_component_skips_outside_ci_and_fails_in_ci(
    test: str, var: str, hint: str
) -> None:
    out = pytest_run(test, **{var: "/nonexistent", "MPAC_REQUIRE_COMPONENTS": "0"})
    assert "SKIPPED [1]" in out and hint in out, out
    out = pytest_run(test, **{var: "/nonexistent", "MPAC_REQUIRE_COMPONENTS": "1"})
    assert ("FAILED" in out or "ERROR" in out) and "SKIPPED" not in out, out
    assert "MPAC_REQUIRE_COMPONENTS=1" in out and hint in out, out

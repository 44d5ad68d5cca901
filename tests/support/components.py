"""Real PostgreSQL and nginx for the fleet tests, started by the tests themselves.

Where a component is missing the test skips with a message naming what to install, except when
MPAC_REQUIRE_COMPONENTS=1 (set by .ci/run): then it fails, so CI never passes by skipping.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

REQUIRED = os.environ.get("MPAC_REQUIRE_COMPONENTS") == "1"


def missing(what: str) -> None:
    """Skip (or fail in CI) because `what` is not available."""
    if REQUIRED:
        pytest.fail(
            f"{what} (MPAC_REQUIRE_COMPONENTS=1: component tests must run here)", pytrace=False
        )
    pytest.skip(what)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL cluster for the whole run (fsync off: the tests are about what
    the database accepts, not about the disk), stopped and deleted at the end."""
    try:
        import psycopg  # noqa: F401

        from bridge.bench.pgcluster import PgMissing, make_cluster
    except ImportError:
        missing("psycopg is not installed: pip install 'mpac-bridge[postgres]'")
    try:
        cluster = make_cluster(
            {"fsync": "off", "max_connections": "200"},
            hba=["host all mpac_pw 127.0.0.1/32 scram-sha-256"],
        )
    except PgMissing as exc:
        missing(str(exc))
    try:
        yield cluster
    finally:
        cluster.destroy()


_dbs = itertools.count(1)


@pytest.fixture
def pg_url(pg_cluster: object) -> str:
    """A fresh, empty database on the shared cluster for this test."""
    return pg_cluster.create_database(f"t{os.getpid()}_{next(_dbs)}")  # type: ignore[attr-defined]

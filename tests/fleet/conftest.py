"""Fixtures of the fleet tests: a fresh database on the shared PostgreSQL cluster per test, and nginx."""

from __future__ import annotations

import pytest

from tests.support.components import missing


@pytest.fixture
def nginx_ok() -> None:
    from bridge.bench.nginxproc import INSTALL_HINT, find_nginx

    if find_nginx() is None:
        missing(f"nginx not found: {INSTALL_HINT}")


@pytest.fixture
def own_pg() -> object:
    """A PostgreSQL cluster of this test's own (it is stopped and restarted by the test), with a
    password-protected role `mpac` (scram-sha-256) owning database `fleet`."""
    try:
        import psycopg  # noqa: F401

        from bridge.bench.pgcluster import PgMissing, make_cluster
    except ImportError:
        missing("psycopg is not installed: pip install 'mpac-bridge[postgres]'")
    try:
        cluster = make_cluster({"fsync": "off"}, hba=["host all mpac 127.0.0.1/32 scram-sha-256"])
    except PgMissing as exc:
        missing(str(exc))
    try:
        cluster.psql(f"CREATE ROLE mpac LOGIN PASSWORD '{PASSWORD}'")
        cluster.psql("CREATE DATABASE fleet OWNER mpac")
        yield cluster
    finally:
        cluster.destroy()


PASSWORD = "Fl33t-pa55w0rd-never-logged"

"""Fixtures of the fleet tests: a fresh database on the shared PostgreSQL cluster per test, and nginx."""

from __future__ import annotations

import pytest

from tests.support.components import missing


@pytest.fixture
def nginx_ok() -> None:
    from bridge.bench.nginxproc import INSTALL_HINT, find_nginx

    if find_nginx() is None:
        missing(f"nginx not found: {INSTALL_HINT}")

"""Suite-wide fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.sidecar import reap


@pytest.fixture(autouse=True)
def _no_sidecar_outlives_its_test() -> Iterator[None]:
    """A test that fails before stopping its sidecar must not leave the process running."""
    yield
    reap()


from tests.support.components import pg_cluster, pg_url  # noqa: E402, F401  (fixtures)

"""Suite-wide fixtures, and the Hypothesis profile every property test runs under."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.support.sidecar import reap

# No timing in the default suite: on a busy machine an example may take seconds, and that says
# nothing about correctness (speed is measured by `mpac-bridge bench`). Hypothesis's per-example
# deadline and its too_slow health check are timings, so the suite turns both off; the health
# checks about the data itself stay on. Loaded here, before any test module is imported, so a
# test's own @settings(max_examples=...) inherits it. HYPOTHESIS_PROFILE=default restores
# Hypothesis's defaults for a local hunt for slow examples.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(autouse=True)
def _no_sidecar_outlives_its_test() -> Iterator[None]:
    """A test that fails before stopping its sidecar must not leave the process running."""
    yield
    reap()


from tests.support.components import pg_cluster, pg_url  # noqa: E402, F401  (fixtures)

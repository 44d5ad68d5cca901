"""The sidecar's event loop: uvloop when installed (the `fast` extra), asyncio's own otherwise, and
MPAC_EVENT_LOOP to choose (issue 17)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.client import SessionClient
from bridge.server.eventloop import VAR, choose
from tests.support.sidecar import sidecar

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_asyncio_when_asked_for() -> None:
    assert choose({VAR: "asyncio"}) == ("asyncio", None)


def test_auto_takes_uvloop_exactly_when_it_is_installed() -> None:
    name, factory = choose({})
    assert name == ("uvloop" if HAVE_UVLOOP else "asyncio")
    assert (factory is not None) == HAVE_UVLOOP


def test_an_unknown_choice_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="auto, asyncio, uvloop, not 'tokio'"):
        choose({VAR: "tokio"})


@pytest.mark.skipif(HAVE_UVLOOP, reason="uvloop is installed here")
def test_uvloop_asked_for_but_missing_says_how_to_install_it() -> None:
    with pytest.raises(ValueError, match=r"pip install 'mpac-bridge\[fast\]'"):
        choose({VAR: "uvloop"})


def test_the_sidecar_refuses_a_bad_choice_with_a_clear_error(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "sidecar", "--data-dir", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        env={**os.environ, VAR: "tokio"},
        timeout=60,
    )
    assert out.returncode == 2
    assert "MPAC_EVENT_LOOP must be one of auto, asyncio, uvloop" in out.stderr


@pytest.mark.e2e
@pytest.mark.parametrize(
    "loop",
    [
        "asyncio",
        pytest.param(
            "uvloop", marks=pytest.mark.skipif(not HAVE_UVLOOP, reason="uvloop not installed")
        ),
    ],
)
async def test_the_sidecar_serves_on_the_chosen_loop(tmp_path: Path, loop: str) -> None:
    async with sidecar(
        "--session-id", "loop", "--log-level", "INFO", data_dir=tmp_path, env={VAR: loop}
    ) as sc:
        client = SessionClient(sc.url, "agent:a", session_id="loop")
        await client.connect()
        reply = await client.announce("edit a", ["a.py"], intent_id="i-a")
        assert reply.ok
        await client.close()
        log = sc.stderr_path.read_text()
    assert f"event loop: {loop}" in log
    # the modules loaded at start are out of every later full collection (issue 17: stalls)
    settled = re.search(r"heap settled: (\d+) objects frozen", log)
    assert settled is not None and int(settled.group(1)) > 10_000

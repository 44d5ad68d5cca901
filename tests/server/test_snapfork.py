"""The forked snapshot writer (issue 17): the child streams exactly the snapshot's JSON text, and a
child that fails gives an error, never a truncated snapshot."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.server import snapfork

pytestmark = pytest.mark.skipif(not snapfork.AVAILABLE, reason="needs os.fork")


def test_the_child_streams_the_json_text_of_the_state_as_it_was() -> None:
    state: dict[str, Any] = {"intents": [{"id": n, "objective": "é" * n} for n in range(500)]}
    expected = json.dumps(state, separators=(",", ":"))
    pid, fd = snapfork.fork(lambda: state, size=1000)
    state["intents"].clear()  # the parent moves on; the child has its own copy
    try:
        text = "".join(snapfork.pieces(fd))
    finally:
        code = snapfork.reap(pid, fd)
    assert text == expected and code == 0


def test_a_failing_child_gives_an_error_not_a_short_snapshot() -> None:
    def build() -> dict[str, Any]:
        raise RuntimeError("boom")

    pid, fd = snapfork.fork(build)
    try:
        with pytest.raises(OSError, match="before its snapshot was complete"):
            "".join(snapfork.pieces(fd))
    finally:
        assert snapfork.reap(pid, fd) == 1

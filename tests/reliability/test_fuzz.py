"""Fuzz: random and mutated frames at a live sidecar. The process never dies, every frame gets a
PROTOCOL_ERROR or a clean close with a reason, and memory stays bounded."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.protocol.examples import VALID, envelope

SID = "fuzz"
EXAMPLES = int(os.environ.get("MPAC_FUZZ_EXAMPLES", "300"))  # `make soak` raises it
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=40,
)
odd_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
frames = st.one_of(
    json_values.map(json.dumps),
    odd_text,
    st.builds(
        lambda t, f, v: json.dumps({**envelope(t, session_id=SID), f: v}),
        st.sampled_from(sorted(VALID)),
        st.sampled_from(
            ["payload", "sender", "ts", "message_type", "version", "watermark", "session_id"]
        ),
        json_values,
    ),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(50, 3000)),
    st.builds(
        lambda n: json.dumps({"protocol": "MPAC", "junk": "x" * n}), st.integers(1000, 200_000)
    ),
)


class Live:
    def __init__(self, proc: subprocess.Popen, url: str) -> None:
        self.proc, self.url = proc, url
        # no keepalive thread: its pings draw from `random` while Hypothesis generates frames
        self.ws = contextlib.ExitStack().enter_context(
            connect(url, max_size=None, ping_interval=None)
        )
        self.ws.send(
            json.dumps(
                dict(envelope("HELLO", {"display_name": "fuzzer"}), session_id=SID, ts=_ts())
            )
        )
        while json.loads(self.ws.recv(timeout=10))["message_type"] != "SESSION_INFO":
            pass
        self.sent = 0

    def rss_kb(self) -> int:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))  # type: ignore[union-attr]


def _ts() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("fuzz")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridge",
            "sidecar",
            "--session-id",
            SID,
            "--port",
            "0",
            "--data-dir",
            str(data),
            "--rate",
            "1000000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    url = None
    for line in proc.stdout:
        m = re.search(r"ready (ws://\S+)", line)
        if m:
            url = m.group(1)
            break
    assert url
    box = Live(proc, url)
    box.rss_start = box.rss_kb()  # type: ignore[attr-defined]
    yield box
    proc.terminate()
    proc.wait(timeout=15)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(frame=frames)
def test_every_frame_gets_an_answer_and_the_sidecar_survives(live: Live, frame: str) -> None:
    try:
        live.ws.send(frame)
        answer = json.loads(live.ws.recv(timeout=10))
        assert answer["message_type"] in (
            "PROTOCOL_ERROR",
            "INTENT_ANNOUNCE",
            "INTENT_UPDATE",
            "INTENT_WITHDRAW",
            "INTENT_DEFERRED",
            "OP_COMMIT",
            "OP_PROPOSE",
            "OP_REJECT",
            "CONFLICT_REPORT",
            "CONFLICT_ACK",
            "RESOLUTION",
            "HELLO",
            "GOODBYE",
            "INTENT_CLAIM",
            "INTENT_CLAIM_STATUS",
            "COORDINATOR_STATUS",
            "OP_BATCH_COMMIT",
            "OP_SUPERSEDE",
            "CONFLICT_ESCALATE",
            "SESSION_INFO",
        )
    except ConnectionClosed as exc:  # a clean close must carry a reason
        assert exc.rcvd is not None and exc.rcvd.code in (1008, 1009) and exc.rcvd.reason
        live.ws = Live(live.proc, live.url).ws
    except TimeoutError:
        pass  # a valid frame that produces nothing for this sender (e.g. a HEARTBEAT) is fine
    live.sent += 1
    assert live.proc.poll() is None, "the sidecar died"


def test_memory_stayed_bounded(live: Live) -> None:
    growth = live.rss_kb() - live.rss_start  # type: ignore[attr-defined]
    print(f"\nfuzz: {live.sent} bad or odd frames, sidecar alive, RSS growth {growth} KiB")
    assert live.proc.poll() is None
    assert growth < 64 * 1024

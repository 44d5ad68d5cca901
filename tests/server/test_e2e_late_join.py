"""A client joining a session whose live state replays to more than the slow-consumer limit gets
the whole replay; it is not cut off as a slow consumer before it could read any of it (issue 17).

The limit is configured small (--max-backlog, --send-queue) so the replay that exceeds it stays
small too; the default 8 MiB limit behaves the same with about 1,000 intents of 8 KiB.
"""

from __future__ import annotations

import pytest

from bridge.client import SessionClient
from tests.support.sidecar import sidecar

SID = "latejoin"
LIMIT = 64 * 1024
INTENTS = 40  # each replayed with a 4 kB objective: about 3 x LIMIT in all, and > --send-queue


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "compressed"])
async def test_a_late_joiner_gets_a_replay_bigger_than_the_backlog_limit(
    tmp_path, compress: bool
) -> None:
    flags = ("--compress",) if compress else ()
    async with sidecar(
        "--session-id",
        SID,
        "--max-backlog",
        str(LIMIT),
        "--send-queue",
        "16",
        "--rate",
        "100000",
        *flags,
        data_dir=tmp_path,
    ) as sc:
        loader = SessionClient(sc.url, "agent:loader", session_id=SID)
        await loader.connect()
        objective = "x" * 4000
        for n in range(INTENTS):
            assert (await loader.announce(f"{n} {objective}", [f"f{n}.py"], intent_id=f"i{n}")).ok
        late = SessionClient(sc.url, "agent:late", session_id=SID)
        await late.connect()
        assert await late.wait_until(lambda v: len(v.intents) == INTENTS, 10)
        # still connected and served afterwards, and nobody was cut off
        assert (await late.announce("after the replay", ["late.py"], intent_id="late1")).ok
        assert await loader.wait_until(lambda v: "late1" in v.intents, 10)
        assert "slow consumer" not in sc.stderr_path.read_text()
        await late.close()
        await loader.close()

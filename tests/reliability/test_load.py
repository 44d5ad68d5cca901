"""Load: many clients churn announce, commit and withdraw; every broadcast arrives exactly once and in
order, with no errors, and the sidecar's memory stays bounded. `make soak` runs the big version."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.core.helpers import msg
from tests.support.sidecar import start_sidecar

SID = "load"


async def churn(tmp_path: Path, clients: int, rounds: int, *extra: str) -> dict:
    sc = await start_sidecar(
        "--session-id", SID, "--rate", "100000", "--send-queue", "100000", *extra, data_dir=tmp_path
    )
    try:
        sockets = []
        for n in range(clients):
            ws = await connect(sc.url, max_size=None, max_queue=None)
            await ws.send(
                json.dumps(
                    msg("HELLO", f"agent:l{n}", {"display_name": f"l{n}"}, session=SID, now=_now())
                )
            )
            while json.loads(await ws.recv())["message_type"] != "SESSION_INFO":
                pass
            sockets.append(ws)
        received: list[list[dict]] = [[] for _ in range(clients)]
        waiting: list[dict[str, asyncio.Future]] = [{} for _ in range(clients)]
        expected = {
            f"agent:l{i}-{r}-{t}"
            for i in range(clients)
            for r in range(rounds)
            for t in ("INTENT_ANNOUNCE", "OP_COMMIT", "INTENT_WITHDRAW")
        }
        seen = [0] * clients
        complete = asyncio.Event()
        acked = 0
        total = clients * rounds * 3
        rss_first = sc.rss_kb()
        rss_tenth = None

        async def reader(i: int) -> None:
            async for raw in sockets[i]:
                m = json.loads(raw)
                received[i].append(m)
                fut = waiting[i].pop(m.get("message_id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(m)
                if m.get("message_id") in expected:
                    seen[i] += 1
                    if all(n >= len(expected) for n in seen):
                        complete.set()

        readers = [asyncio.create_task(reader(i)) for i in range(clients)]

        async def worker(i: int) -> None:
            nonlocal acked, rss_tenth
            pid = f"agent:l{i}"
            for r in range(rounds):
                iid = f"{pid}-{r}"
                for mtype, payload in (
                    # one file per client, edited round after round: a repository has finitely many files,
                    # and the coordinator keeps the last commit of each one
                    (
                        "INTENT_ANNOUNCE",
                        {
                            "intent_id": iid,
                            "objective": "load",
                            "scope": {"kind": "file_set", "resources": [f"{pid}.py"]},
                        },
                    ),
                    (
                        "OP_COMMIT",
                        {
                            "op_id": f"op-{iid}",
                            "intent_id": iid,
                            "target": f"{pid}.py",
                            "op_kind": "replace",
                            "state_ref_before": f"sha256:{r - 1}" if r else None,
                            "state_ref_after": f"sha256:{r}",
                        },
                    ),
                    ("INTENT_WITHDRAW", {"intent_id": iid}),
                ):
                    m = msg(mtype, pid, payload, session=SID, now=_now(), mid=f"{iid}-{mtype}")
                    ack = asyncio.get_running_loop().create_future()
                    waiting[i][m["message_id"]] = ack
                    await sockets[i].send(json.dumps(m))
                    await asyncio.wait_for(ack, 30)  # the relay of our own message is the ack
                    acked += 1
                    if rss_tenth is None and acked >= total // 10:
                        rss_tenth = (
                            sc.rss_kb()
                        )  # the baseline: memory after the first tenth

        await asyncio.gather(*(worker(i) for i in range(clients)))
        try:
            await asyncio.wait_for(complete.wait(), 60)
            ok = True
        except TimeoutError:
            ok = False
        rss_last = sc.rss_kb()
        for ws in sockets:
            await ws.close()
        for t in readers:
            t.cancel()
        errors = [m for r in received for m in r if m["message_type"] == "PROTOCOL_ERROR"]
        per_client = []
        for r in received:
            ids = [m["message_id"] for m in r if m["message_id"] in expected]
            per_client.append((len(ids), len(set(ids)), ids))
        return {
            "ok": ok,
            "acked": acked,
            "errors": errors,
            "per_client": per_client,
            "expected": expected,
            "rss_first": rss_first,
            "rss_tenth": rss_tenth or rss_first,
            "rss_last": rss_last,
        }
    finally:
        await sc.stop()


def _now() -> float:
    import time

    return time.time()


def check(result: dict, label: str) -> None:
    expected = result["expected"]
    print(
        f"\n{label}: {len(expected)} messages acknowledged, delivered to {len(result['per_client'])} clients, "
        f"errors {len(result['errors'])}, losses {sum(len(expected) - n for n, _u, _i in result['per_client'])}, "
        f"RSS {result['rss_first']} KiB at the start, {result['rss_tenth']} after the first tenth, {result['rss_last']} at the end"
    )
    assert result["ok"] and not result["errors"]
    order = None
    for count, unique, ids in result["per_client"]:
        assert count == unique == len(expected)  # exactly once
        order = order or ids
        assert ids == order  # everyone saw the same order


async def test_load_short(tmp_path: Path) -> None:
    check(await churn(tmp_path, clients=12, rounds=8), "load (short)")


@pytest.mark.slow
async def test_load_soak(tmp_path: Path) -> None:
    # A small history cap, so the run goes past it: from then on, memory must not grow.
    result = await churn(tmp_path, 200, 10, "--history-limit", "500")
    check(result, "load (soak)")
    assert (
        result["rss_last"] < result["rss_tenth"] + 8 * 1024
    )  # flat after the first tenth: under 8 MiB of growth

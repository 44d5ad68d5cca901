"""SessionClient against a REAL sidecar subprocess on an ephemeral port: announces seen by peers,
reply matching under concurrency, timeouts, wait_for, heartbeats with short policies, the
coordinator watchdog, claims and reconnection after a restart. Every wait is on an event."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from bridge.client import JoinRefused, SessionClient
from tests.support.sidecar import sidecar, start_sidecar

pytestmark = pytest.mark.e2e
SID = "cl"
WAIT = 30.0  # generous upper bounds for a loaded 2-core machine; never a sleep


def client(url: str, pid: str, **kw: Any) -> SessionClient:
    return SessionClient(url, pid, session_id=SID, **kw)


async def test_two_clients_see_each_others_announces(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, data_dir=tmp_path) as sc,
        client(sc.url, "agent:a") as a,
        client(sc.url, "agent:b") as b,
    ):
        seen_by_b = b.wait_for(
            lambda m: (
                m.get("message_type") == "INTENT_ANNOUNCE" and m["payload"].get("intent_id") == "ia"
            ),
            WAIT,
        )
        reply = await a.announce("edit x", ["x.py"], intent_id="ia")
        assert (
            reply.ok
            and reply.message is not None
            and reply.message["message_id"] == reply.request_id
        )
        await seen_by_b
        assert b.view.intents["ia"]["principal_id"] == "agent:a"
        assert await a.wait_until(lambda v: "agent:b" in v.participants, WAIT)
        assert (await b.announce("edit y", ["y.py"], intent_id="ib")).ok
        assert await a.wait_until(lambda v: "ib" in v.intents, WAIT)


async def test_concurrent_requests_never_take_each_others_answers(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, data_dir=tmp_path) as sc,
        client(sc.url, "agent:h") as h,
        client(sc.url, "agent:a") as a,
        client(sc.url, "agent:b") as b,
    ):
        assert (await h.announce("hold", ["held.py"], intent_id="held")).ok
        for round_ in range(10):  # A's request succeeds, B's is refused, both in flight together
            ra, rb = await asyncio.gather(
                a.announce("free", [f"free{round_}.py"], intent_id=f"fa{round_}"),
                b.announce("steal", ["held.py"], intent_id=f"fb{round_}"),
            )
            assert ra.ok, ra
            assert ra.message is not None and ra.message["payload"]["intent_id"] == f"fa{round_}"
            assert not rb.ok and rb.error_code == "STALE_INTENT"
            assert rb.message is not None and rb.message["payload"]["refers_to"] == rb.request_id
            assert [x["intent_id"] for x in rb.extensions["holders"]] == ["held"]


async def test_requests_time_out_and_wait_for_times_out(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, data_dir=tmp_path) as sc,
        client(sc.url, "agent:a") as a,
    ):
        os.kill(sc.pid, signal.SIGSTOP)  # the coordinator stops answering; the socket stays open
        try:
            reply = await a.announce("x", ["x.py"], intent_id="t1", timeout=0.5)
            assert not reply.ok and reply.error_code == "TIMEOUT" and reply.request_id
            with pytest.raises(TimeoutError):
                await a.wait_for(lambda m: m.get("message_type") == "NEVER", 0.3)
            assert not await a.wait_until(lambda v: "nothing" in v.intents, 0.3)
        finally:
            os.kill(sc.pid, signal.SIGCONT)
        # the late answer to the timed-out request does not confuse the next one
        assert await a.wait_until(lambda v: "t1" in v.intents, WAIT)
        assert (await a.withdraw("t1")).ok


async def test_heartbeats_keep_an_idle_clients_intents_alive(tmp_path: Path) -> None:
    async with (
        sidecar(
            "--session-id",
            SID,
            "--heartbeat-interval",
            "0.2",
            "--unavailability-timeout",
            "0.6",
            data_dir=tmp_path,
        ) as sc,
        client(sc.url, "agent:idle") as idle,
        client(sc.url, "agent:watch") as watch,
    ):
        assert (await idle.announce("long task", ["slow.py"], intent_id="slow")).ok
        suspended: list[dict[str, Any]] = []
        off = watch.on_event(
            lambda m: (
                suspended.append(m)
                if m.get("message_type") == "INTENT_UPDATE"
                or (m.get("payload") or {}).get("error_code") == "PARTICIPANT_UNAVAILABLE"
                else None
            )
        )
        # wait for 15 coordinator heartbeats (= 3 s, five unavailability timeouts) as the clock
        beats = 0

        def count(m: dict[str, Any]) -> bool:
            nonlocal beats
            beats += m.get("message_type") == "COORDINATOR_STATUS"
            return beats >= 15

        await watch.wait_for(count, WAIT)
        off()
        assert suspended == []
        assert watch.view.intents["slow"]["state"] == "ACTIVE"


async def test_silent_coordinator_is_declared_unavailable_then_available(tmp_path: Path) -> None:
    async with (
        sidecar(
            "--session-id",
            SID,
            "--heartbeat-interval",
            "0.2",
            "--unavailability-timeout",
            "5",
            data_dir=tmp_path,
        ) as sc,
        client(sc.url, "agent:a") as a,
    ):
        notices: list[bool] = []
        a.on_event(
            lambda m: (
                notices.append(m["payload"]["available"])
                if m.get("message_type") == "_COORDINATOR"
                else None
            )
        )
        down = a.wait_for(
            lambda m: m.get("message_type") == "_COORDINATOR" and not m["payload"]["available"],
            WAIT,
        )
        os.kill(sc.pid, signal.SIGSTOP)
        try:
            await down
            assert not a.coordinator_available and not a.view.coordinator_available
            up = a.wait_for(
                lambda m: m.get("message_type") == "_COORDINATOR" and m["payload"]["available"],
                WAIT,
            )
        finally:
            os.kill(sc.pid, signal.SIGCONT)
        await up
        assert a.coordinator_available and notices[:2] == [False, True]


async def test_claim_resolves_on_its_claim_status_not_on_the_relay(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, data_dir=tmp_path) as sc,
        client(sc.url, "agent:old") as old,
        client(sc.url, "agent:new") as new,
        client(sc.url, "human:lead", roles=["owner"]) as lead,
    ):
        assert (await old.announce("half done", ["h.py"], intent_id="orig")).ok
        await old.close(disposition="transfer")
        assert await new.wait_until(
            lambda v: v.intents.get("orig", {}).get("state") == "SUSPENDED", WAIT
        )
        relayed = lead.wait_for(lambda m: m.get("message_type") == "INTENT_CLAIM", WAIT)
        claiming = asyncio.ensure_future(
            new.claim(
                "orig", "agent:old", "finish it", ["h.py"], new_intent_id="taken", timeout=WAIT
            )
        )
        claim_msg = await relayed  # pending: the claim is relayed, and the claimer keeps waiting
        assert not claiming.done()
        decision = {**claim_msg["payload"], "extensions": {"mpac-bridge": {"decision": "approved"}}}
        assert (await lead.request("INTENT_CLAIM", decision)).ok
        reply = await claiming
        assert reply.ok, reply
        assert reply.message is not None and reply.message["message_type"] == "INTENT_CLAIM_STATUS"
        assert reply.payload["decision"] == "approved" and reply.payload["new_intent_id"] == "taken"
        assert await new.wait_until(
            lambda v: "orig" not in v.intents and "taken" in v.intents, WAIT
        )
        again = await new.claim("orig", "agent:old", "twice", ["h.py"])
        assert not again.ok and again.error_code == "INVALID_REFERENCE"


async def test_reconnect_after_restart_keeps_intents_active_and_reports_states(
    tmp_path: Path,
) -> None:
    sc = await start_sidecar("--session-id", SID, data_dir=tmp_path)
    port = sc.port
    a = client(sc.url, "agent:a")
    await a.connect()
    try:
        states: list[str] = []
        a.on_event(
            lambda m: (
                states.append(m["payload"]["state"])
                if m.get("message_type") == "_CONNECTION"
                else None
            )
        )
        assert (await a.announce("survive", ["s.py"], intent_id="keep")).ok
        instance, lamport_before = a.instance_id, a.clock.value
        reconnecting = a.wait_for(
            lambda m: (
                m.get("message_type") == "_CONNECTION" and m["payload"]["state"] == "reconnecting"
            ),
            WAIT,
        )
        await sc.kill9()
        await reconnecting
        # a request made while disconnected waits for the reconnection (up to its timeout)
        pending = asyncio.ensure_future(
            a.announce("later", ["l.py"], intent_id="later", timeout=WAIT)
        )
        sc = await start_sidecar("--session-id", SID, "--port", str(port), data_dir=tmp_path)
        assert await a.wait_until(lambda v: v.connection == "connected", WAIT)
        assert states[:2] == ["reconnecting", "connected"]
        assert a.view.intents["keep"]["state"] == "ACTIVE"
        assert a.instance_id == instance and a.clock.value > lamport_before
        assert (await pending).ok
        assert a.view.epoch == 2
    finally:
        await a.close()
        await sc.stop()
    assert a.state == "closed" and states[-1] == "closed"
    after = await a.announce("too late", ["t.py"], timeout=WAIT)  # fails at once, no wait
    assert not after.ok and after.error_code == "CLOSED"


async def test_unreachable_coordinator_is_a_typed_refusal() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago and has no listener now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = SessionClient(f"ws://127.0.0.1:{port}", "agent:x", session_id=SID, reconnect=False)
    with pytest.raises(JoinRefused) as info:
        await c.connect(timeout=WAIT)
    assert info.value.code == "UNREACHABLE"


async def test_events_iterator_and_on_event_see_the_same_messages(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, data_dir=tmp_path) as sc,
        client(sc.url, "agent:a") as a,
    ):
        got: list[str] = []
        off = a.on_event(
            lambda m: (
                got.append(m.get("message_id", ""))
                if m.get("message_type") == "INTENT_ANNOUNCE"
                else None
            )
        )
        stream = a.events()

        async def first_announce() -> dict[str, Any]:
            async for m in stream:
                if m.get("message_type") == "INTENT_ANNOUNCE":
                    return m
            raise AssertionError("stream ended")

        reading = asyncio.ensure_future(first_announce())
        reply = await a.announce("e", ["e.py"], intent_id="ev")
        m = await asyncio.wait_for(reading, WAIT)
        assert m["message_id"] == reply.request_id and got == [reply.request_id]
        off()
        assert (await a.withdraw("ev")).ok
        assert got == [reply.request_id]
        await stream.aclose()


async def test_batch_commit_report_conflict_and_propose_helpers(tmp_path: Path) -> None:
    async with (
        sidecar("--session-id", SID, data_dir=tmp_path) as sc,
        client(sc.url, "agent:a") as a,
        client(sc.url, "agent:b") as b,
    ):
        assert (await a.announce("two files", ["p.py", "q.py"], intent_id="ab")).ok
        batch = await a.batch_commit(
            [
                {"target": "p.py", "state_ref_before": None, "state_ref_after": "sha256:p1"},
                {"target": "q.py", "state_ref_before": None, "state_ref_after": "sha256:q1"},
            ],
            intent_id="ab",
        )
        assert batch.ok, batch.description
        assert await b.wait_until(lambda v: {"p.py", "q.py"} <= set(v.targets), WAIT)
        stale = await a.batch_commit(
            [{"target": "p.py", "state_ref_before": None, "state_ref_after": "sha256:p2"}],
            intent_id="ab",
        )
        assert (
            not stale.ok
            and stale.error_code == "OP_REJECT"
            and stale.description == "batch_validation_failed"
        )
        assert (await b.announce("other", ["r.py"], intent_id="bb")).ok
        report = await b.report_conflict(
            ["ab", "bb"], "these two tasks contradict each other", category="semantic_goal_conflict"
        )
        assert report.ok, report.description
        assert await a.wait_until(
            lambda v: any(
                c.get("category") == "semantic_goal_conflict" for c in v.conflicts.values()
            ),
            WAIT,
        )
        proposed = await a.propose(
            "p.py", intent_id="ab", op_id="prop-1"
        )  # relayed in a post_commit session
        assert (
            proposed.ok
            and proposed.message is not None
            and proposed.message["payload"]["op_id"] == "prop-1"
        )


async def test_close_completes_while_messages_keep_arriving(tmp_path: Path) -> None:
    """Closing must not wait for websockets' close timeout (10 s) when broadcasts keep coming:
    the reader drains them until the server's close frame is seen."""
    async with (
        sidecar("--session-id", SID, "--max-msgs-per-sec", "100000", data_dir=tmp_path) as sc,
        client(sc.url, "agent:a") as a,
    ):
        b = client(sc.url, "agent:b")
        await b.connect()
        flowing = b.wait_for(
            lambda m: (
                m.get("message_type") == "INTENT_ANNOUNCE" and m["payload"]["intent_id"] == "f50"
            ),
            WAIT,
        )

        async def flood() -> None:
            for n in range(3000):
                scope = {"kind": "file_set", "resources": [f"f{n}.py"]}
                await a.send(
                    "INTENT_ANNOUNCE", {"intent_id": f"f{n}", "objective": "flood", "scope": scope}
                )
                await asyncio.sleep(0)

        sender = asyncio.ensure_future(flood())
        await flowing
        await asyncio.wait_for(b.close(), 5)
        assert b.state == "closed"
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender

"""Pilot tests against a real sidecar, with simulated agents as SessionClient instances."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from bridge.client import SessionClient
from tests.support.sidecar import RunningSidecar, start_sidecar
from tests.tui.helpers import Watch, running
from tui.app import Dashboard
from tui.source import LiveSource
from tui.widgets.banner import ConnectionBanner
from tui.widgets.conflicts import ConflictTable
from tui.widgets.intents import IntentTable
from tui.widgets.modals import ChoicePrompt, DetailScreen, TextPrompt
from tui.widgets.participants import ParticipantTable

pytestmark = pytest.mark.e2e
WAIT = 20.0
SIZE = (110, 32)


@pytest.fixture
async def sidecar(tmp_path: Path) -> AsyncIterator[RunningSidecar]:
    sc = await start_sidecar("--session-id", "tui-test", data_dir=tmp_path / "data")
    try:
        yield sc
    finally:
        await sc.stop()


async def agents(url: str, *names: str) -> list[SessionClient]:
    out = []
    for n in names:
        c = SessionClient(url, f"agent:{n}", session_id="tui-test")
        await c.connect()
        out.append(c)
    return out


def dashboard(url: str, roles: list[str]) -> Dashboard:
    client = SessionClient(url, "human:lead", session_id="tui-test", roles=roles)
    return Dashboard(LiveSource(client))


async def claim(pilot: Pilot[int], watch: Watch, files: str) -> None:
    """Press c, type the files, confirm the proposed objective."""
    await pilot.press("c")
    await watch.prompt(TextPrompt)
    await pilot.press(*files, "enter")
    assert await watch.settle(
        lambda a: isinstance(a.screen, TextPrompt) and "What will you do" in a.screen.question
    )
    await pilot.press("enter")


async def test_rows_appear_as_agents_work(sidecar: RunningSidecar) -> None:
    app = dashboard(sidecar.url, ["observer"])
    alice, bob = await agents(sidecar.url, "alice", "bob")
    try:
        async with running(app, SIZE) as (pilot, watch):
            assert await watch.settle(
                lambda a: (
                    a.conn_state == "connected" and a.query_one(ParticipantTable).row_count == 3
                ),
                WAIT,
            )
            assert (
                await alice.announce("Add a discount", ["shop/checkout.py"], intent_id="i-alice")
            ).ok
            assert (await bob.announce("Round totals", ["shop/pricing.py"], intent_id="i-bob")).ok
            table = app.query_one(IntentTable)
            assert await watch.settle(
                lambda a: {"i-alice", "i-bob"} <= set(table.rows_by_key), WAIT
            )
            assert table.rows_by_key["i-alice"][:4] == (
                "alice",
                "Add a discount",
                "shop/checkout.py",
                "ACTIVE",
            )
            # one message, one row touched: the table is never rebuilt
            before = dict(table.ops)
            assert (await bob.withdraw("i-bob")).ok
            assert await watch.settle(lambda a: "i-bob" not in table.rows_by_key, WAIT)
            assert (
                table.ops["remove"] == before["remove"] + 1
                and table.ops["insert"] == before["insert"]
            )
            assert table.row_count == 1
            # observers see the participants, and the granted role in the header
            people = app.query_one(ParticipantTable).rows_by_key
            assert people["human:lead"][2] == "observer" and people["agent:alice"][1] == "agent"
            await pilot.press("q")
    finally:
        for c in (alice, bob):
            await c.close()


async def test_conflict_resolved_from_keyboard(sidecar: RunningSidecar) -> None:
    app = dashboard(sidecar.url, ["arbiter"])
    carol, dave = await agents(sidecar.url, "carol", "dave")
    try:
        async with running(app, SIZE) as (pilot, watch):
            assert await watch.settle(
                lambda a: a.conn_state == "connected" and a.session.granted_roles == ("arbiter",),
                WAIT,
            )
            assert (
                await carol.announce(
                    "Harden login", scope={"kind": "entity_set", "entities": ["api.auth"]}
                )
            ).ok
            assert (
                await dave.announce(
                    "OAuth login", scope={"kind": "entity_set", "entities": ["api.auth"]}
                )
            ).ok
            table = app.query_one(ConflictTable)
            assert await watch.settle(lambda a: table.row_count == 1, WAIT)
            (cid,) = table.rows_by_key
            assert table.rows_by_key[cid][3] == "carol vs dave"
            await pilot.press("2", "enter")  # the detail modal
            await watch.prompt(DetailScreen)
            assert "Harden login" in str(app.screen.query_one("#detail-body").render())
            await pilot.press("escape", "a")  # acknowledge
            assert await watch.settle(
                lambda a: len(watch.answers) == 1 and table.rows_by_key[cid][2] == "ACKED", WAIT
            )
            assert watch.answers[0].ok, watch.answers[0].text
            await pilot.press("e")  # escalate: the only arbiter is offered, then a reason
            await watch.prompt(ChoicePrompt)
            await pilot.press("enter")
            await watch.prompt(TextPrompt)
            await pilot.press(*"needs a human", "enter")
            assert await watch.settle(
                lambda a: len(watch.answers) == 2 and table.rows_by_key[cid][2] == "ESCALATED", WAIT
            )
            assert watch.answers[1].ok, watch.answers[1].text
            await pilot.press("r")  # resolve: pick a decision, then a rationale
            await watch.prompt(ChoicePrompt)
            await pilot.press("enter")
            await watch.prompt(TextPrompt)
            await pilot.press(*"carol first", "enter")
            assert await watch.settle(lambda a: len(watch.answers) == 3, WAIT)
            assert watch.answers[2].ok, watch.answers[2].text
            assert await watch.settle(lambda a: table.row_count == 0, WAIT)
            assert "decision=approved" in app.history.by_id[cid][-1].text
            assert await carol.wait_until(lambda v: cid not in v.conflicts, WAIT)
    finally:
        for c in (carol, dave):
            await c.close()


async def test_claim_release_and_refusal_are_reported(sidecar: RunningSidecar) -> None:
    app = dashboard(sidecar.url, ["arbiter"])
    (erin,) = await agents(sidecar.url, "erin")
    try:
        async with running(app, SIZE) as (pilot, watch):
            assert await watch.settle(lambda a: a.conn_state == "connected", WAIT)
            assert (await erin.announce("Refactor cart", ["shop/cart.py"], intent_id="i-erin")).ok
            table = app.query_one(IntentTable)
            assert await watch.settle(lambda a: "i-erin" in table.rows_by_key, WAIT)
            # a claim on a held file: the coordinator's refusal, with the holder, is shown
            await claim(pilot, watch, "shop/cart.py")
            assert await watch.settle(lambda a: len(watch.answers) == 1, WAIT)
            assert (
                not watch.answers[0].ok
                and "STALE_INTENT" in watch.answers[0].text
                and "agent:erin" in watch.answers[0].text
            )
            # a claim on a free file succeeds, then is released
            await claim(pilot, watch, "docs/guide.md")
            assert await watch.settle(lambda a: len(watch.answers) == 2, WAIT)
            assert watch.answers[1].ok, watch.answers[1].text
            assert await watch.settle(
                lambda a: any(r[0] == "lead" for r in table.rows_by_key.values()), WAIT
            )
            await pilot.press("x")
            assert await watch.settle(
                lambda a: (
                    len(watch.answers) == 3
                    and not any(r[0] == "lead" for r in table.rows_by_key.values())
                ),
                WAIT,
            )
            assert watch.answers[2].ok
    finally:
        await erin.close()


async def test_observer_cannot_claim(sidecar: RunningSidecar) -> None:
    app = dashboard(sidecar.url, ["observer"])
    async with running(app, SIZE) as (pilot, watch):
        assert await watch.settle(lambda a: a.conn_state == "connected", WAIT)
        assert app.check_action("claim", ()) is False
        await app.claim(["a.py"], "try anyway")  # the coordinator refuses, and the refusal is shown
        assert await watch.settle(lambda a: bool(watch.answers), WAIT)
        assert "AUTHORIZATION_FAILED" in watch.answers[0].text
        await pilot.press("q")


async def test_banner_on_disconnect_then_reconciled(tmp_path: Path) -> None:
    sc = await start_sidecar("--session-id", "tui-test", data_dir=tmp_path / "data")
    app = dashboard(sc.url, ["observer"])
    (frank,) = await agents(sc.url, "frank")
    frank.reconnect = False
    try:
        async with running(app, SIZE) as (_, watch):
            assert await watch.settle(lambda a: a.conn_state == "connected", WAIT)
            banner = app.query_one(ConnectionBanner)
            assert not banner.has_class("down")
            assert (
                await frank.announce(
                    "Tax table", ["shop/tax.py"], intent_id="i-frank", ttl_sec=3600
                )
            ).ok
            assert await watch.settle(
                lambda a: "i-frank" in a.query_one(IntentTable).rows_by_key, WAIT
            )
            await sc.kill9()
            assert await watch.settle(lambda a: a.conn_state == "reconnecting", WAIT)
            assert banner.has_class("down") and "reconnecting" in str(banner.render())
            assert (
                "i-frank" in app.query_one(IntentTable).rows_by_key
            )  # last known state stays on screen
            sc = await start_sidecar(
                "--session-id", "tui-test", "--port", str(sc.port), data_dir=tmp_path / "data"
            )
            assert await watch.settle(lambda a: a.conn_state == "connected", 30.0)
            assert not banner.has_class("down")
            # reconciled with the recovered coordinator: the intent survived the crash
            assert await watch.settle(lambda a: a.session.intent("i-frank") is not None, WAIT)
            assert "i-frank" in app.query_one(IntentTable).rows_by_key
    finally:
        await frank.abort()
        await sc.stop()

"""The app on a fixed view: single-row updates, modals over live updates, log filter, search."""

from __future__ import annotations

from typing import Any

from tests.tui.helpers import fixed, running
from tests.tui.sample import FILES, T0, busy_messages, envelope
from tui.app import Dashboard
from tui.messages import ActionAnswered
from tui.widgets.eventlog import EventLog
from tui.widgets.files import FileTree
from tui.widgets.intents import IntentTable
from tui.widgets.modals import TextPrompt


def make() -> Dashboard:
    return fixed(busy_messages(), files=FILES)


def deliver(app: Dashboard, m: dict[str, Any]) -> None:
    """What a live source does with one message: the client folds it, the app shows it."""
    app.session.view.apply(m)
    app.apply_message(m)


async def test_one_message_touches_one_row() -> None:
    app = make()
    async with running(app) as (pilot, _):
        table = app.query_one(IntentTable)
        assert table.row_count == 12
        ops = dict(table.ops)
        deliver(
            app,
            envelope(
                "INTENT_UPDATE",
                "agent:alice",
                {"intent_id": "intent-00003", "objective": "Harden login, again"},
                T0 + 60,
                500,
            ),
        )
        await pilot.pause()
        assert table.ops == {**ops, "update": ops["update"] + 1}
        assert table.rows_by_key["intent-00003"][1] == "Harden login, again"
        assert table.get_row("intent-00003")[1] == "Harden login, again"


async def test_messages_while_a_modal_is_open_and_tree_follows() -> None:
    app = make()
    async with running(app) as (pilot, watch):
        await pilot.press("enter")  # intent detail modal on top
        await pilot.pause()
        assert app.screen is not app.screen_stack[0]
        deliver(
            app,
            envelope("INTENT_WITHDRAW", "agent:alice", {"intent_id": "intent-00003"}, T0 + 61, 501),
        )
        assert "intent-00003" not in app.screen_stack[0].query_one(IntentTable).rows_by_key
        await pilot.press("escape")
        assert "intent-00003" not in app.query_one(IntentTable).rows_by_key
        assert await watch.settle(
            lambda a: str(a.query_one(FileTree).nodes["shop/cart.py"].label) == "cart.py", 5
        )


async def test_log_filter_and_search_from_keys() -> None:
    app = make()
    async with running(app) as (pilot, watch):
        await pilot.press("f")
        await watch.prompt(TextPrompt)
        await pilot.press(*"who:carol type:announce", "enter")
        log = app.query_one(EventLog)
        assert await watch.settle(lambda a: log.filter.participant == "carol")
        assert log.filter.message_type == "announce"
        assert len(log.lines) == 4  # carol's three file intents and her api.auth intent
        await pilot.press("1", "slash")
        await watch.prompt(TextPrompt)
        await pilot.press(*"routes", "enter")
        table = app.query_one(IntentTable)
        assert await watch.settle(lambda a: table.selected_key() == "intent-00008")


async def test_actions_on_a_fixed_view_are_read_only() -> None:
    app = make()
    async with running(app) as (pilot, watch):
        await app.claim(["docs/index.md"], "edit")
        await pilot.pause()
        assert watch.answers == []  # nothing was sent: there is no coordinator
        assert any("read-only" in n.message for n in app._notifications)  # the toast says why


async def test_theme_toggle() -> None:
    app = make()
    async with running(app, (80, 24)) as (pilot, _):
        before = app.theme
        await pilot.press("t")
        assert app.theme != before


async def test_late_events_after_shutdown_are_ignored() -> None:
    """Row, tab and answer events can still be dispatched while the app shuts down, after the
    screen stack is empty (seen in CI as ScreenStackError); they must do nothing."""
    app = make()
    async with app.run_test(size=(100, 30)):
        assert app.live_screen()
    assert not app.screen_stack and not app.live_screen()
    app.on_row()
    app.on_tab()
    app.on_row_selected()
    app.refresh_bindings()
    app.on_answer(ActionAnswered("claim", True, "late answer"))
    app.tick()


async def test_held_symbols_come_and_go_under_their_file() -> None:
    """Issue 19: a file expands into the symbols others hold; a withdrawn claim removes its symbol."""
    from tests.tui.sample import symbol_messages

    app = fixed(symbol_messages(), files=FILES)
    async with running(app) as (_pilot, watch):
        tree = app.query_one(FileTree)
        assert sorted(tree.symbols["shop/cart.py"]) == ["Cart.add", "Cart.total"] and sorted(
            tree.symbols["shop/tax.py"]
        ) == ["rate"]
        assert "checkout.py" not in tree.symbols  # a whole-file claim has no children
        deliver(
            app,
            envelope("INTENT_WITHDRAW", "agent:bob", {"intent_id": "intent-total"}, T0 + 62, 502),
        )
        assert await watch.settle(
            lambda a: (
                "shop/tax.py" not in tree.symbols
                and list(tree.symbols.get("shop/cart.py", {})) == ["Cart.add"]
            ),
            5,
        )
        assert (
            not tree.nodes["shop/tax.py"].allow_expand
            and str(tree.nodes["shop/tax.py"].label) == "tax.py"
        )

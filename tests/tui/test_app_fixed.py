"""The app on a fixed view: single-row updates, modals over live updates, log filter, search."""

from __future__ import annotations

from tui.app import Dashboard
from tui.sample import FILES, T0, build_view, busy_messages, envelope
from tui.widgets.eventlog import EventLog
from tui.widgets.files import FileTree
from tui.widgets.intents import IntentTable


def make() -> tuple[Dashboard, list[dict]]:
    msgs = busy_messages()
    app = Dashboard(view=build_view(messages=msgs), me="human:lead", clock=lambda: T0 + 120,
                    tick_interval=None, files=FILES, events=msgs)
    return app, msgs


async def test_one_message_touches_one_row() -> None:
    app, _ = make()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(IntentTable)
        assert table.row_count == 12
        ops = dict(table.ops)
        m = envelope("INTENT_UPDATE", "agent:alice", {"intent_id": "intent-00003", "objective": "Harden login, again"}, T0 + 60, 500)
        app.view.apply(m)
        app.apply_message(m)
        await pilot.pause()
        assert table.ops == {**ops, "update": ops["update"] + 1}
        assert table.rows_by_key["intent-00003"][1] == "Harden login, again"
        assert table.get_row("intent-00003")[1] == "Harden login, again"


async def test_messages_while_a_modal_is_open_and_tree_follows() -> None:
    app, _ = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")  # intent detail modal on top
        await pilot.pause()
        assert app.screen is not app.screen_stack[0]
        m = envelope("INTENT_WITHDRAW", "agent:alice", {"intent_id": "intent-00003"}, T0 + 61, 501)
        app.view.apply(m)
        app.apply_message(m)
        assert "intent-00003" not in app.screen_stack[0].query_one(IntentTable).rows_by_key
        await pilot.press("escape")
        assert "intent-00003" not in app.query_one(IntentTable).rows_by_key
        assert await app.settle(lambda a: str(a.query_one(FileTree).nodes["shop/cart.py"].label) == "cart.py", 5)


async def test_log_filter_and_search_from_keys() -> None:
    app, _ = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f", *"who:carol type:announce", "enter")
        await pilot.pause()
        log = app.query_one(EventLog)
        assert log.filter.participant == "carol" and log.filter.message_type == "announce"
        assert len(log.lines) == 4  # carol's three file intents and her api.auth intent
        await pilot.press("1", "slash", *"routes", "enter")
        await pilot.pause()
        table = app.query_one(IntentTable)
        assert table.selected_key() == "intent-00008"


async def test_theme_toggle() -> None:
    app, _ = make()
    async with app.run_test(size=(80, 24)) as pilot:
        before = app.theme
        await pilot.press("t")
        assert app.theme != before


async def test_late_events_after_shutdown_are_ignored() -> None:
    """Row, tab and answer events can still be dispatched while the app shuts down, after the
    screen stack is empty (seen in CI as ScreenStackError); they must do nothing."""
    from tui.messages import ActionAnswered

    app, _ = make()
    async with app.run_test(size=(100, 30)):
        assert app.live_screen()
    assert not app.screen_stack and not app.live_screen()
    app.on_row()
    app.on_tab()
    app.on_row_selected()
    app.refresh_bindings()
    app.on_answer(ActionAnswered("claim", True, "late answer"))
    assert app.answers[-1].text == "late answer"  # recorded, never shown

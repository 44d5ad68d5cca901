"""The dashboard application: a live view of one MPAC session, keyboard-first actions.

Live mode wraps a `SessionClient` (the app connects it, then pumps its subscription queue into
`SessionEvent` messages). Fixed mode shows a given `SessionView` (snapshots, benchmarks). The clock
is injected so countdowns and ages are deterministic in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, TabbedContent, TabPane

from bridge.client import JoinRefused, SessionClient, SessionView
from tui.history import History, conflict_detail, intent_detail
from tui.messages import ActionAnswered, ConnectionChanged, FilesChanged, SessionEvent
from tui.model import LogFilter, affected, may_act
from tui.widgets.banner import ConnectionBanner
from tui.widgets.conflicts import ConflictTable
from tui.widgets.eventlog import EventLog
from tui.widgets.files import FileTree
from tui.widgets.header import SessionHeader
from tui.widgets.intents import IntentTable
from tui.widgets.modals import ChoicePrompt, DetailScreen, TextPrompt
from tui.widgets.participants import ParticipantTable
from tui.widgets.synctable import SyncTable

TABS = ("intents", "conflicts", "participants", "files", "log")
DECISIONS = ("approved", "rejected", "dismissed", "merged")


def parse_filter(text: str) -> LogFilter:
    """`who:alice type:intent free words` -> a LogFilter."""
    f, free = LogFilter(), []
    for word in text.split():
        key, sep, value = word.partition(":")
        if sep and key in ("who", "from", "participant"):
            f.participant = value
        elif sep and key in ("type", "t"):
            f.message_type = value
        else:
            free.append(word)
    f.text = " ".join(free)
    return f


class Dashboard(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "mpac-bridge dashboard"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("1", "tab('intents')", "Intents", show=False),
        Binding("2", "tab('conflicts')", "Conflicts", show=False),
        Binding("3", "tab('participants')", "People", show=False),
        Binding("4", "tab('files')", "Files", show=False),
        Binding("5", "tab('log')", "Log", show=False),
        Binding("enter", "details", "Details", show=False),
        Binding("a", "ack", "Ack"),
        Binding("e", "escalate", "Escalate"),
        Binding("r", "resolve", "Resolve"),
        Binding("c", "claim", "Claim"),
        Binding("x", "release", "Release"),
        Binding("f", "filter", "Filter"),
        Binding("slash", "search", "Search"),
        Binding("t", "toggle_theme", "Theme"),
    ]

    def __init__(self, client: SessionClient | None = None, *, view: SessionView | None = None,
                 me: str = "", url: str = "", clock: Callable[[], float] = time.time,
                 state: str | None = None, repo_root: Path | None = None, files: list[str] | None = None,
                 tick_interval: float | None = 1.0, events: list[dict[str, Any]] | None = None,
                 theme: str | None = None, ensure: Callable[[], str] | None = None) -> None:
        super().__init__()
        self.ensure = ensure  # workspace mode: restarts the repo's sidecar if needed, returns its url
        self.client = client
        self.fixed_view = view or SessionView()
        self.me = me or (client.principal_id if client else "human:you")
        self.url = url or (client.url if client else "")
        self.clock = clock
        self.conn_state = state or (client.state if client else "connected")
        self.repo_root = repo_root
        self.initial_files = files
        self.tick_interval = tick_interval
        self.initial_events = events or []
        self.history = History()
        self.answers: list[ActionAnswered] = []
        self.applied = 0
        self._files_pending = False
        self._closing_down = False
        self._waiters: list[tuple[Callable[[Dashboard], bool], asyncio.Future[bool]]] = []
        if theme:
            self.theme = theme

    # --- state -----------------------------------------------------------------------------------

    def w(self, kind: type[Any]) -> Any:
        """A widget of the main screen (modals may be on top, so never the active screen)."""
        return self.screen_stack[0].query_one(kind)

    def live_screen(self) -> bool:
        """The main screen still holds its widgets (false while the app is shutting down, when
        timers and late messages can still fire after the widgets are gone)."""
        if self._closing_down or not self.screen_stack:
            return False
        main = self.screen_stack[0]
        return main.is_attached and bool(main.query(IntentTable))

    @property
    def view(self) -> SessionView:
        return self.client.view if self.client is not None else self.fixed_view

    def compose(self) -> ComposeResult:
        yield SessionHeader(id="header")
        yield ConnectionBanner(id="banner")
        with TabbedContent(initial="intents", id="tabs"):
            with TabPane("1 Intents", id="intents"):
                yield IntentTable(id="intent-table")
            with TabPane("2 Conflicts", id="conflicts"):
                yield ConflictTable(id="conflict-table")
            with TabPane("3 Participants", id="participants"):
                yield ParticipantTable(id="participant-table")
            with TabPane("4 Files", id="files"):
                yield FileTree(self.repo_root.name if self.repo_root else "repository", id="file-tree")
            with TabPane("5 Log", id="log"):
                yield EventLog(id="event-log")
        yield Footer()

    def on_mount(self) -> None:
        for e in self.initial_events:
            self.w(EventLog).add(self.history.record(e, self.clock()))
        self.redraw_all()
        if self.initial_files is not None:
            self.w(FileTree).set_files(self.initial_files)
            self.w(FileTree).annotate(self.view)
        elif self.repo_root is not None:
            self.watch_files()
        if self.client is not None:
            self.pump()
        if self.tick_interval:
            self.set_interval(self.tick_interval, self.tick)

    def redraw_all(self) -> None:
        """Reconcile every table with the view (mount and reconnect only; messages touch rows)."""
        now, v = self.clock(), self.view
        self.w(IntentTable).refresh_from(v, now, None)
        self.w(ConflictTable).refresh_from(v, now, None)
        self.w(ParticipantTable).refresh_from(v, now, None, self.history.seen, self.history.status)
        self.w(FileTree).annotate(v)
        self.show_header()

    def show_header(self) -> None:
        self.w(SessionHeader).show(self.view, self.me, self.conn_state)
        self.w(ConnectionBanner).show_state(self.conn_state, self.url)

    def tick(self) -> None:
        """Countdowns and ages move on; only cells whose text changed are redrawn."""
        if not self.live_screen():
            return
        now, v = self.clock(), self.view
        self.w(IntentTable).tick(v, now)
        self.w(ConflictTable).refresh_from(v, now, list(v.conflicts))
        self.w(ParticipantTable).refresh_from(v, now, list(v.participants), self.history.seen, self.history.status)

    async def settle(self, condition: Callable[[Dashboard], bool], timeout: float = 15.0) -> bool:
        """Wait until `condition(app)` holds, checked after every applied message, connection
        change and action answer (for tests and scripts; never a fixed sleep)."""
        if condition(self):
            return True
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        entry = (condition, fut)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return condition(self)
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    def _wake(self) -> None:
        for condition, fut in list(self._waiters):
            if not fut.done():
                try:
                    hit = condition(self)
                except Exception:
                    hit = False
                if hit:
                    fut.set_result(True)

    # --- live session ----------------------------------------------------------------------------

    @work(exclusive=True, group="session")
    async def pump(self) -> None:
        """Connect (if needed), then turn every inbound message into a SessionEvent."""
        assert self.client is not None
        queue = self.client.subscribe()
        try:
            if self.client.state in ("disconnected", "connecting"):
                try:
                    await self.client.connect()
                except (JoinRefused, TimeoutError) as exc:
                    self.post_message(ConnectionChanged("disconnected"))
                    self.notify(f"cannot join: {exc}", severity="error", timeout=30)
                    return
            self.post_message(ConnectionChanged(self.client.state))
            self.post_message(SessionEvent({"message_type": "SESSION_INFO", "payload": {}}))
            while True:
                msg = await queue.get()
                if msg.get("message_type") == "_CONNECTION":
                    self.post_message(ConnectionChanged(str((msg.get("payload") or {}).get("state"))))
                self.post_message(SessionEvent(msg))
        finally:
            self.client.unsubscribe(queue)

    @on(SessionEvent)
    def on_session_event(self, event: SessionEvent) -> None:
        if not self.live_screen():
            return
        self.apply_message(event.msg)

    def apply_message(self, msg: dict[str, Any]) -> None:
        """Record one message and update only the rows it touches."""
        now, v = self.clock(), self.view
        entry = self.history.record(msg, now)
        if msg.get("message_type") != "SESSION_INFO" or msg.get("payload"):
            self.w(EventLog).add(entry)
        aff = affected(msg, v)
        if aff.intents is not None and msg.get("message_type") == "RESOLUTION":
            aff.intents |= set(self.w(ConflictTable).related.pop(str((msg.get("payload") or {}).get("conflict_id")), []))
        self.w(IntentTable).refresh_from(v, now, aff.intents, aff.owners)
        self.w(ConflictTable).refresh_from(v, now, aff.conflicts)
        self.w(ParticipantTable).refresh_from(v, now, aff.participants, self.history.seen, self.history.status)
        if aff.intents is None or aff.intents or aff.conflicts or aff.owners:
            self.schedule_files()
        if aff.header:
            self.show_header()
        if msg.get("message_type") == "SESSION_INFO":
            self.refresh_bindings()
        self.applied += 1
        self._wake()

    def schedule_files(self) -> None:
        """Re-annotate the tree at most every 0.2 s (a burst of messages costs one pass)."""
        if not self._files_pending:
            self._files_pending = True
            self.set_timer(0.2, self._annotate_files)

    def _annotate_files(self) -> None:
        self._files_pending = False
        if not self.live_screen():
            return
        self.w(FileTree).annotate(self.view)
        self._wake()

    @on(ConnectionChanged)
    def on_connection_changed(self, event: ConnectionChanged) -> None:
        if not self.live_screen():
            return
        was, self.conn_state = self.conn_state, event.state
        self.show_header()
        if event.state == "connected" and was != "connected":
            self.redraw_all()  # reconcile with the state the coordinator sent on rejoin
        if event.state == "reconnecting" and self.ensure is not None:
            self.follow_sidecar()
        self.refresh_bindings()
        self._wake()

    @work(exclusive=True, group="ensure")
    async def follow_sidecar(self) -> None:
        """While reconnecting in workspace mode, make sure the repository has a sidecar (starting
        one if it died) and point the client at its current url (a new one has a new port)."""
        assert self.ensure is not None and self.client is not None
        delay = 1.0
        while self.conn_state == "reconnecting" and not self._closing_down:
            try:
                url = await asyncio.to_thread(self.ensure)
            except Exception as exc:  # the sidecar cannot start: say so, keep trying
                self.notify(f"the repository's sidecar is not available: {exc}", severity="warning", timeout=5)
                url = None
            if url and url != self.client.url:
                self.client.url = self.url = url
                self.show_header()
            await asyncio.sleep(delay)  # retry schedule while the coordinator is away
            delay = min(delay * 2, 10.0)

    @work(exclusive=True, group="files")
    async def watch_files(self) -> None:
        """List the repository's files, then follow changes with watchfiles (skipping .git and
        ignored files: the list comes from `git ls-files`)."""
        from watchfiles import awatch

        assert self.repo_root is not None
        root = self.repo_root
        self.post_message(FilesChanged(await list_files(root)))
        async for _changes in awatch(root, watch_filter=lambda _c, p: "/.git/" not in p and not p.endswith("/.git")):
            self.post_message(FilesChanged(await list_files(root)))

    @on(FilesChanged)
    def on_files_changed(self, event: FilesChanged) -> None:
        if not self.live_screen():
            return
        tree = self.w(FileTree)
        tree.set_files(event.files)
        tree.annotate(self.view)
        self._wake()

    # --- selection -------------------------------------------------------------------------------

    def active_tab(self) -> str:
        return self.w(TabbedContent).active or "intents"

    def selected(self, table_type: type[SyncTable]) -> str | None:
        return self.w(table_type).selected_key()

    def selected_conflict(self) -> dict[str, Any] | None:
        cid = self.selected(ConflictTable)
        return self.view.conflicts.get(cid) if cid else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        roles = set(self.view.granted_roles)
        live = self.conn_state == "connected"
        if action in ("ack", "escalate", "resolve"):
            if not live or self.active_tab() != "conflicts":
                return False
            c = self.selected_conflict()
            if c is None:
                return bool(roles & {"owner", "arbiter"}) or None
            return may_act(self.view, self.me, c, action) or None
        if action in ("claim", "release"):
            return live and not roles <= {"observer"}
        return True

    def refresh_bindings(self) -> None:
        # Row and tab events can still arrive while the app shuts down, after the screen stack is
        # empty; Textual's own refresh_bindings would then raise ScreenStackError.
        if self.live_screen():
            super().refresh_bindings()

    @on(TabbedContent.TabActivated)
    def on_tab(self) -> None:
        self.refresh_bindings()

    @on(SyncTable.RowHighlighted)
    def on_row(self) -> None:
        self.refresh_bindings()

    @on(SyncTable.RowSelected)
    def on_row_selected(self) -> None:
        if self.live_screen():
            self.action_details()

    # --- actions ---------------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.w(TabbedContent).active = tab
        table = {"intents": IntentTable, "conflicts": ConflictTable, "participants": ParticipantTable}.get(tab)
        with contextlib.suppress(Exception):
            (self.w(table) if table else self.w(FileTree if tab == "files" else EventLog)).focus()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_details(self) -> None:
        now, tab = self.clock(), self.active_tab()
        if tab == "intents" and (iid := self.selected(IntentTable)):
            self.push_screen(DetailScreen(*intent_detail(self.view, self.history, iid, now)))
        elif tab == "conflicts" and (cid := self.selected(ConflictTable)):
            self.push_screen(DetailScreen(*conflict_detail(self.view, self.history, cid, now)))

    def action_ack(self) -> None:
        c = self.selected_conflict()
        if c:
            self.send("acknowledge", "CONFLICT_ACK", {"conflict_id": c["conflict_id"], "ack_type": "seen"})

    def action_escalate(self) -> None:
        c = self.selected_conflict()
        if not c:
            return
        cid = c["conflict_id"]
        arbiters = [p for p, q in self.view.participants.items()
                    if set(q.get("roles") or []) & {"owner", "arbiter"} and q.get("connected", True)]

        def reason(to: str | None) -> None:
            if to:
                self.push_screen(TextPrompt(f"Why escalate {cid} to {to}?", placeholder="reason"),
                                 lambda r: r is not None and self.send(
                                     "escalate", "CONFLICT_ESCALATE", {"conflict_id": cid, "escalate_to": to, "reason": r or "escalated from the dashboard"}))

        if arbiters:
            self.push_screen(ChoicePrompt(f"Escalate {cid} to", arbiters), reason)
        else:
            self.push_screen(TextPrompt(f"Escalate {cid} to (principal id)", placeholder="human:lead"), reason)

    def action_resolve(self) -> None:
        c = self.selected_conflict()
        if not c:
            return
        cid = c["conflict_id"]

        def rationale(decision: str | None) -> None:
            if decision:
                self.push_screen(TextPrompt(f"Rationale for '{decision}' on {cid}", placeholder="why"),
                                 lambda r: r is not None and self.send(
                                     "resolve", "RESOLUTION", {"conflict_id": cid, "decision": decision, "rationale": r}))

        self.push_screen(ChoicePrompt(f"Resolve {cid}: decision", list(DECISIONS)), rationale)

    def action_claim(self) -> None:
        def objective(files: str | None) -> None:
            paths = [f.strip() for f in (files or "").replace(",", " ").split() if f.strip()]
            if paths:
                self.push_screen(TextPrompt(f"What will you do in {', '.join(paths)}?", value="human edit"),
                                 lambda o: o is not None and self.claim(paths, o or "human edit"))

        self.push_screen(TextPrompt("Claim files (paths separated by spaces or commas)", placeholder="src/app.py"), objective)

    def action_release(self) -> None:
        iid = self.selected(IntentTable) if self.active_tab() == "intents" else None
        mine = [i["intent_id"] for i in self.view.intents.values() if i.get("principal_id") == self.me]
        target = iid if iid in mine else (mine[-1] if mine else None)
        if target is None:
            self.notify("you hold no claims to release", severity="warning")
            return
        self.send("release", "INTENT_WITHDRAW", {"intent_id": target, "reason": "released from the dashboard"})

    def action_filter(self) -> None:
        log = self.w(EventLog)

        def apply(text: str | None) -> None:
            if text is not None:
                log.set_filter(parse_filter(text))
                self.notify(f"log filter: {log.filter.label()}")
                self.action_tab("log")

        current = " ".join(x for x in (f"who:{log.filter.participant}" if log.filter.participant else "",
                                       f"type:{log.filter.message_type}" if log.filter.message_type else "", log.filter.text) if x)
        self.push_screen(TextPrompt("Filter the log: who:NAME type:TYPE words (empty clears)", value=current), apply)

    def action_search(self) -> None:
        tab = self.active_tab()
        table_type = {"intents": IntentTable, "conflicts": ConflictTable, "participants": ParticipantTable}.get(tab)

        def find(text: str | None) -> None:
            if not text or table_type is None:
                return
            table = self.w(table_type)
            keys = list(table.rows_by_key)
            start = table.cursor_row + 1 if table.row_count else 0
            order = keys[start:] + keys[:start] if len(keys) == table.row_count else keys
            for key in order:
                if text.lower() in " ".join(table.rows_by_key[key]).lower() or text.lower() in key.lower():
                    table.move_cursor(row=table.get_row_index(key))
                    return
            self.notify(f"no row matches {text!r}", severity="warning")

        if table_type is None:
            self.action_filter()
        else:
            self.push_screen(TextPrompt(f"Search {tab}"), find)

    # --- requests --------------------------------------------------------------------------------

    def claim(self, files: list[str], objective: str) -> None:
        assert self.client is not None
        self.run_worker(self._answer("claim", self.client.announce(objective, files)), group="actions")

    def send(self, action: str, mtype: str, payload: dict[str, Any]) -> None:
        if self.client is None:
            self.notify("read-only view: no coordinator connection", severity="warning")
            return
        self.run_worker(self._answer(action, self.client.request(mtype, payload)), group="actions")

    async def _answer(self, action: str, request: Any) -> None:
        reply = await request
        if reply.ok:
            text = f"{action}: accepted by the coordinator"
        else:
            text = f"{action} refused: {reply.error_code} — {reply.description}"
            holders = reply.extensions.get("holders") if isinstance(reply.extensions, dict) else None
            if holders:
                text += " (held by " + ", ".join(f"{h.get('principal_id')}: {h.get('objective')}" for h in holders) + ")"
        self.post_message(ActionAnswered(action, reply.ok, text))

    @on(ActionAnswered)
    def on_answer(self, event: ActionAnswered) -> None:
        self.answers.append(event)
        if not self.live_screen():
            return
        self.notify(event.text, severity="information" if event.ok else "error", timeout=8)
        self._wake()

    async def action_quit(self) -> None:
        self._closing_down = True
        if self.client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.close(), 5)
        self.exit(0)


async def list_files(root: Path) -> list[str]:
    """Tracked and untracked, not ignored, files of the work tree (git decides what is ignored)."""
    proc = await asyncio.create_subprocess_exec(
        "git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    return sorted({p for p in out.decode(errors="replace").split("\0") if p})

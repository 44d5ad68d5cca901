"""The dashboard application: a live view of one MPAC session, keyboard-first actions.

The session comes from a `Source` (tui.source): a live `SessionClient`, or a fixed view for
snapshots and benchmarks. Everything shown is read from the client's typed `Session`; everything
sent goes through the client's request helpers. The clock is injected so countdowns and ages are
deterministic in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.signal import Signal
from textual.widget import Widget
from textual.widgets import Footer, TabbedContent, TabPane

from bridge.client import Conflict, Reply, Session, SessionClient
from tui.history import History, conflict_detail, intent_detail
from tui.messages import (
    ActionAnswered,
    ConnectionChanged,
    FilesChanged,
    Notice,
    SessionEvent,
    SidecarMoved,
)
from tui.model import LogFilter, affected
from tui.source import Source
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
TABLES: dict[str, type[SyncTable]] = {
    "intents": IntentTable,
    "conflicts": ConflictTable,
    "participants": ParticipantTable,
}
W = TypeVar("W", bound=Widget)
Prompt = ModalScreen[str | None]


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


def split_paths(text: str) -> list[str]:
    """`a.py, b.py c.py` -> the paths (separated by commas or spaces)."""
    return [f.strip() for f in text.replace(",", " ").split() if f.strip()]


def answer_text(action: str, reply: Reply) -> str:
    """What the person reads about the coordinator's answer to an action."""
    if reply.ok:
        return f"{action}: accepted by the coordinator"
    text = f"{action} refused: {reply.error_code} — {reply.description}"
    if reply.holders:
        text += (
            " (held by "
            + ", ".join(f"{h.get('principal_id')}: {h.get('objective')}" for h in reply.holders)
            + ")"
        )
    return text


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

    def __init__(
        self,
        source: Source,
        *,
        clock: Callable[[], float] = time.time,
        repo_root: Path | None = None,
        files: list[str] | None = None,
        tick_interval: float | None = 1.0,
        theme: str | None = None,
    ) -> None:
        """`repo_root`: watch this work tree's files; `files`: show this fixed list instead."""
        super().__init__()
        self.source = source
        self.clock = clock
        self.conn_state = source.state
        self.repo_root = repo_root
        self.initial_files = files
        self.tick_interval = tick_interval
        self.history = History()
        self._files_pending = False
        self._closing_down = False
        # published after each change the dashboard has shown: a message applied, a connection
        # change, an action's answer, the file tree re-annotated (for scripts and tests to follow)
        self.updated: Signal[object] = Signal(self, "updated")
        if theme:
            self.theme = theme

    # --- state -----------------------------------------------------------------------------------

    def part(self, kind: type[W]) -> W:
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
    def session(self) -> Session:
        return self.source.session

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
                yield FileTree(
                    self.repo_root.name if self.repo_root else "repository", id="file-tree"
                )
            with TabPane("5 Log", id="log"):
                yield EventLog(id="event-log")
        yield Footer()

    def on_mount(self) -> None:
        for e in self.source.backlog():
            self.part(EventLog).add(self.history.record(e, self.clock()))
        self.redraw_all()
        if self.initial_files is not None:
            self.part(FileTree).set_files(self.initial_files)
            self.part(FileTree).annotate(self.session)
        elif self.repo_root is not None:
            self.watch_files()
        self.pump()
        if self.tick_interval:
            self.set_interval(self.tick_interval, self.tick)

    def redraw_all(self) -> None:
        """Reconcile every table with the view (mount and reconnect only; messages touch rows)."""
        now, s = self.clock(), self.session
        self.part(IntentTable).refresh_from(s, now, None)
        self.part(ConflictTable).refresh_from(s, now, None)
        self.part(ParticipantTable).refresh_from(
            s, now, None, self.history.seen, self.history.status
        )
        self.part(FileTree).annotate(s)
        self.show_header()

    def show_header(self) -> None:
        self.part(SessionHeader).show(self.session, self.conn_state)
        self.part(ConnectionBanner).show_state(self.conn_state, self.source.url)

    def tick(self) -> None:
        """Countdowns and ages move on; only cells whose text changed are redrawn."""
        if not self.live_screen():
            return
        now, s = self.clock(), self.session
        self.part(IntentTable).tick(s, now)
        self.part(ConflictTable).refresh_from(s, now, s.conflict_ids())
        self.part(ParticipantTable).refresh_from(
            s, now, s.participant_ids(), self.history.seen, self.history.status
        )

    # --- the session -----------------------------------------------------------------------------

    @work(exclusive=True, group="session")
    async def pump(self) -> None:
        """Follow the source: every message and connection change comes back as a Textual message."""
        await self.source.follow(self.post_message)

    @on(SessionEvent)
    def on_session_event(self, event: SessionEvent) -> None:
        if not self.live_screen():
            return
        self.apply_message(event.msg)
        self.updated.publish(event)

    def apply_message(self, msg: dict[str, Any]) -> None:
        """Record one message and update only the rows it touches."""
        now, s = self.clock(), self.session
        self.part(EventLog).add(self.history.record(msg, now))
        aff = affected(msg, s)
        mtype = msg.get("message_type")
        if aff.intents is not None and mtype == "RESOLUTION":
            aff.intents |= set(
                self.part(ConflictTable).related.pop(
                    str((msg.get("payload") or {}).get("conflict_id")), []
                )
            )
        self.part(IntentTable).refresh_from(s, now, aff.intents, aff.owners)
        self.part(ConflictTable).refresh_from(s, now, aff.conflicts)
        self.part(ParticipantTable).refresh_from(
            s, now, aff.participants, self.history.seen, self.history.status
        )
        if aff.intents is None or aff.intents or aff.conflicts or aff.owners:
            self.schedule_files()
        if aff.header:
            self.show_header()
        if mtype == "SESSION_INFO":
            self.refresh_bindings()

    def schedule_files(self) -> None:
        """Re-annotate the tree at most every 0.2 s (a burst of messages costs one pass)."""
        if not self._files_pending:
            self._files_pending = True
            self.set_timer(0.2, self._annotate_files)

    def _annotate_files(self) -> None:
        self._files_pending = False
        if not self.live_screen():
            return
        self.part(FileTree).annotate(self.session)
        self.updated.publish(self.part(FileTree))

    @on(ConnectionChanged)
    def on_connection_changed(self, event: ConnectionChanged) -> None:
        if not self.live_screen():
            return
        was, self.conn_state = self.conn_state, event.state
        if event.fresh or (event.state == "connected" and was != "connected"):
            self.redraw_all()  # reconcile with the state the coordinator sent on (re)join
        else:
            self.show_header()
        self.refresh_bindings()
        self.updated.publish(event)

    @on(SidecarMoved)
    def on_sidecar_moved(self, event: SidecarMoved) -> None:
        if self.live_screen():
            self.show_header()

    @on(Notice)
    def on_notice(self, event: Notice) -> None:
        if self.live_screen():
            self.notify(event.text, severity=event.severity, timeout=event.timeout)

    @work(exclusive=True, group="files")
    async def watch_files(self) -> None:
        """List the repository's files, then follow changes with watchfiles (skipping .git and
        ignored files: the list comes from `git ls-files`)."""
        from watchfiles import awatch

        assert self.repo_root is not None
        root = self.repo_root
        self.post_message(FilesChanged(await list_files(root)))
        async for _changes in awatch(
            root, watch_filter=lambda _c, p: "/.git/" not in p and not p.endswith("/.git")
        ):
            self.post_message(FilesChanged(await list_files(root)))

    @on(FilesChanged)
    def on_files_changed(self, event: FilesChanged) -> None:
        if not self.live_screen():
            return
        tree = self.part(FileTree)
        tree.set_files(event.files)
        tree.annotate(self.session)
        self.updated.publish(event)

    # --- selection -------------------------------------------------------------------------------

    def active_tab(self) -> str:
        return self.part(TabbedContent).active or "intents"

    def selected(self, table_type: type[SyncTable]) -> str | None:
        return self.part(table_type).selected_key()

    def selected_conflict(self) -> Conflict | None:
        cid = self.selected(ConflictTable)
        return self.session.conflict(cid) if cid else None

    def conflict_at_cursor(self) -> str | None:
        """The id of the open conflict under the cursor (None when there is none)."""
        c = self.selected_conflict()
        return None if c is None else c.conflict_id

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        s = self.session
        live = self.conn_state == "connected"
        if action in ("ack", "escalate", "resolve"):
            if not live or self.active_tab() != "conflicts":
                return False
            c = self.selected_conflict()
            if c is None:
                return s.has_authority or None
            return s.may(action, c) or None
        if action in ("claim", "release"):
            return live and not s.read_only
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
        self.part(TabbedContent).active = tab
        table = TABLES.get(tab)
        with contextlib.suppress(Exception):
            (
                self.part(table) if table else self.part(FileTree if tab == "files" else EventLog)
            ).focus()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_details(self) -> None:
        now, tab = self.clock(), self.active_tab()
        if tab == "intents" and (iid := self.selected(IntentTable)):
            self.push_screen(DetailScreen(*intent_detail(self.session, self.history, iid, now)))
        elif tab == "conflicts" and (cid := self.selected(ConflictTable)):
            self.push_screen(DetailScreen(*conflict_detail(self.session, self.history, cid, now)))

    @work(group="actions")
    async def action_ack(self) -> None:
        if (cid := self.conflict_at_cursor()) is not None:
            await self.act("acknowledge", lambda client: client.ack(cid))

    @work(group="actions")
    async def action_escalate(self) -> None:
        if (cid := self.conflict_at_cursor()) is None:
            return
        arbiters = [p.principal_id for p in self.session.arbiters()]
        first: Prompt = (
            ChoicePrompt(f"Escalate {cid} to", arbiters)
            if arbiters
            else TextPrompt(f"Escalate {cid} to (principal id)", placeholder="human:lead")
        )
        answer = await self.ask(
            first, lambda to: TextPrompt(f"Why escalate {cid} to {to}?", placeholder="reason")
        )
        if answer is not None:
            to, reason = answer
            await self.act(
                "escalate",
                lambda client: client.escalate(cid, to, reason or "escalated from the dashboard"),
            )

    @work(group="actions")
    async def action_resolve(self) -> None:
        if (cid := self.conflict_at_cursor()) is None:
            return
        answer = await self.ask(
            ChoicePrompt(f"Resolve {cid}: decision", list(DECISIONS)),
            lambda decision: TextPrompt(f"Rationale for '{decision}' on {cid}", placeholder="why"),
        )
        if answer is not None:
            decision, rationale = answer
            await self.act("resolve", lambda client: client.resolve(cid, decision, rationale))

    @work(group="actions")
    async def action_claim(self) -> None:
        def objective(files: str) -> Prompt | None:
            paths = split_paths(files)
            return (
                TextPrompt(f"What will you do in {', '.join(paths)}?", value="human edit")
                if paths
                else None
            )

        answer = await self.ask(
            TextPrompt(
                "Claim files (paths separated by spaces or commas)", placeholder="src/app.py"
            ),
            objective,
        )
        if answer is not None:
            files, what = answer
            await self.claim(split_paths(files), what or "human edit")

    async def ask(
        self, first: Prompt, then: Callable[[str], Prompt | None]
    ) -> tuple[str, str] | None:
        """Two prompts in a row, the second built from the first answer; None when either is
        cancelled, the first answer is empty, or `then` has nothing to ask."""
        a = await self.push_screen_wait(first)
        if not a:
            return None
        second = then(a)
        if second is None:
            return None
        b = await self.push_screen_wait(second)
        return None if b is None else (a, b)

    async def claim(self, files: list[str], objective: str) -> None:
        """Announce an intent on these files and show the coordinator's answer."""
        await self.act("claim", lambda client: client.announce(objective, files))

    @work(group="actions")
    async def action_release(self) -> None:
        iid = self.selected(IntentTable) if self.active_tab() == "intents" else None
        mine = [i.intent_id for i in self.session.mine()]
        target = iid if iid in mine else (mine[-1] if mine else None)
        if target is None:
            self.notify("you hold no claims to release", severity="warning")
            return
        await self.act(
            "release", lambda client: client.withdraw(target, reason="released from the dashboard")
        )

    @work(group="prompts")
    async def action_filter(self) -> None:
        log = self.part(EventLog)
        f = log.filter
        current = " ".join(
            x
            for x in (
                f"who:{f.participant}" if f.participant else "",
                f"type:{f.message_type}" if f.message_type else "",
                f.text,
            )
            if x
        )
        text = await self.push_screen_wait(
            TextPrompt("Filter the log: who:NAME type:TYPE words (empty clears)", value=current)
        )
        if text is not None:
            log.set_filter(parse_filter(text))
            self.notify(f"log filter: {log.filter.label()}")
            self.action_tab("log")

    @work(group="prompts")
    async def action_search(self) -> None:
        tab = self.active_tab()
        table_type = TABLES.get(tab)
        if table_type is None:
            self.action_filter()
            return
        text = await self.push_screen_wait(TextPrompt(f"Search {tab}"))
        if not text:
            return
        table = self.part(table_type)
        keys = list(table.rows_by_key)
        start = table.cursor_row + 1 if table.row_count else 0
        order = keys[start:] + keys[:start] if len(keys) == table.row_count else keys
        for key in order:
            if (
                text.lower() in " ".join(table.rows_by_key[key]).lower()
                or text.lower() in key.lower()
            ):
                table.move_cursor(row=table.get_row_index(key))
                return
        self.notify(f"no row matches {text!r}", severity="warning")

    # --- requests --------------------------------------------------------------------------------

    async def act(self, action: str, request: Callable[[SessionClient], Awaitable[Reply]]) -> None:
        """Send one request with the source's client and show the coordinator's answer."""
        client = self.source.client
        if client is None:
            self.notify("read-only view: no coordinator connection", severity="warning")
            return
        reply = await request(client)
        self.post_message(ActionAnswered(action, reply.ok, answer_text(action, reply)))

    @on(ActionAnswered)
    def on_answer(self, event: ActionAnswered) -> None:
        if not self.live_screen():
            return
        self.notify(event.text, severity="information" if event.ok else "error", timeout=8)
        self.updated.publish(event)

    async def action_quit(self) -> None:
        self._closing_down = True
        await self.source.close()
        self.exit(0)


async def list_files(root: Path) -> list[str]:
    """Tracked and untracked, not ignored, files of the work tree (git decides what is ignored)."""
    proc = await asyncio.create_subprocess_exec(
        "git",
        "-C",
        str(root),
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    return sorted({p for p in out.decode(errors="replace").split("\0") if p})

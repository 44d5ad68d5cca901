"""MpacServer: the language server's state and behaviour (joining, diagnostics, watching, commands).

The LSP handlers in `lsp.features` are thin: they call the methods here. Everything runs on the
one asyncio loop pygls starts; background work goes through `run_task`, which keeps a reference
to each task and logs its exception.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from bridge import __version__
from bridge.client import JoinRefused, SessionClient, follow_sidecar
from bridge.client.notices import connection_state, message_type
from bridge.workspace import (
    NotARepository,
    PathRefused,
    Repo,
    SidecarStartError,
    ensure_sidecar,
    find_repo,
    resolve_in_repo,
    state_ref_of,
    state_ref_of_bytes,
)
from bridge.workspace.symbols import extract_symbols
from bridge.workspace.worktrees import worktree_extension
from lsp.actions import code_actions, hover_markdown, who_text
from lsp.debounce import Coalescer
from lsp.diagnostics import FIRST_LINE, compute, held_ranges, holders
from lsp.settings import Settings
from lsp.status import STATUS_NOTIFICATION, not_joined, summary, wants_status
from lsp.store import DiagnosticStore
from lsp.tracked import Tracked
from lsp.watch import relevant, watch_tree

log = logging.getLogger("mpac.lsp")
IGNORED_TYPES = ("HEARTBEAT",)
STATUS_KEY = "\0status"  # the status summary's key in the coalescer (never a uri)


class MpacServer(LanguageServer):
    """One editor's participant in the repository's MPAC session."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__("mpac-bridge", __version__)
        self.env: Mapping[str, str] = env if env is not None else os.environ
        self.settings = Settings()
        self.init_options: Any = None
        self.repo: Repo | None = None
        self.root: Path | None = None
        self.client: SessionClient | None = None
        self.files: dict[str, Tracked] = {}  # by uri
        self.store = DiagnosticStore()
        self.coalescer = Coalescer(0.05)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping: asyncio.Event | None = None
        self.watch_mode = "off"  # what is in use: "server", "client" or "off"
        self.auto_intents: dict[str, str] = {}  # rel -> intent id announced by autoAnnounce
        self._announcing: set[str] = set()
        self._idle: dict[str, asyncio.TimerHandle] = {}
        self._rels: dict[str, str | None] = {}
        self._conn_state = "disconnected"
        self._join_error = ""  # why joining was given up, for the status summary
        self.status_wanted = False  # the client asked for mpac/status notifications
        self._status_sent: dict[str, Any] | None = None
        self.exiting = False  # after shutdown/exit nothing more is sent to the editor

    @property
    def me(self) -> str:
        return self.settings.principal_id

    # --- background tasks --------------------------------------------------------------------

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start `coro` in the background, keep a reference, log its failure (never lose it)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                exc = t.exception()
                log.error(
                    "background task %s failed: %s: %s", name, type(exc).__name__, exc, exc_info=exc
                )

        task.add_done_callback(done)
        return task

    # --- start and stop ----------------------------------------------------------------------

    def start_session(self) -> None:
        """After `initialized`: read settings, find the workspace, join, start watching."""
        self.stopping = asyncio.Event()
        self.settings, warnings = Settings.load(self.init_options, self.env)
        for w in warnings:
            log.warning(w)
        self.coalescer = Coalescer(self.settings.debounce_ms / 1000.0)
        self.status_wanted = wants_status(getattr(self.client_capabilities, "experimental", None))
        root = self.workspace.root_path or next(
            (to_fs_path(f.uri) for f in self.workspace.folders.values()), None
        )
        self.root = Path(root) if root else None
        if self.root is not None:
            try:
                self.repo = find_repo(self.root)
                self.root = self.repo.root
            except NotARepository as exc:
                log.warning("%s", exc)
        self.run_task(self.join_and_follow(), "join")
        self.start_watching()

    def start_watching(self) -> None:
        mode = self.settings.watch
        caps = self.client_capabilities.workspace
        dynamic = bool(
            caps
            and caps.did_change_watched_files
            and caps.did_change_watched_files.dynamic_registration
        )
        if mode == "auto":
            mode = "client" if dynamic else "server"
        if mode == "client" and dynamic:
            self.watch_mode = "client"
            self.run_task(self._register_client_watch(), "register-watch")
        elif mode in ("server", "client") and self.root is not None:
            self.watch_mode = "server"
            assert self.stopping is not None
            self.run_task(
                watch_tree(
                    self.root, self.on_disk_change, self.stopping, is_repo=self.repo is not None
                ),
                "watch",
            )
        else:
            self.watch_mode = "off"
        log.info("file watching: %s", self.watch_mode)

    async def _register_client_watch(self) -> None:
        watcher = types.FileSystemWatcher(glob_pattern="**/*")
        reg = types.Registration(
            id="mpac-bridge-watch",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=[watcher]),
        )
        await self.client_register_capability_async(types.RegistrationParams(registrations=[reg]))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log server errors on stderr; show them in the editor only while it is listening (a
        failed write must not trigger another write)."""
        log.error("server error (%s): %s", getattr(source, "__name__", source), error)
        if not self.exiting and getattr(source, "__name__", "") not in (
            "JsonRpcInternalError",
            "FeatureRequestError",
        ):
            self.show(types.MessageType.Error, f"mpac-bridge internal error: {error}")

    async def stop_session(self) -> None:
        self.exiting = True
        if self.stopping is not None:
            self.stopping.set()
        for h in self._idle.values():
            h.cancel()
        if self.client is not None:
            await self.client.close()
        for t in list(self.tasks):
            t.cancel()

    async def join_and_follow(self) -> None:
        """Join the session (retrying while the coordinator is unreachable), then follow it."""
        delay, told = 1.0, False
        self._set_connection("connecting")
        while self.stopping is not None and not self.stopping.is_set():
            try:
                client = await self._join()
                break
            except (JoinRefused, SidecarStartError, TimeoutError, OSError) as exc:
                retry = (
                    not isinstance(exc, JoinRefused)
                    or exc.code in ("UNREACHABLE", "CLOSED")
                    or exc.code.startswith("HTTP_5")
                )
                msg = f"mpac-bridge: cannot join the coordination session: {exc}"
                log.warning("%s%s", msg, f"; retrying in {delay:g} s" if retry else "")
                if not told:
                    self.show(types.MessageType.Error, msg)
                    told = True
                if not retry:
                    self._set_connection("failed", msg)
                    return
                await asyncio.sleep(delay)  # reconnect backoff
                delay = min(delay * 2, 30.0)
            except ValueError as exc:  # nothing to join (no repository, no coordinator URL)
                log.error("%s", exc)
                self.show(types.MessageType.Error, f"mpac-bridge: {exc}")
                self._set_connection("failed", f"mpac-bridge: {exc}")
                return
        else:
            return
        self.client = client
        self._conn_state = "connected"
        log.info("joined session %s as %s", client.session_id, self.me)
        for t in self.files.values():
            self._load_baseline(t)
        self.mark_all()
        await self.follow(client)

    async def _join(self) -> SessionClient:
        url, session_id = self.settings.coordinator_url, self.settings.session_id
        if url is None:
            if self.repo is None:
                raise ValueError(
                    "the workspace is not inside a git repository and no coordinatorUrl "
                    "(or MPAC_COORDINATOR_URL) is set: nothing to coordinate"
                )
            info = await asyncio.to_thread(ensure_sidecar, self.repo)
            url, session_id = info.url, info.session_id
        client = SessionClient(
            url,
            self.me,
            session_id=session_id,
            display_name=self.settings.user,
            roles=["contributor"],
            token=self.settings.token,
        )
        await client.connect()
        return client

    async def follow(self, client: SessionClient) -> None:
        """Every message that can change what a file shows marks every tracked file for refresh."""
        queue = client.subscribe()
        try:
            while True:
                msg = await queue.get()
                if (state := connection_state(msg)) is not None:
                    self._connection(state)
                if message_type(msg) not in IGNORED_TYPES:
                    self.mark_all()
        finally:
            client.unsubscribe(queue)

    def _set_connection(self, state: str, error: str = "") -> None:
        self._conn_state, self._join_error = state, error
        self.mark_status()

    def _connection(self, state: str) -> None:
        if state == self._conn_state:
            return
        self._set_connection(state)
        if state == "reconnecting":
            log.warning("lost the coordinator; reconnecting (diagnostics may be out of date)")
            if (
                self.repo is not None
                and self.settings.coordinator_url is None
                and self.client is not None
            ):
                repo = self.repo
                self.run_task(
                    follow_sidecar(self.client, lambda: ensure_sidecar(repo).url), "follow-sidecar"
                )
        elif state == "connected":
            log.info("reconnected to the coordinator")

    # --- files and diagnostics ---------------------------------------------------------------

    def rel_of(self, uri: str) -> str | None:
        """The repository-relative path of a file uri, or None (not a file, outside, ignored, .git)."""
        if uri in self._rels:
            return self._rels[uri]
        path = to_fs_path(uri)
        rel: str | None = None
        if path is not None and self.repo is not None:
            try:
                rel = resolve_in_repo(self.repo, path)
            except PathRefused:
                rel = None
        elif path is not None and self.root is not None:
            full = Path(os.path.realpath(path))
            if full.is_relative_to(self.root) and ".git" not in full.relative_to(self.root).parts:
                rel = full.relative_to(self.root).as_posix()
        self._rels[uri] = rel
        return rel

    def _load_baseline(self, t: Tracked) -> None:
        if self.client is not None and t.open and not t.baseline_known:
            last = self.client.session.file(t.rel)
            t.baseline_op = last.op_id if last is not None else None
            t.baseline_known = True

    def _buffer(self, uri: str) -> tuple[int | None, str | None]:
        try:
            doc = self.workspace.get_text_document(uri)
        except Exception:
            return None, None
        return doc.version, state_ref_of_bytes(doc.source.encode("utf-8"))

    def opened(self, uri: str) -> None:
        rel = self.rel_of(uri)
        if rel is None:
            return
        t = self.files.get(uri) or Tracked(uri=uri, rel=rel)
        self.files[uri] = t
        t.open, t.disk_change, t.baseline_known = True, None, False
        t.version, t.buffer_ref = self._buffer(uri)
        self._load_baseline(t)
        self.mark(uri)

    def _reread(self, uri: str) -> Tracked | None:
        """The tracked file, its buffer's version and state ref read again (None: not tracked)."""
        t = self.files.get(uri)
        if t is not None:
            t.version, t.buffer_ref = self._buffer(uri)
        return t

    def changed(self, uri: str) -> None:
        t = self._reread(uri)
        if t is None:
            return
        t.touched = True
        if t.disk_change and t.disk_change.get("state_ref") == t.buffer_ref:
            t.disk_change = None
        if self.settings.auto_announce:
            self._auto_announce(t.rel)
        self.mark(uri)

    def saved(self, uri: str) -> None:
        t = self._reread(uri)
        if t is None:
            return
        t.touched, t.disk_change = True, None
        if self.client is not None:
            session = self.client.session
            held = holders(session, t.rel)
            if held and not session.mine([t.rel]):
                t.uncoordinated = [i.principal_id for i in held]
                log.warning(
                    "uncoordinated edit: you saved %s while %s hold it",
                    t.rel,
                    ", ".join(t.uncoordinated),
                )
            last = session.file(t.rel)
            t.baseline_op = (
                last.op_id if last is not None else None
            )  # the disk now holds the person's choice
        self.mark(uri)

    def closed(self, uri: str) -> None:
        t = self.files.get(uri)
        if t is None:
            return
        t.open, t.version, t.disk_change = False, None, None
        if not t.touched:
            del self.files[uri]
        self.mark(uri)

    async def on_disk_change(self, paths: list[str]) -> None:
        """Files changed on disk: a tracked file under someone else's intent is republished (and,
        when the disk no longer matches the buffer, flagged)."""
        by_rel = {t.rel: t for t in self.files.values()}
        for path in paths:
            rel = self.rel_of(from_fs_path(path) or "")
            t = by_rel.get(rel) if rel else None
            if t is None or self.client is None:
                continue
            held = holders(self.client.session, t.rel)
            if not held:
                continue
            disk = await asyncio.to_thread(self._disk_ref, t.rel)
            if t.open and disk != t.buffer_ref:
                t.disk_change = {"holders": [i.principal_id for i in held], "state_ref": disk}
            log.info(
                "%s changed on disk while held by %s",
                t.rel,
                ", ".join(i.principal_id for i in held),
            )
            self.mark(t.uri)

    async def on_client_file_events(self, events: list[types.FileEvent]) -> None:
        paths = {p for e in events if (p := to_fs_path(e.uri))}
        if self.root is not None:
            await self.on_disk_change(await relevant(self.root, paths, self.repo is not None))

    def _disk_ref(self, rel: str) -> str:
        if self.repo is not None:
            return state_ref_of(self.repo, rel)
        assert self.root is not None
        try:
            return state_ref_of_bytes((self.root / rel).read_bytes())
        except OSError:
            return "absent"

    def mark(self, uri: str) -> None:
        """Schedule a refresh of `uri` (coalesced per uri within the debounce window)."""
        loop = asyncio.get_running_loop()
        if self.coalescer.mark(uri, loop.time()):
            loop.call_later(self.coalescer.delay, self._flush)

    def mark_all(self) -> None:
        """The session changed: refresh every tracked file and the status summary."""
        for uri in list(self.files):
            self.mark(uri)
        self.mark_status()

    def mark_status(self) -> None:
        if self.status_wanted:
            self.mark(STATUS_KEY)

    def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        for uri in self.coalescer.pop_due(loop.time() + 0.002):
            try:
                self.push_status() if uri == STATUS_KEY else self.refresh(uri)
            except Exception:
                log.exception("could not refresh %s", "the status" if uri == STATUS_KEY else uri)
        if (due := self.coalescer.next_due()) is not None:
            loop.call_at(due, self._flush)

    def refresh(self, uri: str) -> None:
        """Recompute every source for `uri` and publish when the result changed."""
        t = self.files.get(uri)
        if t is None:
            self.store.clear(uri)
        elif self.client is not None:
            session = self.client.session
            if t.open and any(i.symbols.get(t.rel) for i in holders(session, t.rel)):
                self._parse_symbols(t)
            for source, diags in compute(session, t).items():
                self.store.set(source, uri, diags)
            if t.uncoordinated and not holders(session, t.rel):
                t.uncoordinated = []  # the cause ended
        if self.store.pending(uri):
            self.publish(uri)

    def _parse_symbols(self, t: Tracked) -> None:
        """Re-read the buffer's symbols when it changed, so diagnostics follow the held symbols as
        lines move. A version that does not parse (mid-edit) keeps the last good one."""
        if t.buffer_ref is None or t.buffer_ref == t.parsed_ref:
            return
        try:
            text = self.workspace.get_text_document(t.uri).source
        except Exception:
            return
        found = extract_symbols(t.rel, text, state_ref=t.buffer_ref)
        if found.parses:
            t.symbols, t.parsed_ref = found, t.buffer_ref

    def publish(self, uri: str) -> None:
        if self.exiting:
            return
        t = self.files.get(uri)
        diags = self.store.merged(uri)
        version = t.version if t is not None and t.open else None
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=version)
        )
        self.store.published(uri, diags)
        if t is None and not diags:
            self.store.forget(uri)

    def status(self) -> dict[str, Any]:
        """The session summary of `lsp.status` (what the status bar shows)."""
        if self.client is None:
            return not_joined(self.me, self._conn_state, self._join_error)
        return summary(self.client.session, self._conn_state)

    def push_status(self) -> None:
        """Send mpac/status when the summary changed since the last one sent."""
        current = self.status()
        if self.exiting or current == self._status_sent:
            return
        self.protocol.notify(STATUS_NOTIFICATION, current)
        self._status_sent = current

    # --- autoAnnounce ------------------------------------------------------------------------

    def _auto_announce(self, rel: str) -> None:
        if self.client is None:
            return
        if rel in self.auto_intents or rel in self._announcing:
            self._reset_idle(rel)
            return
        session = self.client.session
        if session.mine([rel]):
            return  # already covered by a claim of mine
        if holders(session, rel):
            return  # held by someone else: the Warning says so; an announce would only be refused or conflict
        self._announcing.add(rel)
        self.run_task(self._announce(rel), f"auto-announce {rel}")

    def _worktree(self) -> dict[str, Any]:
        """The payload field naming this editor's checkout (docs/protocol.md "Worktrees")."""
        return {"extensions": worktree_extension(self.repo)} if self.repo is not None else {}

    async def _announce(self, rel: str) -> None:
        assert self.client is not None
        try:
            reply = await self.client.announce(
                f"editing {rel} (from the editor)", [rel], **self._worktree()
            )
            if reply.ok:
                self.auto_intents[rel] = reply.payload.get("intent_id", "")
                log.info("announced intent %s on %s", self.auto_intents[rel], rel)
                self._reset_idle(rel)
            else:
                log.warning(
                    "could not announce an intent on %s: %s %s",
                    rel,
                    reply.error_code,
                    reply.description,
                )
        finally:
            self._announcing.discard(rel)

    def _reset_idle(self, rel: str) -> None:
        if (old := self._idle.pop(rel, None)) is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._idle[rel] = loop.call_later(
            self.settings.auto_announce_idle_sec,
            lambda: self.run_task(self._auto_withdraw(rel), f"auto-withdraw {rel}"),
        )

    async def _auto_withdraw(self, rel: str) -> None:
        self._idle.pop(rel, None)
        iid = self.auto_intents.pop(rel, None)
        if iid and self.client is not None and self.client.session.intent(iid) is not None:
            reply = await self.client.withdraw(iid, reason="idle")
            log.info(
                "withdrew idle intent %s on %s: %s",
                iid,
                rel,
                "ok" if reply.ok else reply.description,
            )

    # --- requests: code actions, hover, commands ---------------------------------------------

    def tracked_or_new(self, uri: str) -> Tracked | None:
        if uri in self.files:
            return self.files[uri]
        rel = self.rel_of(uri)
        return Tracked(uri=uri, rel=rel) if rel is not None else None

    def code_actions(self, uri: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
        t = self.tracked_or_new(uri)
        if t is None or self.client is None:
            return []
        return code_actions(self.client.session, t, diagnostics)

    def hover(self, uri: str, position: types.Position) -> types.Hover | None:
        t = self.tracked_or_new(uri)
        if t is None or self.client is None:
            return None
        if position.line != FIRST_LINE.start.line and not any(
            r.start.line <= position.line < r.end.line for r in held_ranges(self.client.session, t)
        ):
            return None
        md = hover_markdown(self.client.session, t.rel)
        if md is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=md), range=FIRST_LINE
        )

    def show(self, kind: types.MessageType, text: str) -> None:
        if self.exiting:
            return
        try:
            self.window_show_message(types.ShowMessageParams(type=kind, message=text))
        except Exception:
            log.debug("could not show a message", exc_info=True)

    def _need(self, uri: str | None = None) -> tuple[SessionClient, Tracked | None]:
        if self.client is None:
            raise CommandFailed("not joined to a coordination session yet")
        t = self.tracked_or_new(uri) if uri is not None else None
        if uri is not None and t is None:
            raise CommandFailed(
                f"{uri} is not a file of this repository (outside it, ignored or inside .git)"
            )
        return self.client, t

    async def claim(self, uri: str) -> dict[str, Any]:
        client, t = self._need(uri)
        assert t is not None
        session = client.session
        if mine := session.mine([t.rel]):
            return {
                "ok": True,
                "intent_id": mine[0].intent_id,
                "message": f"you already hold {t.rel}",
            }
        suspended = [i for i in holders(session, t.rel) if i.suspended]
        if suspended:
            original = suspended[0]
            took = await client.take_over(
                original.intent_id,
                objective=f"take over {t.rel} (from the editor)",
                files=[t.rel],
                wait=False,
                **self._worktree(),
            )
            if not took.ok:
                raise CommandFailed(f"the takeover was refused: {took.failure}")
            self.mark_all()
            if took.pending:
                return {
                    "ok": True,
                    "intent_id": took.new_intent_id,
                    "pending": True,
                    "message": f"claim for {t.rel} sent (takeover of {original.intent_id}); it is yours once approved",
                }
            return {
                "ok": True,
                "intent_id": took.new_intent_id,
                "message": f"you now hold {t.rel} (intent {took.new_intent_id}, taken over from {original.intent_id})",
            }
        reply = await client.announce(
            f"editing {t.rel} (claimed from the editor)", [t.rel], **self._worktree()
        )
        if not reply.ok:
            raise CommandFailed(f"the claim was refused: {reply.failure}")
        iid = reply.payload.get("intent_id", "")
        self.mark_all()
        return {"ok": True, "intent_id": iid, "message": f"you now hold {t.rel} (intent {iid})"}

    async def release(self, uri: str) -> dict[str, Any]:
        client, t = self._need(uri)
        assert t is not None
        mine = client.session.mine([t.rel])
        if not mine:
            return {"ok": True, "released": [], "message": f"you hold no intent on {t.rel}"}
        released = []
        for intent in mine:
            reply = await client.withdraw(intent.intent_id, reason="released from the editor")
            if not reply.ok:
                raise CommandFailed(f"could not release {intent.intent_id}: {reply.failure}")
            released.append(intent.intent_id)
            self.auto_intents = {
                r: i for r, i in self.auto_intents.items() if i != intent.intent_id
            }
        return {"ok": True, "released": released, "message": f"released {', '.join(released)}"}

    async def acknowledge(self, conflict_id: str) -> dict[str, Any]:
        client, _ = self._need()
        if client.session.conflict(conflict_id) is None:
            raise CommandFailed(f"no open conflict {conflict_id}")
        reply = await client.ack(conflict_id)
        if not reply.ok:
            raise CommandFailed(f"the acknowledgement was refused: {reply.failure}")
        return {"ok": True, "message": f"acknowledged {conflict_id}"}

    def show_who(self, uri: str, show: bool = True) -> dict[str, Any]:
        client, t = self._need(uri)
        assert t is not None
        text = who_text(client.session, t.rel)
        if show:
            self.show(types.MessageType.Info, text)
        return {"ok": True, "message": text, "shown": show}


class CommandFailed(Exception):
    """A command the coordinator refused or that cannot run now; shown to the person."""

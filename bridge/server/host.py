"""SessionHost: one coordinator, its journal, its connections and its timers.

Every call into the core whose result changed the state is journaled (with any disk lookups it
made) before a single byte of its output is sent: the append commits, and the frames leave later,
at the end of the event-loop turn, through the sidecar's Outbox. A restart replays the journal
after the latest snapshot through the same calls, so what clients were told is exactly what is
restored.

When the store cannot take an entry, the call is undone: its output is never sent, its audit
records are discarded, and the session is suspended (every message is answered with
COORDINATOR_UNAVAILABLE, timers stop) until the sidecar sees the store answer again and calls
`resume()`, which reloads the session from the store and has every client rejoin. When the store says another node holds the
session (LeaseLost), the sidecar drops the session instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from bridge.core import Coordinator, CoordinatorConfig, HandleResult, Outbound
from bridge.core.auth import Verdict
from bridge.protocol.codec import encode, encode_text
from bridge.protocol.constants import CloseCode
from bridge.protocol.dialect import to_reference_dialect
from bridge.server import snapfork
from bridge.server.conn import Conn, text_frame
from bridge.server.errors import COORDINATOR_UNAVAILABLE, transport_error
from bridge.server.turnjournal import TurnJournal
from bridge.store.base import LeaseLost, Store, StoreError
from bridge.store.transcript import TranscriptWriter

log = logging.getLogger("mpac.sidecar")
Lookup = Callable[[str], "str | None"]

# A snapshot costs time proportional to the state (seconds at 10,000 intents of 8 KiB), spent in a
# forked child and a worker thread (`snapshot_soon`), or in the loop where fork is missing and at a
# clean stop. Snapshots are spaced so that they cost at most about SNAPSHOT_BUDGET_SEC per journal
# entry, and at most 1/SNAPSHOT_TIME_SHARE of the wall time.
SNAPSHOT_BUDGET_SEC = 20e-6
SNAPSHOT_TIME_SHARE = 100
SNAPSHOT_MAX_SPREAD = 10  # never more than 10 x snapshot_every entries apart (bounds crash replay)
MARK_TIMEOUT_SEC = 60.0  # a snapshot's worker waits this long for the journal to reach its mark


def _known(seq: int) -> concurrent.futures.Future[int]:
    future: concurrent.futures.Future[int] = concurrent.futures.Future()
    future.set_result(seq)
    return future


def snapshot_interval(last_cost_sec: float, every: int) -> int:
    """Journal entries between snapshots: `every`, stretched when the last snapshot was expensive."""
    return min(every * SNAPSHOT_MAX_SPREAD, max(every, round(last_cost_sec / SNAPSHOT_BUDGET_SEC)))


class RecordingLookup:
    """Wraps the disk lookup: records answers while live, replays recorded answers on recovery."""

    def __init__(self, lookup: Lookup | None) -> None:
        self.lookup = lookup
        self.recorded: dict[str, str | None] = {}
        self.replay: dict[str, str | None] | None = None

    def __call__(self, target: str) -> str | None:
        if self.replay is not None:
            return self.replay.get(target)
        value = self.lookup(target) if self.lookup else None
        self.recorded[target] = value
        return value


class SessionHost:
    def __init__(
        self,
        session_id: str,
        config: CoordinatorConfig,
        store: Store,
        *,
        lookup: Lookup | None = None,
        verifier: Callable[[dict[str, Any] | None, str, str | None], Verdict] | None = None,
        snapshot_every: int = 5000,
        transcript: TranscriptWriter | None = None,
        on_store_error: Callable[[SessionHost, StoreError], None] | None = None,
        group: TurnJournal | None = None,
    ) -> None:
        self.session_id = session_id
        self.store = store
        self.on_store_error = on_store_error
        # The sidecar's group commit (None: each entry is appended, committed, at once).
        self.group = group
        self.suspended: str | None = None  # why changes are refused (the store failed), else None
        # The coordinator epoch to serve under: a fleet's lease epoch (None without leases).
        self.lease_epoch = store.claim(session_id)
        self.lookup = RecordingLookup(lookup)
        self._verifier = verifier
        self._header_token: str | None = None
        self._verdicts: list[Verdict] = []
        self._replay_verdict: Verdict | None = None
        self._initial: dict[str, Any] | None = None
        # principal -> its admitted connections (one per process instance: an agent's MCP server and
        # its editor hooks may be connected at the same time)
        self.conns: dict[str, list[Conn]] = {}
        self.owners: dict[
            str, str
        ] = {}  # principal -> sha256 of the token it was first admitted with
        self.snapshot_every = snapshot_every
        self.transcript = transcript
        self.since_snapshot = 0
        self.snapshot_at = time.monotonic()
        self.snapshot_cost = (
            0.0  # seconds the last snapshot took (it blocks every connection meanwhile)
        )
        # a snapshot being written by a forked child and a worker thread (bridge/server/snapfork.py)
        self.writing: asyncio.Future[None] | None = None
        self.ticked_at = 0.0
        self.wake = asyncio.Event()
        self.wake_at = 0.0  # wall-clock time the timer task will next wake up by itself
        self.timer: asyncio.Task[None] | None = None
        self.stopped = False
        self.coord, _ = self._load(config)
        self.last_activity = time.monotonic()

    # --- construction and recovery -----------------------------------------------------------

    def _verify(self, credential: dict[str, Any] | None, session_id: str) -> Verdict:
        if self._replay_verdict is not None:  # recovery: the verdict the journal recorded
            return self._replay_verdict
        verdict = (
            Verdict(True)
            if self._verifier is None
            else self._verifier(credential, session_id, self._header_token)
        )
        self._verdicts.append(verdict)
        return verdict

    def _load(self, config: CoordinatorConfig) -> tuple[Coordinator, list[Outbound]]:
        """The session as the store has it, recovered under a new epoch; and the recovery's
        COORDINATOR_STATUS for whoever is connected."""
        now = time.time()
        snap, entries = self.store.load(self.session_id)
        if snap is None and not entries:
            coord = Coordinator(
                config, self.session_id, now, self.lookup, self._verify, self.transcript
            )
            # Written with the first journal entry: a session nobody was admitted to leaves no trace.
            self._initial = json.loads(
                json.dumps(coord.snapshot(now))
            )  # a copy: the state moves on first
            return coord, []
        if snap is not None:
            coord = Coordinator.restore(
                snap,
                config,
                state_ref_lookup=self.lookup,
                credential_verifier=self._verify,
                audit=self.transcript,
            )
        else:
            coord = Coordinator(
                config, self.session_id, entries[0].now, self.lookup, self._verify, self.transcript
            )
        # The journaled calls already wrote their audit records: replay keeps the chain, not the lines.
        coord.audit_chain.sink = (lambda _r: None) if self.transcript is not None else None
        for e in entries:
            extra = json.loads(e.bound) if e.bound else {}
            self.lookup.replay = extra.get("lookups", {})
            v = extra.get("verdict")
            self._replay_verdict = Verdict.from_json(v) if v else Verdict(True)
            if e.kind == "handle":
                coord.handle(e.raw, e.now, bound_principal=extra.get("bound"))
            elif e.kind == "tick":
                coord.tick(e.now)
            elif e.kind == "close":
                coord.close(e.now, extra.get("reason", "manual"))
            elif e.kind == "recover":
                coord.recover(e.now, extra.get("epoch"))
            elif e.kind == "disconnect" and e.raw is not None:
                coord.disconnected(e.raw, e.now)
        self._replay_verdict = None
        coord.audit_chain.sink = self.transcript
        self.lookup.replay = None
        out = coord.recover(now, self.lease_epoch)
        try:
            self.store.append(
                self.session_id, "recover", now, None, json.dumps({"epoch": coord.epoch})
            )
        except StoreError:
            self._discard_transcript()
            raise
        self._flush_transcript()
        self.store.snapshot(
            self.session_id, self.store.last_seq(self.session_id), coord.snapshot(now)
        )
        log.info(
            "session %s recovered: epoch %d, %d intents, %d journal entries replayed",
            self.session_id,
            coord.epoch,
            len(coord.state.intents),
            len(entries),
        )
        return coord, out

    def _flush_transcript(self) -> None:
        if self.transcript is not None:
            self.transcript.flush()

    def _discard_transcript(self) -> None:
        if self.transcript is not None:
            self.transcript.discard()

    # --- store failures ----------------------------------------------------------------------

    def _store_failed(self, exc: StoreError) -> None:
        """A write was refused: the call that made it is undone (the caller returns before any of
        its output goes out), and the in-memory state, now ahead of the store, is frozen."""
        self._discard_transcript()
        if isinstance(exc, LeaseLost):
            self.suspended = "this coordinator node no longer serves the session"
            log.warning("lease lost: %s", exc)
        else:
            if self.suspended is None:
                log.error(
                    "session %s: the store failed (%s); refusing changes until it answers again",
                    self.session_id,
                    exc,
                )
            self.suspended = (
                "the coordinator cannot record changes right now: its store is unavailable"
            )
        if self.on_store_error is not None:
            self.on_store_error(self, exc)

    def _refuse(self, conn: Conn, raw: str | bytes, cut_off: bool = False) -> None:
        try:
            data = json.loads(raw)
            mid = data.get("message_id") if isinstance(data, dict) else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            mid = None
        text = f"{self.suspended}; this message was not applied; retry in a few seconds"
        if cut_off:
            text += " (its write was cut off: if it reached the store after all, it is in the state clients see when they rejoin)"
        conn.send(
            transport_error(
                self.session_id,
                COORDINATOR_UNAVAILABLE,
                text,
                mid if isinstance(mid, str) else None,
                {"retry_after_sec": 1},
            )
        )

    def resume(self) -> bool:
        """After a store outage: reload the session from the store under a new epoch. False while
        the store still fails (the session stays suspended; LeaseLost goes to on_store_error)."""
        if self.group is not None:
            self.group.drain()  # the reload reads the journal: nothing may still be on its way
        try:
            self.lease_epoch = self.store.claim(self.session_id)
            coord, _out = self._load(self.coord.config)
        except StoreError as exc:
            if isinstance(exc, LeaseLost) or type(exc).__name__ == "LeaseHeld":
                self._store_failed(LeaseLost(str(exc)))
            return False
        self.coord, self.suspended = coord, None
        self.since_snapshot = 0
        log.info(
            "session %s: the store answers again; serving at epoch %d", self.session_id, coord.epoch
        )
        # Every client rejoins: the reloaded coordinator counts nobody as connected (no connection
        # survives a recovery), and a write whose answer was cut off may have committed after all;
        # SESSION_INFO gives each client the exact state.
        for conn in [c for conns in self.conns.values() for c in conns]:
            conn.close(
                CloseCode.SERVICE_RESTART, "coordinator recovered from a store outage; reconnect"
            )
        self.wake.set()
        return True

    # --- inbound -----------------------------------------------------------------------------

    def handle(self, conn: Conn, raw: str | bytes) -> HandleResult:
        now = time.time()
        self.last_activity = time.monotonic()
        if self.suspended is not None:
            self._refuse(conn, raw)
            return HandleResult()
        self.lookup.recorded = {}
        self._header_token = conn.header_token
        self._verdicts = []
        group = self.group
        if group is not None:
            group.touch(self)
        result = self.coord.handle(raw, now, bound_principal=conn.principal)
        if result.changed:
            text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", "replace")
            extra: dict[str, Any] = {"bound": conn.principal}
            if self.lookup.recorded:
                extra["lookups"] = self.lookup.recorded
            if self._verdicts:
                extra["verdict"] = self._verdicts[-1].to_json()
            entry = (self.session_id, "handle", now, text, encode_text(extra))
            try:
                self._persist_initial()
                if group is None:
                    self.store.append(*entry)
            except StoreError as exc:
                self._store_failed(exc)
                if not isinstance(exc, LeaseLost):
                    self._refuse(conn, raw, cut_off=True)
                return HandleResult()
            if group is None:
                self._flush_transcript()
            else:  # committed with the turn's group, before any frame of the turn is written
                group.add(self, entry, lambda: self._refuse(conn, raw, cut_off=True))
            self._maybe_snapshot(now)  # a snapshot commits the group first
            if group is not None and self.suspended is not None:
                return HandleResult()  # the group was refused: its senders were told
        elif group is None:
            self._flush_transcript()
        if result.admitted:
            conn.principal = result.admitted
            conn.on_lost = self.disconnected
            mine = self.conns.setdefault(result.admitted, [])
            if conn not in mine:  # a second HELLO on the same socket must not double its deliveries
                mine.append(conn)
            conn.begin_join()  # the replay below is not held against the slow-consumer limit
        for msg in result.reply_to_socket:
            conn.send(msg)
        self.route(result.outbound)
        conn.end_join()
        deadline = self.coord.next_deadline()
        if deadline is not None and deadline < self.wake_at:  # else the timer wakes in time anyway
            self.wake.set()
        return result

    # --- the group commit (bridge/server/turnjournal.py) ---------------------------------------

    def take_lines(self) -> tuple[TranscriptWriter, list[str]] | None:
        """The audit lines written since the last seal, for the journal's writer thread."""
        if self.transcript is None:
            return None
        lines = self.transcript.take()
        return (self.transcript, lines) if lines else None

    def group_failed(self, exc: StoreError, lost: list[Callable[[], Any]]) -> None:
        """The turn's group was refused: this session's calls of the turn are undone like a
        refused append (nothing of them is sent), and each of their senders is told to retry."""
        self._store_failed(exc)
        for conns in self.conns.values():
            for c in conns:
                c.drop_pending()
        if not isinstance(exc, LeaseLost):
            for refuse in lost:
                refuse()

    def _journal(self, kind: str, now: float, raw: str | None = None) -> bool:
        """Journal a timer or disconnect call; False when the store refused it (the call is
        undone and its output must not be sent)."""
        try:
            self._persist_initial()
            if self.group is None:
                self.store.append(self.session_id, kind, now, raw)
            else:
                self.group.add(self, (self.session_id, kind, now, raw, None))
        except StoreError as exc:
            self._store_failed(exc)
            return False
        self._maybe_snapshot(now)  # with a group, commits it first: it may be refused
        return self.group is None or self.suspended is None

    def route(self, outbound: list[Outbound]) -> None:
        for out in outbound:
            text = encode(out.message)  # encoded once and
            frame = text_frame(text)  # framed once for every plain recipient
            reference: tuple[bytes, bytes] | None = (
                None  # encoded once, for the first reference-dialect recipient
            )
            targets = (
                self.conns
                if out.to.is_all
                else {p: self.conns.get(p, []) for p in out.to.principals or ()}
            )
            for conns in list(targets.values()):
                for c in list(conns):
                    if not c.reference:
                        c.send(text, frame)
                        continue
                    if reference is None:
                        converted = to_reference_dialect(out.message)
                        if converted is out.message:
                            reference = (text, frame)
                        else:
                            ref_text = encode(converted)
                            reference = (ref_text, text_frame(ref_text))
                    c.send(*reference)

    def connection_count(self) -> int:
        return sum(len(v) for v in self.conns.values())

    def disconnected(self, conn: Conn) -> None:
        """A connection closed (or was cut off). When it was its principal's last one, the core is
        told at once, so every participant's view shows the principal as disconnected. Safe to call
        twice for one connection."""
        conns = self.conns.get(conn.principal or "")
        if conns is not None and conn in conns:
            conns.remove(conn)
            if not conns:
                del self.conns[conn.principal or ""]
                # a clean stop closes every connection, and recovery marks them anyway; a suspended
                # or dropped session records nothing (its next load marks everyone disconnected)
                if not self.stopped and self.suspended is None:
                    self._connection_lost(conn.principal or "")
        self.last_activity = time.monotonic()

    def _connection_lost(self, principal: str) -> None:
        now = time.time()
        if self.group is not None:
            self.group.touch(self)
        result = self.coord.disconnected(principal, now)
        if result.changed and not self._journal("disconnect", now, principal):
            return
        if self.group is None:
            self._flush_transcript()
        self.route(result.outbound)

    # --- timers and snapshots ----------------------------------------------------------------

    def _persist_initial(self) -> None:
        if self._initial is not None:
            self.store.snapshot(self.session_id, 0, self._initial)
            self._initial = None

    def _maybe_snapshot(self, now: float) -> None:
        self.since_snapshot += 1
        if self.since_snapshot >= snapshot_interval(self.snapshot_cost, self.snapshot_every):
            self.snapshot_soon(now)

    def snapshot_soon(self, now: float) -> None:
        """Snapshot the state as it is now without holding the event loop: a forked child encodes
        it and a worker thread stores it (bridge/server/snapfork.py). The loop pays for the fork
        only. Without fork, or with a store that cannot take parts, it is written here and now."""
        write_parts = getattr(self.store, "write_parts", None)
        if not snapfork.AVAILABLE or write_parts is None:
            self.snapshot(now)
            return
        if self.writing is not None:
            return  # the next entry or tick tries again
        if self.suspended is not None:
            return
        started = time.perf_counter()
        coord = self.coord
        pid, fd = snapfork.fork(lambda: coord.snapshot(now))
        # The snapshot covers every entry applied so far: its seq is the journal's position once
        # they are all committed (the writer thread's answer to the mark), or a restart would
        # replay some of them on top of it. Sealed after the fork, so that the writer thread is
        # not woken to touch the journal's files while the loop forks.
        mark = (
            self.group.seal([], mark=self.session_id)
            if self.group is not None
            else _known(self.store.last_seq(self.session_id))
        )
        self._initial = None
        self.since_snapshot = 0
        self.snapshot_at = time.monotonic()

        def write() -> None:
            try:
                assert mark is not None
                seq = mark.result(timeout=MARK_TIMEOUT_SEC)  # raises when the entries were refused
                write_parts(self.session_id, seq, snapfork.pieces(fd), paced=True)
            finally:
                code = snapfork.reap(pid, fd)
                if code != 0:
                    log.warning(
                        "session %s: the snapshot process exited with %d", self.session_id, code
                    )

        self.writing = asyncio.get_running_loop().run_in_executor(None, write)
        self.writing.add_done_callback(lambda fut: self._written(fut, started))

    def _written(self, fut: asyncio.Future[None], started: float) -> None:
        self.writing = None
        self.snapshot_cost = time.perf_counter() - started
        exc = None if fut.cancelled() else fut.exception()
        if exc is not None:
            self._snapshot_failed(exc)

    def _snapshot_failed(self, exc: BaseException) -> None:
        """A lost lease suspends the session; any other refusal only costs this snapshot."""
        if isinstance(exc, LeaseLost):
            self._store_failed(exc)
        else:
            log.warning(
                "session %s: snapshot not written (%s); the journal keeps every entry",
                self.session_id,
                exc,
            )

    def snapshot(self, now: float | None = None) -> bool:
        """Write a snapshot now; False when the store refused it (the journal still has every
        entry, so nothing is lost: a later snapshot or a replay covers it)."""
        if self.group is not None:
            self.group.drain()  # the snapshot covers every entry journaled so far
        if self.suspended is not None:
            return False
        now = time.time() if now is None else now
        started = time.perf_counter()
        try:
            self._write_snapshot(now)
            return True
        except StoreError as exc:
            self._snapshot_failed(exc)
            return False
        finally:
            self.snapshot_cost = time.perf_counter() - started

    def _write_snapshot(self, now: float) -> None:
        self.store.snapshot(
            self.session_id, self.store.last_seq(self.session_id), self.coord.snapshot(now)
        )
        self._initial = None
        self.since_snapshot = 0
        self.snapshot_at = time.monotonic()

    def start(self) -> None:
        self.timer = asyncio.get_running_loop().create_task(self._timers())

    async def _timers(self) -> None:
        """Tick when the core's next deadline arrives, and at least once a second; snapshot at
        least once per heartbeat interval while the state changes."""
        every = max(1.0, float(self.coord.config.heartbeat_interval_sec))
        while True:
            deadline = self.coord.next_deadline()
            delay = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.time()))
            self.wake.clear()
            self.wake_at = time.time() + delay
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=delay)
            now = time.time()
            if self.suspended is not None:
                continue  # nothing moves until the store answers again (resume() reloads)
            if (deadline is not None and now >= deadline) or now - self.ticked_at >= 1.0:
                self.ticked_at = now
                if self.group is not None:
                    self.group.touch(self)
                result = self.coord.tick(now)
                if result.changed and not self._journal("tick", now):
                    continue
                if self.group is None:
                    self._flush_transcript()
                self.route(result.outbound)
            if self.since_snapshot and time.monotonic() - self.snapshot_at >= max(
                every, SNAPSHOT_TIME_SHARE * self.snapshot_cost
            ):
                self.snapshot_soon(now)

    async def stop(self) -> None:
        self.stopped = True
        if self.writing is not None:  # let the snapshot in flight finish before the store closes
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.writing), 60)
        if self.timer is not None:
            self.timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.timer

"""SessionHost: one coordinator, its journal, its connections and its timers.

Every call into the core whose result changed the state is journaled (with any disk lookups it
made) before a single byte of its output is sent: the append commits, and the frames leave later,
at the end of the event-loop turn, through the sidecar's Outbox. A restart replays the journal
after the latest snapshot through the same calls, so what clients were told is exactly what is
restored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from bridge.core import Coordinator, CoordinatorConfig, HandleResult, Outbound
from bridge.core.auth import Verdict
from bridge.protocol.dialect import to_reference_dialect
from bridge.server.conn import Conn, text_frame
from bridge.store.base import Store
from bridge.store.transcript import TranscriptWriter

log = logging.getLogger("mpac.sidecar")
Lookup = Callable[[str], "str | None"]

# A snapshot blocks every connection of the sidecar while it is built and written (about 50 ms at
# 10,000 active intents, more with full history). Snapshots are spaced so that they cost at most
# about SNAPSHOT_BUDGET_SEC per journal entry, and at most 1/SNAPSHOT_TIME_SHARE of the wall time.
SNAPSHOT_BUDGET_SEC = 20e-6
SNAPSHOT_TIME_SHARE = 100
SNAPSHOT_MAX_SPREAD = 10  # never more than 10 x snapshot_every entries apart (bounds crash replay)


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
    ) -> None:
        self.session_id = session_id
        self.store = store
        self.lookup = RecordingLookup(lookup)
        self._verifier = verifier
        self._header_token: str | None = None
        self._verdicts: list[Verdict] = []
        self._replay_verdict: Verdict | None = None
        self._initial: dict[str, Any] | None = None
        # principal -> its admitted connections (one per process instance: an agent's MCP server and
        # its editor hooks may be connected at the same time)
        self.conns: dict[str, list[Conn]] = {}
        self.owners: dict[str, str] = {}  # principal -> sha256 of the token it was first admitted with
        self.snapshot_every = snapshot_every
        self.transcript = transcript
        self.since_snapshot = 0
        self.snapshot_at = time.monotonic()
        self.snapshot_cost = 0.0  # seconds the last snapshot took (it blocks every connection meanwhile)
        self.ticked_at = 0.0
        self.wake = asyncio.Event()
        self.wake_at = 0.0  # wall-clock time the timer task will next wake up by itself
        self.timer: asyncio.Task[None] | None = None
        self.stopped = False
        self.coord = self._load(config)
        self.last_activity = time.monotonic()

    # --- construction and recovery -----------------------------------------------------------

    def _verify(self, credential: dict[str, Any] | None, session_id: str) -> Verdict:
        if self._replay_verdict is not None:  # recovery: the verdict the journal recorded
            return self._replay_verdict
        verdict = Verdict(True) if self._verifier is None else self._verifier(credential, session_id, self._header_token)
        self._verdicts.append(verdict)
        return verdict

    def _load(self, config: CoordinatorConfig) -> Coordinator:
        now = time.time()
        snap, entries = self.store.load(self.session_id)
        if snap is None and not entries:
            coord = Coordinator(config, self.session_id, now, self.lookup, self._verify, self.transcript)
            # Written with the first journal entry: a session nobody was admitted to leaves no trace.
            self._initial = json.loads(json.dumps(coord.snapshot(now)))  # a copy: the state moves on first
            return coord
        if snap is not None:
            coord = Coordinator.restore(snap, config, state_ref_lookup=self.lookup, credential_verifier=self._verify, audit=self.transcript)
        else:
            coord = Coordinator(config, self.session_id, entries[0].now, self.lookup, self._verify, self.transcript)
        # The journaled calls already wrote their audit records: replay keeps the chain, not the lines.
        coord.audit_chain.sink = (lambda _r: None) if self.transcript is not None else None
        for e in entries:
            extra = json.loads(e.bound) if e.bound else {}
            self.lookup.replay = extra.get("lookups", {})
            v = extra.get("verdict")
            self._replay_verdict = Verdict(v["accepted"], v["reason"], tuple(v["roles"]) if v["roles"] else None, v["principal_id"]) if v else Verdict(True)
            if e.kind == "handle":
                coord.handle(e.raw, e.now, bound_principal=extra.get("bound"))
            elif e.kind == "tick":
                coord.tick(e.now)
            elif e.kind == "close":
                coord.close(e.now, extra.get("reason", "manual"))
            elif e.kind == "recover":
                coord.recover(e.now)
            elif e.kind == "disconnect" and e.raw is not None:
                coord.disconnected(e.raw, e.now)
        self._replay_verdict = None
        coord.audit_chain.sink = self.transcript
        self.lookup.replay = None
        coord.recover(now)
        self._flush_transcript()
        self.store.append(self.session_id, "recover", now)
        self.store.snapshot(self.session_id, self.store.last_seq(self.session_id), coord.snapshot(now))
        log.info("session %s recovered: epoch %d, %d intents, %d journal entries replayed", self.session_id, coord.epoch, len(coord.intents), len(entries))
        return coord

    def _flush_transcript(self) -> None:
        if self.transcript is not None:
            self.transcript.flush()

    # --- inbound -----------------------------------------------------------------------------

    def handle(self, conn: Conn, raw: str | bytes) -> HandleResult:
        now = time.time()
        self.last_activity = time.monotonic()
        self.lookup.recorded = {}
        self._header_token = conn.header_token
        self._verdicts = []
        result = self.coord.handle(raw, now, bound_principal=conn.principal)
        self._flush_transcript()
        if result.changed:
            text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", "replace")
            extra: dict[str, Any] = {"bound": conn.principal}
            if self.lookup.recorded:
                extra["lookups"] = self.lookup.recorded
            if self._verdicts:
                v = self._verdicts[-1]
                extra["verdict"] = {"accepted": v.accepted, "reason": v.reason, "roles": list(v.roles) if v.roles else None, "principal_id": v.principal_id}
            self._persist_initial()
            self.store.append(self.session_id, "handle", now, text, json.dumps(extra))
            self._maybe_snapshot(now)
        if result.admitted:
            conn.principal = result.admitted
            conn.on_lost = self.disconnected
            mine = self.conns.setdefault(result.admitted, [])
            if conn not in mine:  # a second HELLO on the same socket must not double its deliveries
                mine.append(conn)
        for msg in result.reply_to_socket:
            conn.send(msg)
        self.route(result.outbound)
        deadline = self.coord.next_deadline()
        if deadline is not None and deadline < self.wake_at:  # else the timer wakes in time anyway
            self.wake.set()
        return result

    def route(self, outbound: list[Outbound]) -> None:
        for out in outbound:
            text = json.dumps(out.message, separators=(",", ":"))
            frame = text_frame(text)  # framed once for every plain recipient
            reference: tuple[str, bytes] | None = None  # encoded once, for the first reference-dialect recipient
            targets = self.conns if out.to.is_all else {p: self.conns.get(p, []) for p in out.to.principals or ()}
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
                            ref_text = json.dumps(converted, separators=(",", ":"))
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
                if not self.stopped:  # a clean stop closes every connection; recovery marks them anyway
                    self._connection_lost(conn.principal or "")
        self.last_activity = time.monotonic()

    def _connection_lost(self, principal: str) -> None:
        now = time.time()
        result = self.coord.disconnected(principal, now)
        self._flush_transcript()
        if result.changed:
            self._persist_initial()
            self.store.append(self.session_id, "disconnect", now, principal)
            self._maybe_snapshot(now)
        self.route(result.outbound)

    # --- timers and snapshots ----------------------------------------------------------------

    def _persist_initial(self) -> None:
        if self._initial is not None:
            self.store.snapshot(self.session_id, 0, self._initial)
            self._initial = None

    def _maybe_snapshot(self, now: float) -> None:
        self.since_snapshot += 1
        if self.since_snapshot >= snapshot_interval(self.snapshot_cost, self.snapshot_every):
            self.snapshot(now)

    def snapshot(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        started = time.perf_counter()
        try:
            self._write_snapshot(now)
        finally:
            self.snapshot_cost = time.perf_counter() - started

    def _write_snapshot(self, now: float) -> None:
        self._initial = None
        self.store.snapshot(self.session_id, self.store.last_seq(self.session_id), self.coord.snapshot(now))
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
            if (deadline is not None and now >= deadline) or now - self.ticked_at >= 1.0:
                self.ticked_at = now
                result = self.coord.tick(now)
                self._flush_transcript()
                if result.changed:
                    self._persist_initial()
                    self.store.append(self.session_id, "tick", now)
                    self._maybe_snapshot(now)
                self.route(result.outbound)
            if self.since_snapshot and time.monotonic() - self.snapshot_at >= max(every, SNAPSHOT_TIME_SHARE * self.snapshot_cost):
                self.snapshot(now)

    async def stop(self) -> None:
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.timer

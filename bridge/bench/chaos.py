"""Fleet chaos: sessions with several clients announcing and committing through nginx while the
node serving the most sessions is killed with SIGKILL and restarted, again and again.

Each client records what the fleet acknowledged and every message it received; `run()` returns
those records with the failover times, and the caller (the chaos test, `bench fleet`) judges them:
every acknowledged intent and commit still there, no message id delivered twice with different
content, coordinator epochs never going back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.bench.fleetrig import FleetRig
from bridge.client import SessionClient

log = logging.getLogger("mpac.chaos")


def ref(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class RecordingClient(SessionClient):
    """A SessionClient that shows every inbound message to `record` before its view may drop it
    (a message from an older coordinator epoch is dropped unseen by listeners)."""

    record: Callable[[dict[str, Any]], None] | None = None

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if self.record is not None:
            self.record(msg)
        super()._dispatch(msg)


@dataclass
class Worker:
    """One client of one session, pacing its announce + commit pairs."""

    url: str
    session_id: str
    principal: str
    client: RecordingClient = field(init=False)
    acked_intents: list[str] = field(default_factory=list)
    acked_commits: dict[str, str] = field(default_factory=dict)  # target -> state_ref
    seen: dict[str, str] = field(default_factory=dict)  # message_id -> canonical content
    differing: list[str] = field(default_factory=list)  # ids delivered twice with different content
    epochs: list[int] = field(
        default_factory=list
    )  # coordinator_epoch of coordinator messages, in order
    served: list[float] = field(default_factory=list)  # monotonic times of answers and (re)joins
    rejoins: list[float] = field(default_factory=list)  # monotonic times of reconnections
    failures: int = 0

    def __post_init__(self) -> None:
        self.client = RecordingClient(self.url, self.principal, session_id=self.session_id)
        self.client.record = self._record
        self.client.on_event(self._joined)

    def _joined(self, m: dict[str, Any]) -> None:
        """(Re)joins: SESSION_INFO from the handshake, and the reconnected notice."""
        mtype = m.get("message_type", "")
        if mtype == "SESSION_INFO" and m is self.client.session_info:
            self._record(m)
        elif mtype == "_CONNECTION" and (m.get("payload") or {}).get("state") == "connected":
            now = time.monotonic()
            self.rejoins.append(now)
            self.served.append(now)

    def served_again(self, killed: float) -> float | None:
        """The first answer after a kill that came over a new connection: an answer the killed node
        wrote before it died can still be read after the kill, and must not count as a takeover."""
        rejoined = next((r for r in self.rejoins if r > killed), None)
        if rejoined is None:
            return None
        return min(s for s in self.served if s >= rejoined)

    def _record(self, m: dict[str, Any]) -> None:
        mid = m.get("message_id")
        if isinstance(mid, str):
            text = json.dumps(m, sort_keys=True, separators=(",", ":"))
            if self.seen.setdefault(mid, text) != text:
                self.differing.append(mid)
        epoch = m.get("coordinator_epoch")
        if isinstance(epoch, int):
            self.epochs.append(epoch)

    async def run(self, stop: asyncio.Event, pace: float) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            iid = f"{self.principal}-{n}"
            target = f"{self.principal.split(':', 1)[1]}/f{n}.py"
            reply = await self.client.announce(
                "chaos", [target], intent_id=iid, ttl_sec=3600, timeout=15
            )
            if reply.ok:
                self.acked_intents.append(iid)
                self.served.append(time.monotonic())
                after = ref(f"{iid}/1")
                commit = await self.client.commit(
                    iid, target, None, after, op_id=f"{iid}-op", timeout=15
                )
                if commit.ok:
                    self.acked_commits[target] = after
                    self.served.append(time.monotonic())
                else:
                    self.failures += 1
            else:
                self.failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pace)  # the workload's pace between two pairs


@dataclass
class ChaosReport:
    failovers_ms: list[float] = field(default_factory=list)  # per (kill, affected session)
    all_back_ms: list[float] = field(
        default_factory=list
    )  # per kill: every affected session served
    kills: list[dict[str, Any]] = field(default_factory=list)
    missing_intents: list[str] = field(default_factory=list)
    missing_commits: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    epoch_regressions: list[str] = field(default_factory=list)
    lease_regressions: list[str] = field(default_factory=list)
    acked_intents: int = 0
    acked_commits: int = 0
    failures: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (
            self.missing_intents
            or self.missing_commits
            or self.differing
            or self.epoch_regressions
            or self.lease_regressions
        )


async def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)  # polling the workers' records with a deadline


async def run(
    store_url: str,
    root: Path,
    *,
    sessions: int = 20,
    clients: int = 3,
    kills: int = 5,
    pace: float = 0.2,
    lease_ttl: float = 3.0,
    progress: Callable[[str], None] | None = None,
) -> ChaosReport:
    say = progress or (lambda _t: None)
    report = ChaosReport()
    started = time.monotonic()
    async with FleetRig(store_url, root, ["n1", "n2", "n3"], lease_ttl=lease_ttl) as rig:
        say(f"chaos: 3 nodes and nginx up after {time.monotonic() - started:.1f} s")
        sids = [f"chaos{n:02d}" for n in range(sessions)]
        workers = [
            Worker(rig.session_url(sid), sid, f"agent:{sid}-c{k}")
            for sid in sids
            for k in range(clients)
        ]
        # one at a time, every session's first client before the others: nginx's round robin then
        # hands each node its share of new sessions (the later clients are redirected to them)
        for w in sorted(workers, key=lambda w: w.principal.rsplit("-c", 1)[1]):
            await w.client.connect(timeout=30)
        say(
            f"chaos: {len(workers)} clients in {sessions} sessions on 3 nodes after {time.monotonic() - started:.1f} s"
        )
        stop = asyncio.Event()
        loops = [asyncio.ensure_future(w.run(stop, pace)) for w in workers]
        by_session = {sid: [w for w in workers if w.session_id == sid] for sid in sids}
        last_epochs = {sid: epoch for sid, (_h, epoch) in rig.holders().items()}
        try:
            for round_no in range(kills):
                acked = sum(len(w.acked_intents) for w in workers)

                def traffic(a: int = acked) -> bool:
                    return sum(len(w.acked_intents) for w in workers) >= a + len(workers)

                await _until(traffic, 60, "traffic")
                holders = rig.holders()
                counts: dict[str, int] = {}
                for _sid, (holder, _e) in holders.items():
                    if holder:
                        counts[holder] = counts.get(holder, 0) + 1
                victim = max(counts, key=lambda n: counts[n])
                affected = [sid for sid, (holder, _e) in holders.items() if holder == victim]
                killed = await rig.kill(victim)

                def back(sid: str, t: float = killed) -> float | None:
                    times = [w.served_again(t) for w in by_session[sid]]
                    return min((s for s in times if s is not None), default=None)

                def served(aff: list[str] = affected) -> bool:
                    return all(back(s) is not None for s in aff)

                await _until(served, 60, f"sessions of {victim} to be served again")
                times = [(back(s) or killed) - killed for s in affected]
                report.failovers_ms += [t * 1000 for t in times]
                report.all_back_ms.append(max(times) * 1000)
                report.kills.append(
                    {
                        "round": round_no + 1,
                        "node": victim,
                        "sessions": len(affected),
                        "failover_ms_max": max(times) * 1000,
                        "failover_ms_min": min(times) * 1000,
                    }
                )
                say(
                    f"chaos: killed {victim} ({len(affected)} sessions): first client served again after "
                    f"{min(times) * 1000:.0f}-{max(times) * 1000:.0f} ms"
                )
                await rig.launch(
                    victim
                )  # restarted, empty-handed: it serves what it takes or creates later
                now_holders = rig.holders()
                for sid, (holder, epoch) in now_holders.items():
                    if epoch < last_epochs.get(sid, 0):
                        report.lease_regressions.append(
                            f"{sid}: epoch {last_epochs[sid]} -> {epoch}"
                        )
                    if sid in affected and (holder == victim or epoch <= holders[sid][1]):
                        report.lease_regressions.append(
                            f"{sid}: not taken over after {victim} died ({holder}, {epoch})"
                        )
                    last_epochs[sid] = epoch
        finally:
            stop.set()
            await asyncio.gather(*loops, return_exceptions=True)
        say(
            f"chaos: {kills} kills done after {time.monotonic() - started:.1f} s; checking the state"
        )
        await _check(rig, sids, workers, report)
        say(f"chaos: checked after {time.monotonic() - started:.1f} s")
        await asyncio.gather(*(w.client.close() for w in workers))
        say(f"chaos: clients closed after {time.monotonic() - started:.1f} s")
    report.seconds = time.monotonic() - started
    return report


async def _check(
    rig: FleetRig, sids: list[str], workers: list[Worker], report: ChaosReport
) -> None:
    """A fresh client per session reads the state the fleet serves now."""
    for sid in sids:
        checker = SessionClient(rig.session_url(sid), f"service:check-{sid}", session_id=sid)
        await checker.connect(timeout=30)
        view = checker.view
        for w in (w for w in workers if w.session_id == sid):
            report.missing_intents += [
                f"{sid}/{i}" for i in w.acked_intents if i not in view.intents
            ]
            report.missing_commits += [
                f"{sid}/{t}"
                for t, r in w.acked_commits.items()
                if (view.targets.get(t) or {}).get("state_ref") != r
            ]
            report.differing += [f"{w.principal}: {mid}" for mid in w.differing]
            if any(b < a for a, b in zip(w.epochs, w.epochs[1:], strict=False)):
                report.epoch_regressions.append(f"{w.principal}: {w.epochs}")
            report.acked_intents += len(w.acked_intents)
            report.acked_commits += len(w.acked_commits)
            report.failures += w.failures
        await checker.close()

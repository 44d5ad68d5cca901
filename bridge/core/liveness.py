"""Liveness (§14.7): every accepted message is a sign of life; a participant silent for the
unavailability timeout becomes unavailable (its intents SUSPENDED, claimable; its proposals
abandoned); one that speaks again is back (its intents resume, claims on them are withdrawn). A
lost connection changes presence at once but suspends nothing."""

from __future__ import annotations

from bridge.core.claims import ClaimLayer
from bridge.core.emit import Emitter
from bridge.core.intents import IntentLayer
from bridge.core.operations import OperationLayer
from bridge.core.outbound import To
from bridge.core.state import SessionState
from bridge.core.status import Status
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import EXT
from bridge.protocol.enums import IntentState
from bridge.protocol.states import OpEvent

WATCHERS = frozenset({"owner", "arbiter", "observer"})


class LivenessLayer:
    def __init__(
        self,
        state: SessionState,
        emitter: Emitter,
        status: Status,
        intents: IntentLayer,
        operations: OperationLayer,
        claims: ClaimLayer,
    ) -> None:
        self.state = state
        self.emitter = emitter
        self.status = status
        self.intents = intents
        self.operations = operations
        self.claims = claims

    def touch(self, pid: str, message_id: str) -> None:
        """Any accepted message is a sign of life (§14.7.1)."""
        st = self.state
        part = st.participants.get(pid)
        if part is None:
            return
        part.last_seen = st.now
        part.last_message_id = message_id
        if not part.is_available or not part.connected:
            part.is_available, part.connected = True, True
            self.status.presence(part)
            self.owner_returned(pid)
            st.timers.liveness.push(st.now + st.config.unavailability_timeout_sec, pid)
        # Otherwise the pending liveness entry is pushed forward when it comes due (no heap growth).

    def owner_returned(self, pid: str) -> None:
        """I8: the owner is back: SUSPENDED -> ACTIVE, FROZEN -> PROPOSED, pending claims withdrawn."""
        st = self.state
        for iid in sorted(st.by_principal.get(pid)):
            intent = st.intents[iid]
            if intent.state != IntentState.SUSPENDED:
                continue
            self.claims.withdraw(iid)
            self.intents.resume(intent)

    def check(self) -> None:
        """Participants whose unavailability deadline passed without a sign of life."""
        st = self.state
        timeout = st.config.unavailability_timeout_sec
        while (due := st.timers.liveness.pop_due(st.now)) is not None:
            pid = due[1]
            part = st.participants.get(pid)
            if part is None or not part.is_available or part.status == "offline":
                continue
            deadline = part.last_seen + timeout
            if deadline > st.now:
                st.timers.liveness.push(deadline, pid)  # seen since: look again at the new deadline
                continue
            part.is_available = False
            suspended = []
            for iid in sorted(st.by_principal.get(pid)):
                intent = st.intents[iid]
                if intent.state == IntentState.ACTIVE:
                    self.intents.suspend(intent, "owner_unavailable")
                    suspended.append(iid)
            for op in [o for o in st.ops.values() if o.principal_id == pid]:
                self.operations.end(op, OpEvent.SENDER_UNAVAILABLE, "participant_unavailable")
            self.emitter.emit(
                "PROTOCOL_ERROR",
                {
                    "error_code": str(ErrorCode.PARTICIPANT_UNAVAILABLE),
                    "refers_to": part.last_message_id,
                    "description": f"{pid} has been silent for {int(timeout)} s; "
                    f"its {len(suspended)} active intent(s) are suspended and can be taken over",
                    "extensions": {EXT: {"principal_id": pid, "suspended_intents": suspended}},
                },
                self.who_needs_unavailability(pid, suspended),
            )
            self.status.presence(
                part
            )  # everyone else's view too (the error goes to those who act on it)
            self.emitter.note({"event": "unavailable", "principal_id": pid, "suspended": suspended})
            self.claims.decider_lost()

    def who_needs_unavailability(self, pid: str, suspended: list[str]) -> To:
        """Owners, arbiters and observers (they can act or watch), plus every principal whose live
        intents overlap the suspended ones (they may want to take over)."""
        st = self.state
        need = {q for q, part in st.participants.items() if q != pid and set(part.roles) & WATCHERS}
        for iid in suspended:
            norm = st.norms.get(iid)
            if norm is not None:
                need |= {
                    st.intents[o].principal_id for o, _ov in st.index.overlapping(norm, exclude=iid)
                }
        need.discard(pid)
        return To.only(*sorted(need))

    def connection_lost(self, pid: str) -> bool:
        """The transport's last connection of `pid` closed without a GOODBYE (a crash, a cut-off slow
        consumer, a hook that exits). Presence changes at once and everyone is told; the intents stay
        until the unavailability timeout, so an agent that reconnects loses nothing. Returns whether
        the state changed."""
        st = self.state
        part = st.participants.get(pid)
        if part is None:
            return False
        if part.transient:
            del st.participants[pid]
            return True
        if not part.connected:
            return False
        part.connected = False
        self.status.presence(part)
        self.emitter.note({"event": "connection_lost", "principal_id": pid})
        self.claims.decider_lost()
        return True

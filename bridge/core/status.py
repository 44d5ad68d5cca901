"""COORDINATOR_STATUS: the coordinator's heartbeat, and the notices that ride on it (presence
changes, pre_commit authorizations, recovery)."""

from __future__ import annotations

from typing import Any

from bridge.core.emit import Emitter
from bridge.core.outbound import To
from bridge.core.records import Participant
from bridge.core.state import SessionState
from bridge.protocol.constants import EXT


class Status:
    def __init__(self, state: SessionState, emitter: Emitter) -> None:
        self.state = state
        self.emitter = emitter

    def coordinator_status(self, event: str = "heartbeat", **extra: Any) -> None:
        st = self.state
        payload = {
            "event": event,
            "coordinator_id": st.coordinator_id,
            "session_health": "degraded" if st.conflicts else "healthy",
            "active_participants": st.available_count(),
            "open_conflicts": len(st.conflicts),
            "snapshot_lamport_clock": st.clock.value,
            **extra,
        }
        self.emitter.emit("COORDINATOR_STATUS", payload, To.ALL)

    def presence(self, part: Participant) -> None:
        """Tell everyone a participant's presence changed when no participant message says so: a
        COORDINATOR_STATUS carrying it in `extensions["mpac-bridge"].presence`."""
        presence = {
            "principal_id": part.principal_id,
            "connected": part.connected,
            "is_available": part.is_available,
            "status": part.status,
        }
        self.coordinator_status("heartbeat", extensions={EXT: {"presence": presence}})

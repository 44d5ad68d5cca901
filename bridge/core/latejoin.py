"""Late joiners: the live state, replayed as ordinary messages and as a compact extension.

Right after SESSION_INFO a joiner receives, addressed to it alone: the HELLO of every other
participant, the stored INTENT_ANNOUNCE (and latest INTENT_UPDATE) of every live intent, the last
commit of every target, and the CONFLICT_REPORT of every open conflict. A reference client
understands these as if it had been there. Our client reads the same state from
`SESSION_INFO.payload.extensions["mpac-bridge"]["state"]` instead.
"""

from __future__ import annotations

from typing import Any

from bridge.core.compact import unpack
from bridge.core.emit import Emitter
from bridge.core.outbound import To
from bridge.core.state import SessionState
from bridge.protocol.constants import EXT, PROTOCOL, PROTOCOL_VERSION
from bridge.protocol.enums import IntentState
from bridge.protocol.stamps import format_ts


class LateJoin:
    def __init__(self, state: SessionState, emitter: Emitter) -> None:
        self.state = state
        self.emitter = emitter

    def compact_state(self) -> dict[str, Any]:
        st = self.state
        intents = []
        for intent in sorted(st.intents.values(), key=lambda i: i.received_at):
            pub = intent.public()
            pub["expires_at"] = format_ts(intent.expires_at)
            pub["received_at"] = format_ts(intent.received_at)
            intents.append(pub)
        targets: dict[str, Any] = {}
        linked: dict[str, dict[str, Any]] = {}  # linked worktrees keep their own record of a file
        for v in st.targets.values():
            record = {"state_ref": v.state_ref, "op_id": v.op_id, "principal_id": v.principal_id}
            (linked.setdefault(v.worktree, {}) if v.worktree else targets)[v.target] = record
        return {
            "participants": [p.public() for p in st.participants.values() if not p.transient],
            "intents": intents,
            "conflicts": [c.public() for c in st.conflicts.values()],
            "targets": targets,
            "worktree_targets": linked,
            "deferrals": [d.public() for d in st.deferrals.values()],
            "lamport_clock": st.clock.value,
            "coordinator_epoch": st.epoch,
        }

    def replay_live_state(self, pid: str) -> None:
        st, emitter = self.state, self.emitter
        to = To.only(pid)
        for other in st.participants.values():
            if other.principal_id == pid or other.transient:
                continue
            hello = {
                "protocol": PROTOCOL,
                "version": PROTOCOL_VERSION,
                "message_type": "HELLO",
                # unique per replay (message ids MUST be unique; the content changes between
                # replays) and still derived from the state, so journal replay reproduces it
                "message_id": f"{st.coordinator_id}:e{st.epoch}:{st.clock.value}:replay:hello:{other.principal_id}",
                "session_id": st.session_id,
                "sender": {
                    "principal_id": other.principal_id,
                    "principal_type": other.principal_type,
                    "sender_instance_id": other.instance_id,
                },
                "ts": format_ts(other.joined_at),
                "payload": {
                    "display_name": other.display_name,
                    "roles": other.roles,
                    "capabilities": other.capabilities,
                },
                "extensions": {
                    EXT: {
                        "replay": True,
                        "status": other.status,
                        "is_available": other.is_available,
                        "connected": other.connected,
                    }
                },
            }
            emitter.relay(hello, to)
        for intent in sorted(st.intents.values(), key=lambda i: i.received_at):
            announce = intent.announce_envelope()
            if announce is not None:
                emitter.relay(announce, to)
            update = unpack(intent.update)
            if update is not None:
                emitter.relay(update, to)
            if intent.state == IntentState.SUSPENDED:
                ext = {
                    EXT: {
                        "state": intent.state,
                        "reason": "replay",
                        "principal_id": intent.principal_id,
                    }
                }
                emitter.emit(
                    "INTENT_UPDATE", {"intent_id": intent.intent_id, "extensions": ext}, to
                )
        for target in st.targets.values():
            if target.commit is not None:
                emitter.relay(target.commit, to)
        for conflict in st.conflicts.values():
            if conflict.report is not None:
                emitter.relay(conflict.report, to)

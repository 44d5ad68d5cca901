"""Emitter: the coordinator's messages out of one call, and its audit trail.

Every layer sends through here: `emit` builds a coordinator envelope (advancing the Lamport clock,
so any call that emitted changed the state), `relay` forwards a participant's message verbatim,
`error` refuses (to the sender, or to the bare connection when no principal is admitted on it),
`note` records a decision in the audit chain. The transport collects the lot when the call ends.
"""

from __future__ import annotations

from typing import Any

from bridge.core.audit import AuditChain
from bridge.core.outbound import Outbound, To
from bridge.core.state import SessionState
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import PROTOCOL, PROTOCOL_VERSION
from bridge.protocol.frames import ParseFailure
from bridge.protocol.stamps import build_envelope, format_ts


class Emitter:
    def __init__(self, state: SessionState, audit: AuditChain) -> None:
        self.state = state
        self.audit = audit
        self.out: list[Outbound] = []
        # replies for a connection with no admitted principal (a refused HELLO, garbage)
        self.socket: list[dict[str, Any]] = []
        self.unparsed = 0  # refusals outside the causal order so far (for their ids; not state)

    def sender(self) -> dict[str, str]:
        st = self.state
        return {
            "principal_id": st.coordinator_id,
            "principal_type": "service",
            "sender_instance_id": f"{st.coordinator_id}#e{st.epoch}",
        }

    def envelope(
        self, mtype: str, payload: dict[str, Any], *, in_reply_to: str | None = None
    ) -> dict[str, Any]:
        """A coordinator envelope (not sent: `emit` sends one)."""
        st = self.state
        lamport = st.clock.tick()
        st.counters["messages_out"] += 1
        return build_envelope(
            mtype,
            payload,
            session_id=st.session_id,
            sender=self.sender(),
            now=st.now,
            message_id=f"{st.coordinator_id}:e{st.epoch}:{lamport}",
            lamport=lamport,
            coordinator_epoch=st.epoch,
            in_reply_to=in_reply_to,
        )

    def emit(
        self, mtype: str, payload: dict[str, Any], to: To, *, in_reply_to: str | None = None
    ) -> dict[str, Any]:
        env = self.envelope(mtype, payload, in_reply_to=in_reply_to)
        self.out.append(Outbound(env, to))
        if self.audit.sink is not None:
            self.audit.append(
                {
                    "at": self.state.now,
                    "kind": "out",
                    "to": list(to.principals) if to.principals else "all",
                    "message": env,
                }
            )
        return env

    def readdress_last(self, to: To, in_reply_to: str) -> None:
        """Send the message just emitted to `to` only, as a reply (its audit record keeps the
        original addressing)."""
        last = self.out[-1]
        self.out[-1] = Outbound(dict(last.message, in_reply_to=in_reply_to), to)

    def relay(self, raw: dict[str, Any], to: To | None = None) -> None:
        self.out.append(Outbound(raw, to or To.ALL))

    def error(
        self,
        code: ErrorCode,
        description: str,
        refers_to: str | None,
        to: str | None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        """A PROTOCOL_ERROR to principal `to`, or to the bare connection when `to` is None."""
        payload: dict[str, Any] = {
            "error_code": str(code),
            "description": description,
            "refers_to": refers_to,
        }
        if extensions:
            payload["extensions"] = extensions
        if to is None:
            self.socket.append(self.envelope("PROTOCOL_ERROR", payload, in_reply_to=refers_to))
        else:
            self.emit("PROTOCOL_ERROR", payload, To.only(to), in_reply_to=refers_to)

    def refuse_unparsed(self, f: ParseFailure, bound: str | None) -> None:
        """A frame that could not be parsed (or names another session) is refused outside the
        causal order: with the current clock value, without advancing it (nothing changed)."""
        st = self.state
        payload = {
            "error_code": str(f.code),
            "description": f.description,
            "refers_to": f.refers_to,
        }
        lamport = st.clock.value
        env: dict[str, Any] = {
            "protocol": PROTOCOL,
            "version": PROTOCOL_VERSION,
            "message_type": "PROTOCOL_ERROR",
            "message_id": f"{st.coordinator_id}:e{st.epoch}:{lamport}:err{self.unparsed}",
            "session_id": st.session_id,
            "sender": self.sender(),
            "ts": format_ts(st.now),
            "payload": {k: v for k, v in payload.items() if v is not None},
            "watermark": {"kind": "lamport_clock", "value": lamport},
            "coordinator_epoch": st.epoch,
        }
        if f.refers_to:
            env["in_reply_to"] = f.refers_to
        self.unparsed += 1
        if bound is not None:
            self.out.append(Outbound(env, To.only(bound)))
        else:
            self.socket.append(env)

    def note(self, record: dict[str, Any]) -> None:
        """A coordinator decision, for the audit trail."""
        if self.audit.sink is not None:
            self.audit.append({"at": self.state.now, "kind": "decision", **record})

    def received(self, message: dict[str, Any]) -> None:
        """An accepted inbound message, for the audit trail."""
        if self.audit.sink is not None:
            self.audit.append({"at": self.state.now, "kind": "in", "message": message})

    def collect(self) -> tuple[list[Outbound], list[dict[str, Any]]]:
        """What the call produced (and a clean slate for the next call)."""
        out, sock = self.out, self.socket
        self.out, self.socket = [], []
        return out, sock

    def discard(self) -> None:
        """Forget what the call produced (it failed half-way: nothing of it is sent)."""
        self.out, self.socket = [], []

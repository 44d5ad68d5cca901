"""Small builders for driving the pure coordinator in tests (no transport involved)."""

from __future__ import annotations

import itertools
from typing import Any

from bridge.core import Coordinator, CoordinatorConfig, HandleResult
from bridge.protocol.envelope import build_envelope

T0 = 1_800_000_000.0
_ids = itertools.count(1)


def msg(
    mtype: str,
    sender: str,
    payload: dict[str, Any],
    *,
    session: str = "s1",
    now: float = T0,
    lamport: int = 1,
    mid: str | None = None,
) -> dict[str, Any]:
    ptype = sender.split(":", 1)[0] if ":" in sender else "agent"
    env = build_envelope(
        mtype,
        {},
        session_id=session,
        sender={
            "principal_id": sender,
            "principal_type": ptype if ptype in ("human", "agent", "service") else "agent",
            "sender_instance_id": f"{sender}#1",
        },
        now=now,
        message_id=mid or f"m-{next(_ids)}",
        lamport=lamport,
    )
    env["payload"] = payload  # verbatim: explicit nulls are part of some tests
    return env


def fs(*paths: str) -> dict[str, Any]:
    return {"kind": "file_set", "resources": list(paths)}


class Session:
    """A coordinator plus helpers that send as a principal and return the outputs."""

    def __init__(self, config: CoordinatorConfig | None = None, **kw: Any) -> None:
        self.now = T0
        self.coord = Coordinator(config or CoordinatorConfig(), "s1", self.now, **kw)

    def send(self, sender: str, mtype: str, payload: dict[str, Any], **kw: Any) -> HandleResult:
        return self.coord.handle(msg(mtype, sender, payload, now=self.now, **kw), self.now)

    def join(self, pid: str, roles: list[str] | None = None) -> HandleResult:
        return self.send(
            pid,
            "HELLO",
            {"display_name": pid, "roles": roles or ["contributor"], "capabilities": []},
        )

    def announce(self, pid: str, intent_id: str, *paths: str, **extra: Any) -> HandleResult:
        return self.send(
            pid,
            "INTENT_ANNOUNCE",
            {"intent_id": intent_id, "objective": f"work on {paths}", "scope": fs(*paths), **extra},
        )

    def advance(self, seconds: float):
        self.now += seconds
        return self.coord.tick(self.now)


def types(result: Any) -> list[str]:
    return [o.message["message_type"] for o in result.outbound]


def errors(result: Any) -> list[str]:
    msgs = [o.message for o in result.outbound] + list(getattr(result, "reply_to_socket", []))
    return [m["payload"]["error_code"] for m in msgs if m["message_type"] == "PROTOCOL_ERROR"]

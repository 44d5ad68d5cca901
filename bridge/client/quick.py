"""A small synchronous participant for short-lived commands (the Claude Code hooks, the git
guard, `mpac-bridge status`): connect, HELLO, read the compact state from SESSION_INFO, maybe send
one message, leave. Its actions (`join`, `note_bypass`, `announce_files`, `commit_replace`,
`leave`) are the only place those commands' messages are built. It avoids asyncio, pydantic and
(for the local ws:// sidecar) the websockets client, so that a hook answers quickly: importing it
costs a few milliseconds (`tests/hooks/test_wire.py` checks what it imports)."""

from __future__ import annotations

import contextlib
import os
import time

from bridge import jsonlite as json
from bridge.client.scope import claims_meet, coverage, file_probe
from bridge.client.wire import open_socket
from bridge.protocol.constants import EXT, PROTOCOL, PROTOCOL_VERSION
from bridge.remote import remote_from_env

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from typing import Any

    from bridge.client.wire import TextSocket


def _hex(n: int) -> str:
    """n random hex digits (uuid4().hex[:n] without importing uuid)."""
    return os.urandom((n + 1) // 2).hex()[:n]


def coordinator_of(repo: Any, environ: Any = None) -> tuple[str, str] | None:
    """(url, session id) of the coordinator this repository's agents use: the remote one named by
    MPAC_COORDINATOR_URL (as the MCP server does), else the repository's running sidecar, else None.

    Raises ValueError when MPAC_COORDINATOR_URL is unusable (wrong scheme, no session id)."""
    remote = remote_from_env(environ)
    if remote is not None:
        return remote
    from bridge.workspace.runtime import live_runtime

    info = live_runtime(repo)
    return None if info is None else (info.url, info.session_id)


def _ts() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


class QuickClient:
    def __init__(
        self,
        url: str,
        session_id: str,
        principal_id: str,
        *,
        token: str | None = None,
        timeout: float = 2.0,
    ) -> None:
        self.url, self.session_id, self.principal_id, self.token, self.timeout = (
            url,
            session_id,
            principal_id,
            token,
            timeout,
        )
        ptype = principal_id.split(":", 1)[0] if ":" in principal_id else "agent"
        self.sender = {
            "principal_id": principal_id,
            "principal_type": ptype if ptype in ("human", "agent", "service") else "agent",
            "sender_instance_id": f"{principal_id}#hook-{_hex(8)}",
        }
        self.lamport = 0
        self.ws: TextSocket | None = None
        self.state: dict[str, Any] = {}

    def _envelope(self, mtype: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.lamport += 1
        return {
            "protocol": PROTOCOL,
            "version": PROTOCOL_VERSION,
            "message_type": mtype,
            "message_id": f"{self.sender['sender_instance_id']}:{self.lamport}",
            "session_id": self.session_id,
            "sender": self.sender,
            "ts": _ts(),
            "payload": payload,
            "watermark": {"kind": "lamport_clock", "value": self.lamport},
        }

    def join(self, roles: list[str] | None = None, *, probe: bool = False) -> dict[str, Any]:
        """HELLO, and the compact state from SESSION_INFO. `probe`: a one-shot observer that only
        reads (status, the git guard): the coordinator shows it to nobody and forgets it when it
        leaves (`extensions["mpac-bridge"].transient`, docs/protocol.md)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
        self.ws = open_socket(self.url, self.timeout, headers)
        hello: dict[str, Any] = {
            "display_name": self.principal_id,
            "roles": roles or ["contributor"],
            "capabilities": [],
        }
        if probe:
            hello["extensions"] = {EXT: {"transient": True}}
        if self.token:
            hello["credential"] = {"type": "bearer_token", "value": self.token}
        reply = self._request("HELLO", hello)
        if reply.get("message_type") != "SESSION_INFO":
            raise ConnectionError(
                f"the coordinator refused: {reply.get('payload', {}).get('description', reply)}"
            )
        self.state = ((reply["payload"].get("extensions") or {}).get(EXT) or {}).get("state") or {}
        return reply

    def _request(self, mtype: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send, then read until the answer to this message (its relay, in_reply_to or refers_to)."""
        env = self._envelope(mtype, payload)
        ws = self._socket()
        ws.send(json.dumps(env))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {mtype} within {self.timeout} s")
            msg: dict[str, Any] = json.loads(ws.recv(timeout=left))
            p = msg.get("payload") or {}
            if env["message_id"] in (
                msg.get("message_id"),
                msg.get("in_reply_to"),
                p.get("refers_to"),
            ):
                return msg

    def _send(self, mtype: str, payload: dict[str, Any]) -> None:
        self._socket().send(json.dumps(self._envelope(mtype, payload)))

    # The actions: every message a short-lived command sends is built here.

    def note_bypass(self, tool: str, file: str) -> None:
        """Record in the coordinator's audit trail that `tool` edited `file` with MPAC_BYPASS=1 (a
        HEARTBEAT whose extension says so); no answer is awaited."""
        self._send(
            "HEARTBEAT",
            {
                "status": "working",
                "summary": f"bypass: {tool} {file}",
                "extensions": {EXT: {"bypass": {"tool": tool, "file": file}}},
            },
        )

    def announce_files(
        self,
        files: list[str],
        objective: str,
        ttl_sec: float,
        *,
        intent_id: str | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any] | None, str | None]:
        """INTENT_ANNOUNCE of a file set: (the intent as the coordinator relayed it, None), or
        (None, the coordinator's reason) when it refused."""
        payload: dict[str, Any] = {
            "intent_id": intent_id or f"auto-{_hex(12)}",
            "objective": objective,
            "scope": {"kind": "file_set", "resources": list(files)},
            "ttl_sec": ttl_sec,
        }
        if extensions is not None:
            payload["extensions"] = extensions
        return _outcome(self._request("INTENT_ANNOUNCE", payload))

    def commit_replace(
        self,
        intent_id: str,
        target: str,
        before: str,
        after: str,
        *,
        extensions: dict[str, Any] | None = None,
    ) -> str | None:
        """OP_COMMIT of an edit already made (`op_kind` replace, state refs before and after):
        None when recorded, else the coordinator's reason for refusing it."""
        payload: dict[str, Any] = {
            "op_id": f"op-{_hex(12)}",
            "intent_id": intent_id,
            "target": target,
            "op_kind": "replace",
            "state_ref_before": before,
            "state_ref_after": after,
        }
        if extensions is not None:
            payload["extensions"] = extensions
        return _outcome(self._request("OP_COMMIT", payload))[1]

    def leave(self) -> None:
        """GOODBYE (withdrawing what this participant holds); no answer is awaited."""
        self._send("GOODBYE", {"reason": "user_exit", "intent_disposition": "withdraw"})

    def _socket(self) -> TextSocket:
        if self.ws is None:
            raise ConnectionError("not connected: call join() first")
        return self.ws

    def holders(self, rel: str, me: str, worktree: str | None = None) -> list[dict[str, Any]]:
        """Live ACTIVE intents of other principals whose scope covers the file in this worktree
        (another worktree's intent is about its own copy of the file). Another's claim on symbols
        of the file counts, unless our own intents claim other symbols of it (issue 19: then both
        work in the file, each on its own symbols; a merge checks the rest)."""
        probe = file_probe([rel])
        live = [
            i
            for i in self.state.get("intents", [])
            if i.get("state") == "ACTIVE" and i.get("worktree") == worktree
        ]
        own = [
            i.get("scope")
            for i in live
            if i.get("principal_id") == me and coverage(probe, i.get("scope")) is not None
        ]
        out = []
        for intent in live:
            if intent.get("principal_id") == me:
                continue
            ov = coverage(probe, intent.get("scope"))
            if ov is None or ov.basis not in (
                "file_set",
                "resource_path",
                "canonical_uri",
                "symbol",
            ):
                continue
            if (
                ov.basis == "symbol"
                and own
                and not any(claims_meet(s, intent.get("scope")) for s in own)
            ):
                continue  # other symbols than ours
            out.append(intent)
        return out

    def own_intent(self, rel: str, me: str, worktree: str | None = None) -> dict[str, Any] | None:
        probe = file_probe([rel])
        intent: dict[str, Any]
        for intent in self.state.get("intents", []):
            mine = (
                intent.get("principal_id") == me
                and intent.get("state") == "ACTIVE"
                and intent.get("worktree") == worktree
            )
            if mine and coverage(probe, intent.get("scope")) is not None:
                return intent
        return None

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.close()
            self.ws = None


def _outcome(reply: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    payload = reply.get("payload") or {}
    if reply.get("message_type") == "PROTOCOL_ERROR":
        return None, str(payload.get("description") or payload.get("error_code") or "refused")
    return payload, None

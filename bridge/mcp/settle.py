"""Settling a commit whose answer was lost (issue 13.3, docs/protocol.md "Unknown outcomes").

When the connection drops (or the coordinator does not answer) after an OP_COMMIT was sent, the
coordinator may or may not have recorded it. `commit_settled` reconnects (restarting the local
sidecar if it died; it replays its journal) and resends the same op_id:
- the coordinator refuses the reused id and, to its author, says the commit is recorded
  (`extensions["mpac-bridge"].committed`): it was recorded before the loss;
- it accepts it: it had not been recorded, and is now, once;
- it refuses it for another reason (stale, intent ended): nothing was committed, and that is why;
- no answer can be had (reconnection failed, answers keep getting lost): the outcome is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.client import Reply, SessionClient
from bridge.mcp.context import ToolContext, ToolFailure

UNKNOWN = frozenset({"CONNECTION_LOST", "TIMEOUT", "NOT_CONNECTED"})
RESENDS = 2  # after the first attempt; each may wait for a reconnection and an answer


@dataclass
class Settled:
    reply: Reply | None  # the coordinator's answer; None when no answer could be had
    lost: int = 0  # answers lost before this one (0: the first attempt was answered)
    recorded: dict[str, Any] | None = None  # the earlier commit, when the resend found it recorded
    why: str = ""  # when reply is None: what went wrong last


def recorded_commit(reply: Reply, op_id: str) -> dict[str, Any] | None:
    """The coordinator's record of our own commit `op_id`, from its answer to a resend."""
    if reply.ok or reply.error_code != "INVALID_REFERENCE":
        return None
    rec = reply.extensions.get("committed")
    return rec if isinstance(rec, dict) and rec.get("op_id") == op_id else None


async def commit_settled(
    ctx: ToolContext,
    client: SessionClient,
    intent_id: str,
    target: str,
    before: str | None,
    after: str | None,
    op_id: str,
    extensions: dict[str, Any] | None = None,
    summary: str | None = None,
) -> Settled:
    reply = await client.commit(
        intent_id, target, before, after, op_id=op_id, extensions=extensions, summary=summary
    )
    lost = 0
    while reply.error_code in UNKNOWN:
        lost += 1
        if lost > RESENDS:
            return Settled(None, lost, why=f"{reply.error_code}: {reply.description}")
        try:
            client = await ctx.connected()
        except ToolFailure as exc:
            return Settled(None, lost, why=str(exc))
        reply = await client.commit(
            intent_id, target, before, after, op_id=op_id, extensions=extensions, summary=summary
        )
    return Settled(reply, lost, recorded_commit(reply, op_id))

"""The conflict tools: acknowledge, escalate and resolve a conflict through the client's request
helpers; a refusal says which conflicts are open."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from bridge.mcp.context import ToolContext
from bridge.mcp.models import SimpleResult
from bridge.mcp.params import ConflictId
from bridge.mcp.results import answer, open_conflicts_hint


async def ack_conflict(
    ctx: ToolContext,
    conflict_id: ConflictId,
    ack_type: Annotated[str, Field(description="seen, accepted or disputed")] = "seen",
) -> SimpleResult:
    """Acknowledge a conflict you are part of."""
    client = await ctx.connected()
    return answer(
        await client.ack(conflict_id, ack_type),
        "CONFLICT_ACK accepted",
        open_conflicts_hint(client.session),
    )


async def escalate_conflict(
    ctx: ToolContext,
    conflict_id: ConflictId,
    reason: Annotated[str, Field(description="why it needs a decision")],
    escalate_to: Annotated[
        str | None,
        Field(description="principal id of an owner or arbiter (default: the first one present)"),
    ] = None,
    context: Annotated[str | None, Field(description="anything the decider should know")] = None,
) -> SimpleResult:
    """Hand a conflict to a human owner or arbiter."""
    client = await ctx.connected()
    reply = await client.escalate(conflict_id, escalate_to, reason, context)
    if reply.error_code == "NO_ARBITER":
        return SimpleResult(
            status="error",
            message="no owner or arbiter is in the session; name one with escalate_to",
        )
    return answer(reply, "CONFLICT_ESCALATE accepted", open_conflicts_hint(client.session))


async def resolve_conflict(
    ctx: ToolContext,
    conflict_id: ConflictId,
    decision: Annotated[
        str,
        Field(
            description="approved, rejected, dismissed, human_override, policy_override or merged"
        ),
    ],
    rationale: Annotated[str, Field(description="why")] = "",
    outcome: Annotated[
        dict[str, Any] | None,
        Field(
            description='{"accepted": [ids], "rejected": [ids], "merged": [ids], "rollback": ...}'
        ),
    ] = None,
) -> SimpleResult:
    """Settle a conflict (needs authority: owner or arbiter; after escalation, the escalation target)."""
    client = await ctx.connected()
    reply = await client.resolve(conflict_id, decision, rationale or decision, outcome or None)
    return answer(reply, "RESOLUTION accepted", open_conflicts_hint(client.session))

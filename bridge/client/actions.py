"""Typed request helpers for every participant message, mixed into SessionClient.

Each helper builds one payload, sends it with `request` and returns the coordinator's `Reply`
(matched by message id, `in_reply_to` or `refers_to`; never by timing). `claim` is the one helper
that may wait past the relay: it resolves on the INTENT_CLAIM_STATUS for its claim_id. Front-ends
send through these helpers only; none of them builds a payload itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from bridge.client import ids
from bridge.client.reply import ClaimReply, Reply

if TYPE_CHECKING:
    from collections.abc import Callable

    from bridge.client.session import Session


def _files_scope(files: list[str] | None, scope: dict[str, Any] | None) -> dict[str, Any]:
    return scope if scope is not None else {"kind": "file_set", "resources": list(files or [])}


def _drop_none(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


class Actions:
    """Request helpers; the host class provides `request`, `wait_for` and `clock`."""

    if TYPE_CHECKING:
        clock: Any

        @property
        def session(self) -> Session: ...

        async def request(
            self, mtype: str, payload: dict[str, Any], timeout: float = 10.0
        ) -> Reply: ...

        def wait_for(
            self, predicate: Callable[[dict[str, Any]], bool], timeout: float
        ) -> asyncio.Task[dict[str, Any]]: ...

    async def update(
        self,
        intent_id: str,
        *,
        objective: str | None = None,
        files: list[str] | None = None,
        scope: dict[str, Any] | None = None,
        ttl_sec: float | None = None,
        assumptions: list[str] | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """INTENT_UPDATE of one of our intents (only the fields given change)."""
        new_scope = _files_scope(files, scope) if (files is not None or scope is not None) else None
        payload = _drop_none(
            {
                "intent_id": intent_id,
                "objective": objective,
                "scope": new_scope,
                "ttl_sec": ttl_sec,
                "assumptions": assumptions,
            }
        )
        return await self.request("INTENT_UPDATE", payload, timeout)

    async def defer(
        self,
        files: list[str] | None = None,
        *,
        scope: dict[str, Any] | None = None,
        observed_intent_ids: list[str] | None = None,
        observed_principals: list[str] | None = None,
        reason: str | None = None,
        ttl_sec: float | None = None,
        deferral_id: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """INTENT_DEFERRED (active form): we step back from a scope others hold."""
        payload = _drop_none(
            {
                "deferral_id": deferral_id or ids.deferral_id(),
                "scope": _files_scope(files, scope),
                "reason": reason,
                "observed_intent_ids": observed_intent_ids,
                "observed_principals": observed_principals,
                "ttl_sec": ttl_sec,
            }
        )
        return await self.request("INTENT_DEFERRED", payload, timeout)

    async def propose(
        self,
        target: str,
        *,
        intent_id: str | None = None,
        op_kind: str = "replace",
        change_ref: str | None = None,
        summary: str | None = None,
        op_id: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """OP_PROPOSE (pre_commit sessions answer with COORDINATOR_STATUS authorization)."""
        payload = _drop_none(
            {
                "op_id": op_id or ids.op_id(),
                "intent_id": intent_id,
                "target": target,
                "op_kind": op_kind,
                "change_ref": change_ref,
                "summary": summary,
            }
        )
        return await self.request("OP_PROPOSE", payload, timeout)

    async def batch_commit(
        self,
        operations: list[dict[str, Any]],
        *,
        intent_id: str | None = None,
        atomicity: str = "all_or_nothing",
        summary: str | None = None,
        batch_id: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """OP_BATCH_COMMIT; each entry needs target, state_ref_before, state_ref_after (op_id and
        op_kind default to a fresh id and "replace")."""
        entries = [{"op_id": ids.op_id(), "op_kind": "replace", **e} for e in operations]
        payload = _drop_none(
            {
                "batch_id": batch_id or ids.new_id("batch"),
                "intent_id": intent_id,
                "atomicity": atomicity,
                "operations": entries,
                "summary": summary,
            }
        )
        return await self.request("OP_BATCH_COMMIT", payload, timeout)

    async def ack(self, conflict_id: str, ack_type: str = "seen", timeout: float = 10.0) -> Reply:
        """CONFLICT_ACK: seen | accepted | disputed."""
        return await self.request(
            "CONFLICT_ACK", {"conflict_id": conflict_id, "ack_type": ack_type}, timeout
        )

    async def escalate(
        self,
        conflict_id: str,
        escalate_to: str | None,
        reason: str,
        context: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """CONFLICT_ESCALATE to `escalate_to`, or (None) to the first connected owner or arbiter;
        refused here with NO_ARBITER when there is none."""
        if escalate_to is None:
            arbiters = self.session.arbiters()
            if not arbiters:
                return Reply(
                    False,
                    error_code="NO_ARBITER",
                    description="no owner or arbiter is in the session: name the principal to escalate to",
                )
            escalate_to = arbiters[0].principal_id
        payload = _drop_none(
            {
                "conflict_id": conflict_id,
                "escalate_to": escalate_to,
                "reason": reason,
                "context": context,
            }
        )
        return await self.request("CONFLICT_ESCALATE", payload, timeout)

    async def resolve(
        self,
        conflict_id: str,
        decision: str,
        rationale: str,
        outcome: dict[str, Any] | None = None,
        *,
        resolution_id: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """RESOLUTION: approved | rejected | dismissed | human_override | policy_override | merged."""
        payload = _drop_none(
            {
                "resolution_id": resolution_id or ids.new_id("res"),
                "conflict_id": conflict_id,
                "decision": decision,
                "outcome": outcome,
                "rationale": rationale,
            }
        )
        return await self.request("RESOLUTION", payload, timeout)

    async def report_conflict(
        self,
        related_intents: list[str],
        description: str,
        *,
        category: str = "scope_overlap",
        severity: str = "medium",
        related_ops: list[str] | None = None,
        suggested_action: str | None = None,
        conflict_id: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """CONFLICT_REPORT raised by this participant (basis: human_report)."""
        payload = _drop_none(
            {
                "conflict_id": conflict_id or ids.conflict_id(),
                "related_intents": related_intents,
                "related_ops": related_ops or [],
                "category": category,
                "severity": severity,
                "basis": {"kind": "human_report"},
                "based_on_watermark": {"kind": "lamport_clock", "value": int(self.clock.value)},
                "description": description,
                "suggested_action": suggested_action,
            }
        )
        return await self.request("CONFLICT_REPORT", payload, timeout)

    async def claim(
        self,
        original_intent_id: str,
        original_principal_id: str,
        objective: str,
        files: list[str] | None = None,
        *,
        scope: dict[str, Any] | None = None,
        justification: str | None = None,
        new_intent_id: str | None = None,
        claim_id: str | None = None,
        extensions: dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> ClaimReply:
        """INTENT_CLAIM of a SUSPENDED intent. With `wait` (the default) it resolves on the
        INTENT_CLAIM_STATUS for this claim (ok only when approved) or on a refusal; without, a claim
        the coordinator holds for a decision comes back at once as ok and `pending`."""
        cid, new, owner = (
            claim_id or ids.claim_id(),
            new_intent_id or ids.intent_id(),
            original_principal_id,
        )
        payload = _drop_none(
            {
                "claim_id": cid,
                "original_intent_id": original_intent_id,
                "original_principal_id": original_principal_id,
                "new_intent_id": new,
                "objective": objective,
                "scope": _files_scope(files, scope),
                "justification": justification,
                "extensions": extensions,
            }
        )
        status = self.wait_for(
            lambda m: (
                m.get("message_type") == "INTENT_CLAIM_STATUS"
                and (m.get("payload") or {}).get("claim_id") == cid
            ),
            timeout,
        )
        try:
            first = await self.request("INTENT_CLAIM", payload, timeout)
            if not first.ok:
                return ClaimReply(
                    False,
                    first.message,
                    first.error_code,
                    first.description,
                    first.request_id,
                    cid,
                    new,
                    "",
                    owner,
                )
            if (
                first.message is not None
                and first.message.get("message_type") == "INTENT_CLAIM_STATUS"
            ):
                msg = first.message
            elif not wait:
                return ClaimReply(
                    True,
                    first.message,
                    request_id=first.request_id,
                    claim_id=cid,
                    new_intent_id=new,
                    decision="pending",
                    original_principal_id=owner,
                )
            else:
                try:
                    msg = await status
                except TimeoutError:
                    return ClaimReply(
                        False,
                        first.message,
                        "TIMEOUT",
                        f"claim {cid} got no decision within {timeout:.0f} s",
                        first.request_id,
                        cid,
                        new,
                        "pending",
                        owner,
                    )
        finally:
            status.cancel()
        p = msg.get("payload") or {}
        decision = str(p.get("decision", "rejected"))
        if decision == "approved":
            return ClaimReply(
                True,
                msg,
                request_id=first.request_id,
                claim_id=cid,
                new_intent_id=new,
                decision=decision,
                original_principal_id=owner,
            )
        return ClaimReply(
            False,
            msg,
            "CLAIM_" + decision.upper(),
            str(p.get("reason", "")),
            first.request_id,
            cid,
            new,
            decision,
            owner,
        )

    async def take_over(
        self,
        intent_id: str,
        *,
        objective: str | None = None,
        files: list[str] | None = None,
        justification: str | None = None,
        original_principal_id: str | None = None,
        extensions: dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> ClaimReply:
        """Claim a suspended intent we can see in the view: its owner, objective and scope are
        taken from it unless given. Refused here, without a message, when the intent is not live
        (NO_SUCH_INTENT) or not suspended (NOT_SUSPENDED)."""
        original = self.session.intent(intent_id)
        if original is None:
            return ClaimReply(
                False,
                error_code="NO_SUCH_INTENT",
                description=f"no live intent {intent_id!r} in the session",
            )
        if not original.suspended:
            return ClaimReply(
                False,
                error_code="NOT_SUSPENDED",
                description=f"{intent_id} is {original.state}: only a suspended intent can be taken over",
            )
        return await self.claim(
            intent_id,
            original_principal_id or original.principal_id,
            objective or original.objective,
            files,
            scope=None if files else dict(original.scope),
            justification=justification or f"{original.principal_id} is unavailable",
            extensions=extensions,
            wait=wait,
            timeout=timeout,
        )

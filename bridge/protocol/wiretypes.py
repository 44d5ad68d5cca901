"""The envelope and the 22 payloads as msgspec Structs: what the sidecar validates every message
against (issue 17). The pydantic models in `payloads.py` stay the schema and the client's types;
these mirror them field for field, constraint for constraint, and are checked against them by
tests/protocol/test_read.py (any frame one accepts, the other accepts).

A Struct keeps only its declared fields: unknown fields stay in the message's `raw` dict, which is
what the core stores and relays. Types are strict, as in the models: a string is never a number,
a bool never an int.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from bridge.protocol.enums import MessageType

NonEmpty = Annotated[str, Meta(min_length=1)]
Positive = Annotated[int, Meta(gt=0)] | Annotated[float, Meta(gt=0)]
NonNegative = Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0)]
Count = Annotated[int, Meta(ge=0)]


class Wire(msgspec.Struct, omit_defaults=True):
    """Base of every wire struct."""


# --- shared objects -------------------------------------------------------------------------


class Watermark(Wire):
    kind: NonEmpty
    value: Any
    lamport_value: Count | None = None

    def __post_init__(self) -> None:
        if self.kind == "lamport_clock":
            v = self.value
            if type(v) is not int or v < 0:
                raise ValueError("a lamport_clock watermark needs a non-negative integer 'value'")


_SCOPE_NEEDS: dict[str, tuple[str, ...]] = {
    "file_set": ("resources",),
    "resource_path": ("pattern",),
    "task_set": ("task_ids",),
    "entity_set": ("entities",),
    "query": ("expression", "language"),
}


class Scope(Wire):
    kind: NonEmpty
    resources: list[str] | None = None
    pattern: str | None = None
    task_ids: list[str] | None = None
    expression: str | None = None
    language: str | None = None
    entities: list[str] | None = None
    canonical_uris: list[str] | None = None
    extensions: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in _SCOPE_NEEDS.get(self.kind, ()):
            if getattr(self, name) is None:
                raise ValueError(f"scope of kind {self.kind!r} requires {name!r}")


class Credential(Wire):
    type: NonEmpty
    value: str
    issuer: str | None = None
    expires_at: str | None = None


class Implementation(Wire):
    name: str
    version: str


class Backend(Wire):
    model_id: str
    provider: str


class BackendHealth(Wire):
    model_id: str
    provider_status: Literal["operational", "degraded", "down", "unknown"]
    checked_at: str
    status_detail: str | None = None
    alternatives: list[dict[str, Any]] | None = None
    switched_from: str | None = None
    switch_reason: str | None = None


class Basis(Wire):
    kind: NonEmpty


class Outcome(Wire):
    accepted: list[str] | None = None
    rejected: list[str] | None = None
    merged: list[str] | None = None
    rollback: str | None = None


class BatchEntry(Wire):
    op_id: NonEmpty
    target: NonEmpty
    op_kind: str
    state_ref_before: str | None
    state_ref_after: str | None
    change_ref: str | None = None
    intent_id: str | None = None
    summary: str | None = None


# --- the envelope ---------------------------------------------------------------------------


class Sender(Wire):
    principal_id: NonEmpty
    principal_type: NonEmpty
    sender_instance_id: NonEmpty


class Envelope(Wire):
    """The envelope without its payload."""

    protocol: str
    version: str
    message_type: str
    message_id: NonEmpty
    session_id: NonEmpty
    sender: Sender
    ts: str
    watermark: Watermark | None = None
    in_reply_to: str | None = None
    trace_id: str | None = None
    policy_ref: str | None = None
    signature: str | None = None
    coordinator_epoch: Annotated[int, Meta(ge=1)] | None = None
    extensions: dict[str, Any] | None = None


# --- session layer --------------------------------------------------------------------------


class Hello(Wire):
    display_name: str
    roles: list[str] = msgspec.field(default_factory=lambda: ["participant"])
    capabilities: list[str] = msgspec.field(default_factory=list)
    implementation: Implementation | None = None
    credential: Credential | None = None
    backend: Backend | None = None


class SessionInfo(Wire, kw_only=True):
    session_id: str
    protocol_version: str
    security_profile: str
    compliance_profile: str
    watermark_kind: str
    execution_model: str = "post_commit"
    state_ref_format: str
    granted_roles: list[str]
    governance_policy: dict[str, Any] | None = None
    liveness_policy: dict[str, Any] | None = None
    participant_count: Count | None = None
    identity_verified: bool | None = None
    identity_method: str | None = None
    identity_issuer: str | None = None
    compatibility_errors: list[str] | None = None
    extensions: dict[str, Any] | None = None


class Heartbeat(Wire):
    status: Literal["idle", "working", "blocked", "awaiting_review", "offline"]
    active_intent_id: str | None = None
    summary: str | None = None
    backend_health: BackendHealth | None = None


class Goodbye(Wire):
    reason: str
    active_intents: list[str] | None = None
    intent_disposition: Literal["withdraw", "transfer", "expire"] | None = None


class SessionClose(Wire):
    reason: str
    final_lamport_clock: Count
    summary: dict[str, Any] | None = None
    active_intents_disposition: Literal["withdraw_all", "expire_all"] | None = None
    transcript_ref: str | None = None


_STATUS_NEEDS: dict[str, tuple[str, ...]] = {
    "handover": ("successor_coordinator_id", "next_coordinator_epoch"),
    "authorization": ("authorized_op_id", "authorized_by"),
    "backend_alert": ("affected_principal", "backend_detail"),
}


class CoordinatorStatus(Wire):
    event: Literal[
        "heartbeat", "recovered", "handover", "assumed", "authorization", "backend_alert"
    ]
    coordinator_id: str
    session_health: str
    active_participants: Count | None = None
    open_conflicts: Count | None = None
    snapshot_lamport_clock: Count | None = None
    successor_coordinator_id: str | None = None
    next_coordinator_epoch: Annotated[int, Meta(ge=1)] | None = None
    authorized_op_id: str | None = None
    authorized_batch_id: str | None = None
    authorized_by: str | None = None
    affected_principal: str | None = None
    backend_detail: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in _STATUS_NEEDS.get(self.event, ()):
            if getattr(self, name) is None:
                raise ValueError(f"COORDINATOR_STATUS event {self.event!r} requires {name!r}")


# --- intent layer ---------------------------------------------------------------------------


class IntentAnnounce(Wire):
    intent_id: NonEmpty
    objective: str
    scope: Scope
    assumptions: list[str] | None = None
    priority: Literal["low", "normal", "high", "critical"] | None = None
    ttl_sec: Positive | None = None
    parent_intent_id: str | None = None
    supersedes_intent_id: str | None = None


class IntentUpdate(Wire):
    intent_id: NonEmpty
    objective: str | None = None
    scope: Scope | None = None
    assumptions: list[str] | None = None
    ttl_sec: NonNegative | None = None


class IntentWithdraw(Wire):
    intent_id: NonEmpty
    reason: str | None = None


class IntentDeferred(Wire):
    deferral_id: NonEmpty
    principal_id: str | None = None
    scope: Scope | None = None
    reason: str | None = None
    observed_intent_ids: list[str] | None = None
    observed_principals: list[str] | None = None
    ttl_sec: Positive | None = None
    expires_at: str | None = None
    status: Literal["resolved", "expired"] | None = None

    def __post_init__(self) -> None:
        if self.status is None and self.scope is None:
            raise ValueError(
                "INTENT_DEFERRED needs 'scope' (active form) or 'status' (resolution form)"
            )
        if self.status is not None and self.principal_id is None:
            raise ValueError("the resolution form of INTENT_DEFERRED requires 'principal_id'")

    @property
    def is_resolution(self) -> bool:
        return self.status is not None


class IntentClaim(Wire):
    claim_id: NonEmpty
    original_intent_id: NonEmpty
    original_principal_id: str
    new_intent_id: NonEmpty
    objective: str
    scope: Scope
    justification: str | None = None


class IntentClaimStatus(Wire):
    claim_id: str
    original_intent_id: str
    decision: Literal["approved", "rejected", "withdrawn"]
    new_intent_id: str | None = None
    reason: str | None = None
    approved_by: str | None = None

    def __post_init__(self) -> None:
        if self.decision == "approved" and self.new_intent_id is None:
            raise ValueError("an approved INTENT_CLAIM_STATUS requires 'new_intent_id'")
        if self.decision != "approved" and self.reason is None:
            raise ValueError(f"a {self.decision} INTENT_CLAIM_STATUS requires 'reason'")


# --- operation layer ------------------------------------------------------------------------


class OpPropose(Wire):
    op_id: NonEmpty
    target: NonEmpty
    op_kind: str
    intent_id: str | None = None
    change_ref: str | None = None
    summary: str | None = None


class OpCommit(Wire):
    op_id: NonEmpty
    target: NonEmpty
    op_kind: str
    state_ref_before: str | None
    state_ref_after: str | None
    intent_id: str | None = None
    change_ref: str | None = None
    summary: str | None = None


class OpBatchCommit(Wire):
    batch_id: NonEmpty
    atomicity: Literal["all_or_nothing", "best_effort"]
    operations: Annotated[list[BatchEntry], Meta(min_length=1)]
    intent_id: str | None = None
    summary: str | None = None


class OpReject(Wire):
    op_id: NonEmpty
    reason: str


class OpSupersede(Wire):
    op_id: NonEmpty
    supersedes_op_id: NonEmpty
    target: NonEmpty
    intent_id: str | None = None
    reason: str | None = None
    op_kind: str | None = None
    state_ref_after: str | None = None


# --- conflict and governance layers ---------------------------------------------------------


class ConflictReport(Wire):
    conflict_id: NonEmpty
    category: NonEmpty
    severity: Literal["info", "low", "medium", "high", "critical"]
    related_intents: list[str] | None = None
    related_ops: list[str] | None = None
    basis: Basis | None = None
    based_on_watermark: Watermark | None = None
    description: str | None = None
    suggested_action: str | None = None
    principal_a: str | None = None
    principal_b: str | None = None
    intent_a: str | None = None
    intent_b: str | None = None

    def __post_init__(self) -> None:
        if self.intent_a is None and self.principal_a is None:  # the spec's shape
            for name in ("basis", "based_on_watermark", "description"):
                if getattr(self, name) is None:
                    raise ValueError(f"CONFLICT_REPORT requires {name!r}")
        if not self.intents() and not (self.related_ops or []):
            raise ValueError("CONFLICT_REPORT needs at least one related intent or operation")

    def intents(self) -> list[str]:
        """Related intent ids, whichever shape the sender used."""
        out = list(self.related_intents or [])
        for extra in (self.intent_a, self.intent_b):
            if extra and extra not in out:
                out.append(extra)
        return out

    def principals(self) -> list[str]:
        return [p for p in (self.principal_a, self.principal_b) if p]


class ConflictAck(Wire):
    conflict_id: NonEmpty
    ack_type: Literal["seen", "accepted", "disputed"]


class ConflictEscalate(Wire):
    conflict_id: NonEmpty
    escalate_to: NonEmpty
    reason: str
    context: str | None = None


class Resolution(Wire):
    conflict_id: NonEmpty
    decision: Literal[
        "approved", "rejected", "dismissed", "human_override", "policy_override", "merged"
    ]
    rationale: str = ""
    resolution_id: str | None = None
    outcome: Outcome | None = None


class ProtocolError(Wire):
    error_code: NonEmpty
    description: str
    refers_to: str | None = None
    extensions: dict[str, Any] | None = None


WIRE_TYPES: dict[MessageType, type[Wire]] = {
    MessageType.HELLO: Hello,
    MessageType.SESSION_INFO: SessionInfo,
    MessageType.HEARTBEAT: Heartbeat,
    MessageType.GOODBYE: Goodbye,
    MessageType.SESSION_CLOSE: SessionClose,
    MessageType.COORDINATOR_STATUS: CoordinatorStatus,
    MessageType.INTENT_ANNOUNCE: IntentAnnounce,
    MessageType.INTENT_UPDATE: IntentUpdate,
    MessageType.INTENT_WITHDRAW: IntentWithdraw,
    MessageType.INTENT_DEFERRED: IntentDeferred,
    MessageType.INTENT_CLAIM: IntentClaim,
    MessageType.INTENT_CLAIM_STATUS: IntentClaimStatus,
    MessageType.OP_PROPOSE: OpPropose,
    MessageType.OP_COMMIT: OpCommit,
    MessageType.OP_BATCH_COMMIT: OpBatchCommit,
    MessageType.OP_REJECT: OpReject,
    MessageType.OP_SUPERSEDE: OpSupersede,
    MessageType.CONFLICT_REPORT: ConflictReport,
    MessageType.CONFLICT_ACK: ConflictAck,
    MessageType.CONFLICT_ESCALATE: ConflictEscalate,
    MessageType.RESOLUTION: Resolution,
    MessageType.PROTOCOL_ERROR: ProtocolError,
}

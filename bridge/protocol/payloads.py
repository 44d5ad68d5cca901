"""Typed models of the 22 MPAC payloads and the objects inside them.

Every model keeps unknown fields (``extra="allow"``) so a message relayed or re-serialized keeps
what its sender put in it. Types are strict: a string where a list belongs is an error, and numbers
are never parsed out of strings. Enumerated fields that the coordinator acts on are validated.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridge.protocol.enums import MessageType

NonEmpty = Field(min_length=1)
# A JSON number (int kept as int on a round trip); NaN and infinities are refused.
Number = int | float


class Model(BaseModel):
    model_config = ConfigDict(
        extra="allow", strict=True, frozen=False, populate_by_name=True, defer_build=True
    )

    def dump(self) -> dict[str, Any]:
        """The JSON-ready form: fields that were set (explicit nulls kept) plus unknown extras."""
        return self.model_dump(mode="json", exclude_unset=True)


# --- shared objects -------------------------------------------------------------------------


class Watermark(Model):
    """`value` is required; for `lamport_clock` it is a non-negative integer (as the schema says).
    Other kinds carry `lamport_value` as their Lamport fallback when the sender has one."""

    kind: str = Field(min_length=1)
    value: Any
    lamport_value: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _lamport_value(self) -> Watermark:
        if self.kind == "lamport_clock":
            v = self.value
            if type(v) is not int or v < 0:
                raise ValueError("a lamport_clock watermark needs a non-negative integer 'value'")
        return self


class Scope(Model):
    kind: str = Field(min_length=1)
    resources: list[str] | None = None
    pattern: str | None = None
    task_ids: list[str] | None = None
    expression: str | None = None
    language: str | None = None
    entities: list[str] | None = None
    canonical_uris: list[str] | None = None
    extensions: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> Scope:
        need = {
            "file_set": ("resources",),
            "resource_path": ("pattern",),
            "task_set": ("task_ids",),
            "entity_set": ("entities",),
            "query": ("expression", "language"),
        }.get(self.kind, ())
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"scope of kind {self.kind!r} requires {name!r}")
        return self


class Credential(Model):
    type: str = Field(min_length=1)
    value: str
    issuer: str | None = None
    expires_at: str | None = None


class Implementation(Model):
    name: str
    version: str


class Backend(Model):
    model_id: str
    provider: str


class BackendHealth(Model):
    model_id: str
    provider_status: Literal["operational", "degraded", "down", "unknown"]
    checked_at: str
    status_detail: str | None = None
    alternatives: list[dict[str, Any]] | None = None
    switched_from: str | None = None
    switch_reason: str | None = None


class Basis(Model):
    kind: str = Field(min_length=1)


class Outcome(Model):
    accepted: list[str] | None = None
    rejected: list[str] | None = None
    merged: list[str] | None = None
    rollback: str | None = None


class BatchEntry(Model):
    op_id: str = Field(min_length=1)
    target: str = Field(min_length=1)
    op_kind: str
    state_ref_before: str | None
    state_ref_after: str | None
    change_ref: str | None = None
    intent_id: str | None = None
    summary: str | None = None


# --- session layer --------------------------------------------------------------------------


class Hello(Model):
    display_name: str
    # D2: reference clients may omit roles or send "participant"; any role string is accepted here.
    roles: list[str] = Field(default_factory=lambda: ["participant"])
    capabilities: list[str] = Field(default_factory=list)
    implementation: Implementation | None = None
    credential: Credential | None = None
    backend: Backend | None = None


class SessionInfo(Model):
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
    participant_count: int | None = Field(default=None, ge=0)
    identity_verified: bool | None = None
    identity_method: str | None = None
    identity_issuer: str | None = None
    compatibility_errors: list[str] | None = None
    extensions: dict[str, Any] | None = None


class Heartbeat(Model):
    status: Literal["idle", "working", "blocked", "awaiting_review", "offline"]
    active_intent_id: str | None = None
    summary: str | None = None
    backend_health: BackendHealth | None = None


class Goodbye(Model):
    reason: str  # D4: "completed" and other strings are accepted
    active_intents: list[str] | None = None
    intent_disposition: Literal["withdraw", "transfer", "expire"] | None = None


class SessionClose(Model):
    reason: str
    final_lamport_clock: int = Field(ge=0)
    summary: dict[str, Any] | None = None
    active_intents_disposition: Literal["withdraw_all", "expire_all"] | None = None
    transcript_ref: str | None = None


class CoordinatorStatus(Model):
    event: Literal[
        "heartbeat", "recovered", "handover", "assumed", "authorization", "backend_alert"
    ]
    coordinator_id: str
    session_health: str
    active_participants: int | None = Field(default=None, ge=0)
    open_conflicts: int | None = Field(default=None, ge=0)
    snapshot_lamport_clock: int | None = Field(default=None, ge=0)
    successor_coordinator_id: str | None = None
    next_coordinator_epoch: int | None = Field(default=None, ge=1)
    authorized_op_id: str | None = None
    authorized_batch_id: str | None = None
    authorized_by: str | None = None
    affected_principal: str | None = None
    backend_detail: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _event_fields(self) -> CoordinatorStatus:
        for name in _STATUS_NEEDS.get(self.event, ()):
            if getattr(self, name) is None:
                raise ValueError(f"COORDINATOR_STATUS event {self.event!r} requires {name!r}")
        return self


_STATUS_NEEDS: dict[str, tuple[str, ...]] = {
    "handover": ("successor_coordinator_id", "next_coordinator_epoch"),
    "authorization": ("authorized_op_id", "authorized_by"),
    "backend_alert": ("affected_principal", "backend_detail"),
}


# --- intent layer ---------------------------------------------------------------------------


class IntentAnnounce(Model):
    intent_id: str = Field(min_length=1)
    objective: str
    scope: Scope
    assumptions: list[str] | None = None
    priority: Literal["low", "normal", "high", "critical"] | None = None
    ttl_sec: Number | None = Field(default=None, gt=0, allow_inf_nan=False)
    parent_intent_id: str | None = None
    supersedes_intent_id: str | None = None


class IntentUpdate(Model):
    intent_id: str = Field(min_length=1)
    objective: str | None = None
    scope: Scope | None = None
    assumptions: list[str] | None = None
    ttl_sec: Number | None = Field(default=None, ge=0, allow_inf_nan=False)


class IntentWithdraw(Model):
    intent_id: str = Field(min_length=1)
    reason: str | None = None


class IntentDeferred(Model):
    """Both forms: the active form (scope present) and the coordinator's resolution form (status)."""

    deferral_id: str = Field(min_length=1)
    principal_id: str | None = None
    scope: Scope | None = None
    reason: str | None = None
    observed_intent_ids: list[str] | None = None
    observed_principals: list[str] | None = None
    ttl_sec: Number | None = Field(default=None, gt=0, allow_inf_nan=False)
    expires_at: str | None = None
    status: Literal["resolved", "expired"] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> IntentDeferred:
        if self.status is None and self.scope is None:
            raise ValueError(
                "INTENT_DEFERRED needs 'scope' (active form) or 'status' (resolution form)"
            )
        if self.status is not None and self.principal_id is None:
            raise ValueError("the resolution form of INTENT_DEFERRED requires 'principal_id'")
        return self

    @property
    def is_resolution(self) -> bool:
        return self.status is not None


class IntentClaim(Model):
    claim_id: str = Field(min_length=1)
    original_intent_id: str = Field(min_length=1)
    original_principal_id: str
    new_intent_id: str = Field(min_length=1)
    objective: str
    scope: Scope
    justification: str | None = None


class IntentClaimStatus(Model):
    claim_id: str
    original_intent_id: str
    decision: Literal["approved", "rejected", "withdrawn"]
    new_intent_id: str | None = None
    reason: str | None = None
    approved_by: str | None = (
        None  # required by governance sessions; Core auto-approval may omit it
    )

    @model_validator(mode="after")
    def _decision_fields(self) -> IntentClaimStatus:
        if self.decision == "approved" and self.new_intent_id is None:
            raise ValueError("an approved INTENT_CLAIM_STATUS requires 'new_intent_id'")
        if self.decision != "approved" and self.reason is None:
            raise ValueError(f"a {self.decision} INTENT_CLAIM_STATUS requires 'reason'")
        return self


# --- operation layer ------------------------------------------------------------------------


class OpPropose(Model):
    op_id: str = Field(min_length=1)
    target: str = Field(min_length=1)
    op_kind: str
    intent_id: str | None = None
    change_ref: str | None = None
    summary: str | None = None


class OpCommit(Model):
    op_id: str = Field(min_length=1)
    target: str = Field(min_length=1)
    op_kind: str
    # D5: reference clients send null refs; the keys must be present.
    state_ref_before: str | None
    state_ref_after: str | None
    intent_id: str | None = None
    change_ref: str | None = None
    summary: str | None = None


class OpBatchCommit(Model):
    batch_id: str = Field(min_length=1)
    atomicity: Literal["all_or_nothing", "best_effort"]
    operations: list[BatchEntry] = Field(min_length=1)
    intent_id: str | None = None
    summary: str | None = None


class OpReject(Model):
    op_id: str = Field(min_length=1)
    reason: str


class OpSupersede(Model):
    op_id: str = Field(min_length=1)
    supersedes_op_id: str = Field(min_length=1)
    target: str = Field(min_length=1)
    intent_id: str | None = None
    reason: str | None = None
    op_kind: str | None = None
    state_ref_after: str | None = None


# --- conflict and governance layers ---------------------------------------------------------


class ConflictReport(Model):
    """Spec shape (related_intents, basis, ...) or the reference shape (principal_a/intent_a, D9)."""

    conflict_id: str = Field(min_length=1)
    category: str = Field(min_length=1)
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

    @model_validator(mode="after")
    def _one_shape(self) -> ConflictReport:
        reference_shape = self.intent_a is not None or self.principal_a is not None
        if not reference_shape:
            for name in ("basis", "based_on_watermark", "description"):
                if getattr(self, name) is None:
                    raise ValueError(f"CONFLICT_REPORT requires {name!r}")
        if not self.intents() and not (self.related_ops or []):
            raise ValueError("CONFLICT_REPORT needs at least one related intent or operation")
        return self

    def intents(self) -> list[str]:
        """Related intent ids, whichever shape the sender used."""
        out = list(self.related_intents or [])
        for extra in (self.intent_a, self.intent_b):
            if extra and extra not in out:
                out.append(extra)
        return out

    def principals(self) -> list[str]:
        return [p for p in (self.principal_a, self.principal_b) if p]


class ConflictAck(Model):
    conflict_id: str = Field(min_length=1)
    ack_type: Literal["seen", "accepted", "disputed"]


class ConflictEscalate(Model):
    conflict_id: str = Field(min_length=1)
    escalate_to: str = Field(min_length=1)
    reason: str
    context: str | None = None


class Resolution(Model):
    conflict_id: str = Field(min_length=1)
    decision: Literal[
        "approved", "rejected", "dismissed", "human_override", "policy_override", "merged"
    ]
    rationale: str = ""  # D: reference clients may leave it empty
    resolution_id: str | None = None  # D3: reference clients omit it; the coordinator assigns one
    outcome: Outcome | None = None


class ProtocolError(Model):
    error_code: str = Field(min_length=1)
    description: str
    refers_to: str | None = None
    extensions: dict[str, Any] | None = None


PAYLOAD_MODELS: dict[MessageType, type[Model]] = {
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

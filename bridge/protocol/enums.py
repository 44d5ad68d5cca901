"""Closed enumerations of MPAC v0.1.15 that the coordinator acts on."""

from __future__ import annotations

from enum import StrEnum


class MessageType(StrEnum):
    HELLO = "HELLO"
    SESSION_INFO = "SESSION_INFO"
    HEARTBEAT = "HEARTBEAT"
    GOODBYE = "GOODBYE"
    SESSION_CLOSE = "SESSION_CLOSE"
    COORDINATOR_STATUS = "COORDINATOR_STATUS"
    INTENT_ANNOUNCE = "INTENT_ANNOUNCE"
    INTENT_UPDATE = "INTENT_UPDATE"
    INTENT_WITHDRAW = "INTENT_WITHDRAW"
    INTENT_DEFERRED = "INTENT_DEFERRED"
    INTENT_CLAIM = "INTENT_CLAIM"
    INTENT_CLAIM_STATUS = "INTENT_CLAIM_STATUS"
    OP_PROPOSE = "OP_PROPOSE"
    OP_COMMIT = "OP_COMMIT"
    OP_BATCH_COMMIT = "OP_BATCH_COMMIT"
    OP_REJECT = "OP_REJECT"
    OP_SUPERSEDE = "OP_SUPERSEDE"
    CONFLICT_REPORT = "CONFLICT_REPORT"
    CONFLICT_ACK = "CONFLICT_ACK"
    CONFLICT_ESCALATE = "CONFLICT_ESCALATE"
    RESOLUTION = "RESOLUTION"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"


class IntentState(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"
    SUPERSEDED = "SUPERSEDED"
    TRANSFERRED = "TRANSFERRED"


class OpState(StrEnum):
    PROPOSED = "PROPOSED"
    COMMITTED = "COMMITTED"
    REJECTED = "REJECTED"
    ABANDONED = "ABANDONED"
    FROZEN = "FROZEN"
    SUPERSEDED = "SUPERSEDED"


class ConflictState(StrEnum):
    OPEN = "OPEN"
    ACKED = "ACKED"
    ESCALATED = "ESCALATED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    DISMISSED = "DISMISSED"


TERMINAL_INTENT_STATES = frozenset(
    {IntentState.WITHDRAWN, IntentState.EXPIRED, IntentState.SUPERSEDED, IntentState.TRANSFERRED}
)
LIVE_INTENT_STATES = frozenset({IntentState.ACTIVE, IntentState.SUSPENDED})
TERMINAL_OP_STATES = frozenset({OpState.REJECTED, OpState.ABANDONED, OpState.SUPERSEDED})
TERMINAL_CONFLICT_STATES = frozenset({ConflictState.CLOSED, ConflictState.DISMISSED})

COORDINATOR_ONLY_TYPES = frozenset(
    {
        MessageType.SESSION_INFO,
        MessageType.SESSION_CLOSE,
        MessageType.COORDINATOR_STATUS,
        MessageType.INTENT_CLAIM_STATUS,
    }
)

PRINCIPAL_TYPES = ("human", "agent", "service")
ROLES = ("observer", "contributor", "reviewer", "owner", "arbiter")
HEARTBEAT_STATUSES = ("idle", "working", "blocked", "awaiting_review", "offline")
INTENT_DISPOSITIONS = ("withdraw", "transfer", "expire")
PRIORITIES = ("low", "normal", "high", "critical")
ATOMICITY = ("all_or_nothing", "best_effort")
ACK_TYPES = ("seen", "accepted", "disputed")
DECISIONS = ("approved", "rejected", "dismissed", "human_override", "policy_override", "merged")
SEVERITIES = ("info", "low", "medium", "high", "critical")
CATEGORIES = (
    "scope_overlap",
    "concurrent_write",
    "semantic_goal_conflict",
    "assumption_contradiction",
    "policy_violation",
    "authority_conflict",
    "dependency_breakage",
    "resource_contention",
)
BASIS_KINDS = ("rule", "heuristic", "model_inference", "semantic_match", "human_report")
COORDINATOR_EVENTS = ("heartbeat", "recovered", "handover", "assumed", "authorization", "backend_alert")
CLAIM_DECISIONS = ("approved", "rejected", "withdrawn")
DEFERRAL_STATUSES = ("resolved", "expired")
EXECUTION_MODELS = ("pre_commit", "post_commit")
SECURITY_PROFILES = ("open", "authenticated", "verified")
COMPLIANCE_PROFILES = ("core", "governance", "semantic")

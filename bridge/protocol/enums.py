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


# --- other closed enumerations (digest Appendix A) --------------------------------------------
# The payload models validate these with Literal types; tests keep the two in step.


class PrincipalType(StrEnum):
    HUMAN = "human"
    AGENT = "agent"
    SERVICE = "service"


class Role(StrEnum):
    """The spec's roles; implementations may define more, so roles are never a closed set on input."""

    OBSERVER = "observer"
    CONTRIBUTOR = "contributor"
    REVIEWER = "reviewer"
    OWNER = "owner"
    ARBITER = "arbiter"


class HeartbeatStatus(StrEnum):
    IDLE = "idle"
    WORKING = "working"
    BLOCKED = "blocked"
    AWAITING_REVIEW = "awaiting_review"
    OFFLINE = "offline"


class IntentDisposition(StrEnum):
    WITHDRAW = "withdraw"
    TRANSFER = "transfer"
    EXPIRE = "expire"


class CloseDisposition(StrEnum):
    WITHDRAW_ALL = "withdraw_all"
    EXPIRE_ALL = "expire_all"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class Atomicity(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    BEST_EFFORT = "best_effort"


class AckType(StrEnum):
    SEEN = "seen"
    ACCEPTED = "accepted"
    DISPUTED = "disputed"


class Decision(StrEnum):
    """RESOLUTION `decision`."""

    APPROVED = "approved"
    REJECTED = "rejected"
    DISMISSED = "dismissed"
    HUMAN_OVERRIDE = "human_override"
    POLICY_OVERRIDE = "policy_override"
    MERGED = "merged"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ConflictCategory(StrEnum):
    """Well-known categories; the field itself stays an open string (A2)."""

    SCOPE_OVERLAP = "scope_overlap"
    CONCURRENT_WRITE = "concurrent_write"
    SEMANTIC_GOAL_CONFLICT = "semantic_goal_conflict"
    ASSUMPTION_CONTRADICTION = "assumption_contradiction"
    POLICY_VIOLATION = "policy_violation"
    AUTHORITY_CONFLICT = "authority_conflict"
    DEPENDENCY_BREAKAGE = "dependency_breakage"
    RESOURCE_CONTENTION = "resource_contention"


class BasisKind(StrEnum):
    RULE = "rule"
    HEURISTIC = "heuristic"
    MODEL_INFERENCE = "model_inference"
    SEMANTIC_MATCH = "semantic_match"
    HUMAN_REPORT = "human_report"


class CoordinatorEvent(StrEnum):
    HEARTBEAT = "heartbeat"
    RECOVERED = "recovered"
    HANDOVER = "handover"
    ASSUMED = "assumed"
    AUTHORIZATION = "authorization"
    BACKEND_ALERT = "backend_alert"


class SessionHealth(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    RECOVERING = "recovering"


class ClaimDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class DeferralStatus(StrEnum):
    RESOLVED = "resolved"
    EXPIRED = "expired"


class ProviderStatus(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"


class ExecutionModel(StrEnum):
    PRE_COMMIT = "pre_commit"
    POST_COMMIT = "post_commit"


class SecurityProfile(StrEnum):
    OPEN = "open"
    AUTHENTICATED = "authenticated"
    VERIFIED = "verified"


class ComplianceProfile(StrEnum):
    CORE = "core"
    GOVERNANCE = "governance"
    SEMANTIC = "semantic"


class WatermarkKind(StrEnum):
    LAMPORT_CLOCK = "lamport_clock"
    VECTOR_CLOCK = "vector_clock"
    CAUSAL_FRONTIER = "causal_frontier"
    OPAQUE = "opaque"


class ScopeKind(StrEnum):
    """Well-known scope kinds; any non-empty string is accepted on input."""

    FILE_SET = "file_set"
    RESOURCE_PATH = "resource_path"
    TASK_SET = "task_set"
    QUERY = "query"
    ENTITY_SET = "entity_set"
    CUSTOM = "custom"

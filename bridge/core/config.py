"""Coordinator policy: every knob with the spec's default."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bridge.protocol.frames import MAX_FRAME_BYTES

CLAIM_APPROVALS = ("", "auto", "governance", "arbiter_or_auto")


@dataclass(frozen=True)
class CoordinatorConfig:
    security_profile: str = "open"  # open | authenticated
    compliance_profile: str = "governance"  # core | governance
    execution_model: str = "post_commit"  # post_commit | pre_commit
    state_ref_format: str = "sha256"
    heartbeat_interval_sec: float = 30.0
    unavailability_timeout_sec: float = 90.0
    default_intent_ttl_sec: float = 300.0
    deferral_ttl_sec: float = 60.0
    intent_expiry_grace_sec: float = 30.0
    resolution_timeout_sec: float = 300.0
    claim_grace_sec: float = (
        30.0  # auto approval: a claim on a silent owner's intent waits this long
    )
    # Who approves an INTENT_CLAIM (liveness_policy.intent_claim_approval): "auto" (no objection: a
    # handed-over intent at once, a silent owner's after claim_grace_sec), "governance" (an owner or
    # arbiter must decide), "arbiter_or_auto" (an owner or arbiter decides when one is connected,
    # else auto). Empty: by profile, core -> auto, governance -> arbiter_or_auto.
    claim_approval: str = ""
    # An accepted commit whose write has not been seen on disk keeps its base stale this long (at
    # most; less when its author leaves or its intent ends). See docs/protocol.md "Writes in flight".
    commit_landing_grace_sec: float = 30.0
    session_ttl_sec: float = 0.0  # 0 = the session never times out
    frozen_phase2_sec: float = 60.0
    frozen_phase3_sec: float = 240.0
    backoff_initial_sec: float = 30.0
    backoff_max_sec: float = 300.0
    replay_window_sec: float = 300.0
    require_arbiter: bool = False
    # principal_id (or "*") -> roles that principal may be granted; empty means "grant what is asked".
    role_policy: dict[str, list[str]] = field(default_factory=dict)
    resource_registry: list[dict[str, Any]] = field(default_factory=list)
    # Bounded memory: how many ended intents / operations / ids are remembered for reference checks.
    history_limit: int = 10_000
    # Files whose last commit is remembered (stale-write checks, late joiners); the least recently
    # committed file is forgotten past this, and its next commit is then checked against the disk only.
    file_limit: int = 50_000
    # The largest frame accepted (UTF-8 bytes); the sidecar sets it from --max-frame-bytes and
    # SESSION_INFO announces it, so clients refuse an oversized request before sending it.
    max_frame_bytes: int = MAX_FRAME_BYTES
    # The unit of coordination (issue 19): "symbol" lets intents claim functions and classes
    # (`path::name` in an entity_set); "file" reads every symbol as its whole file, as before.
    symbol_granularity: str = "symbol"

    def __post_init__(self) -> None:
        if self.claim_approval not in CLAIM_APPROVALS:
            raise ValueError(
                f"claim_approval must be one of {', '.join(repr(a) for a in CLAIM_APPROVALS)}, not {self.claim_approval!r}"
            )
        if self.symbol_granularity not in ("symbol", "file"):
            raise ValueError(
                f"symbol_granularity must be 'symbol' or 'file', not {self.symbol_granularity!r}"
            )

    def coordinator_id(self, session_id: str) -> str:
        return f"service:coordinator-{session_id}"

    @property
    def claim_approval_mode(self) -> str:
        if self.claim_approval:
            return self.claim_approval
        return "auto" if self.compliance_profile == "core" else "arbiter_or_auto"

    def governance_policy(self) -> dict[str, Any]:
        return {
            "require_arbiter": self.require_arbiter,
            "resolution_timeout_sec": self.resolution_timeout_sec,
            "intent_expiry_grace_sec": self.intent_expiry_grace_sec,
        }

    def liveness_policy(self) -> dict[str, Any]:
        return {
            "heartbeat_interval_sec": self.heartbeat_interval_sec,
            "unavailability_timeout_sec": self.unavailability_timeout_sec,
            "orphaned_intent_action": "suspend",
            "orphaned_proposal_action": "abandon",
            "intent_claim_approval": self.claim_approval_mode,
            "intent_claim_grace_period_sec": self.claim_grace_sec,
            "intent_claim_grace_sec": self.claim_grace_sec,
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CoordinatorConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

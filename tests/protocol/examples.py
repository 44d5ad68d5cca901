"""One valid payload per message type, and the required fields of each (from the spec's tables)."""

from __future__ import annotations

from typing import Any

WM = {"kind": "lamport_clock", "value": 3}
SCOPE = {"kind": "file_set", "resources": ["src/a.py"]}

VALID: dict[str, dict[str, Any]] = {
    "HELLO": {
        "display_name": "Alice",
        "roles": ["contributor"],
        "capabilities": ["intent.broadcast"],
    },
    "SESSION_INFO": {
        "session_id": "s1",
        "protocol_version": "0.1.15",
        "security_profile": "open",
        "compliance_profile": "core",
        "watermark_kind": "lamport_clock",
        "execution_model": "post_commit",
        "state_ref_format": "sha256",
        "granted_roles": ["contributor"],
    },
    "HEARTBEAT": {"status": "working", "active_intent_id": "i1"},
    "GOODBYE": {"reason": "user_exit", "intent_disposition": "transfer"},
    "SESSION_CLOSE": {"reason": "completed", "final_lamport_clock": 42},
    "COORDINATOR_STATUS": {
        "event": "heartbeat",
        "coordinator_id": "service:c",
        "session_health": "healthy",
    },
    "INTENT_ANNOUNCE": {"intent_id": "i1", "objective": "fix", "scope": SCOPE, "ttl_sec": 120},
    "INTENT_UPDATE": {"intent_id": "i1", "objective": "fix more"},
    "INTENT_WITHDRAW": {"intent_id": "i1", "reason": "done"},
    "INTENT_DEFERRED": {"deferral_id": "d1", "scope": SCOPE, "observed_intent_ids": ["i1"]},
    "INTENT_CLAIM": {
        "claim_id": "c1",
        "original_intent_id": "i1",
        "original_principal_id": "agent:a",
        "new_intent_id": "i2",
        "objective": "take over",
        "scope": SCOPE,
    },
    "INTENT_CLAIM_STATUS": {
        "claim_id": "c1",
        "original_intent_id": "i1",
        "decision": "approved",
        "new_intent_id": "i2",
    },
    "OP_PROPOSE": {"op_id": "o1", "target": "src/a.py", "op_kind": "replace", "intent_id": "i1"},
    "OP_COMMIT": {
        "op_id": "o1",
        "target": "src/a.py",
        "op_kind": "replace",
        "state_ref_before": "sha256:0",
        "state_ref_after": "sha256:1",
        "intent_id": "i1",
    },
    "OP_BATCH_COMMIT": {
        "batch_id": "b1",
        "atomicity": "all_or_nothing",
        "operations": [
            {
                "op_id": "o1",
                "target": "a.py",
                "op_kind": "replace",
                "state_ref_before": "sha256:0",
                "state_ref_after": "sha256:1",
            }
        ],
    },
    "OP_REJECT": {"op_id": "o1", "reason": "policy_violation"},
    "OP_SUPERSEDE": {"op_id": "o2", "supersedes_op_id": "o1", "target": "src/a.py"},
    "CONFLICT_REPORT": {
        "conflict_id": "k1",
        "related_intents": ["i1", "i2"],
        "category": "scope_overlap",
        "severity": "high",
        "basis": {"kind": "rule", "rule_id": "scope.overlap.v1"},
        "based_on_watermark": WM,
        "description": "both edit a.py",
    },
    "CONFLICT_ACK": {"conflict_id": "k1", "ack_type": "seen"},
    "CONFLICT_ESCALATE": {
        "conflict_id": "k1",
        "escalate_to": "human:lead",
        "reason": "needs a decision",
    },
    "RESOLUTION": {
        "resolution_id": "r1",
        "conflict_id": "k1",
        "decision": "human_override",
        "rationale": "Alice owns it",
        "outcome": {"accepted": ["i1"], "rejected": ["i2"], "merged": []},
    },
    "PROTOCOL_ERROR": {"error_code": "MALFORMED_MESSAGE", "description": "bad", "refers_to": "m1"},
}

REQUIRED: dict[str, list[str]] = {
    "HELLO": ["display_name"],
    "SESSION_INFO": [
        "session_id",
        "protocol_version",
        "security_profile",
        "compliance_profile",
        "watermark_kind",
        "state_ref_format",
        "granted_roles",
    ],
    "HEARTBEAT": ["status"],
    "GOODBYE": ["reason"],
    "SESSION_CLOSE": ["reason", "final_lamport_clock"],
    "COORDINATOR_STATUS": ["event", "coordinator_id", "session_health"],
    "INTENT_ANNOUNCE": ["intent_id", "objective", "scope"],
    "INTENT_UPDATE": ["intent_id"],
    "INTENT_WITHDRAW": ["intent_id"],
    "INTENT_DEFERRED": ["deferral_id", "scope"],
    "INTENT_CLAIM": [
        "claim_id",
        "original_intent_id",
        "original_principal_id",
        "new_intent_id",
        "objective",
        "scope",
    ],
    "INTENT_CLAIM_STATUS": ["claim_id", "original_intent_id", "decision"],
    "OP_PROPOSE": ["op_id", "target", "op_kind"],
    "OP_COMMIT": ["op_id", "target", "op_kind", "state_ref_before", "state_ref_after"],
    "OP_BATCH_COMMIT": ["batch_id", "atomicity", "operations"],
    "OP_REJECT": ["op_id", "reason"],
    "OP_SUPERSEDE": ["op_id", "supersedes_op_id", "target"],
    "CONFLICT_REPORT": [
        "conflict_id",
        "category",
        "severity",
        "basis",
        "based_on_watermark",
        "description",
    ],
    "CONFLICT_ACK": ["conflict_id", "ack_type"],
    "CONFLICT_ESCALATE": ["conflict_id", "escalate_to", "reason"],
    "RESOLUTION": ["conflict_id", "decision"],
    "PROTOCOL_ERROR": ["error_code", "description"],
}


def envelope(mtype: str, payload: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "protocol": "MPAC",
        "version": "0.1.15",
        "message_type": mtype,
        "message_id": "m-1",
        "session_id": "s1",
        "sender": {
            "principal_id": "agent:a",
            "principal_type": "agent",
            "sender_instance_id": "a#1",
        },
        "ts": "2026-11-25T10:00:00Z",
        "payload": VALID[mtype] if payload is None else payload,
        "watermark": WM,
    }
    env.update(over)
    return env

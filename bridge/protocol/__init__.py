"""The MPAC v0.1.15 protocol library: pure data and rules, no I/O.

Envelope and payload models, total parsing, error codes, Lamport clocks, the state tables of
intents, operations and conflicts, and scope normalization and overlap.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from typing import Any

# Exports load on first use, so `import bridge.protocol.scope` (used by light tools such as the
# editor hooks) does not pay for pydantic.
_EXPORTS = {
    "ACCEPTED_VERSIONS": "bridge.protocol.constants",
    "EXT": "bridge.protocol.constants",
    "PROTOCOL": "bridge.protocol.constants",
    "CloseCode": "bridge.protocol.constants",
    "CONFLICT_TABLE": "bridge.protocol.states",
    "COORDINATOR_ONLY_TYPES": "bridge.protocol.enums",
    "ConflictEvent": "bridge.protocol.states",
    "ConflictState": "bridge.protocol.enums",
    "Envelope": "bridge.protocol.envelope",
    "ErrorCode": "bridge.protocol.codes",
    "INTENT_TABLE": "bridge.protocol.states",
    "IntentEvent": "bridge.protocol.states",
    "IntentState": "bridge.protocol.enums",
    "LamportClock": "bridge.protocol.lamport",
    "MessageType": "bridge.protocol.enums",
    "NormScope": "bridge.protocol.scope",
    "OP_TABLE": "bridge.protocol.states",
    "OpEvent": "bridge.protocol.states",
    "OpState": "bridge.protocol.enums",
    "Overlap": "bridge.protocol.scope",
    "PAYLOAD_MODELS": "bridge.protocol.payloads",
    "PROTOCOL_VERSION": "bridge.protocol.constants",
    "ParseFailure": "bridge.protocol.frames",
    "ParsedMessage": "bridge.protocol.parse",
    "SPEC_ERROR_CODES": "bridge.protocol.codes",
    "Scope": "bridge.protocol.payloads",
    "Sender": "bridge.protocol.envelope",
    "SenderFrontier": "bridge.protocol.lamport",
    "TERMINAL_CONFLICT_STATES": "bridge.protocol.enums",
    "TERMINAL_INTENT_STATES": "bridge.protocol.enums",
    "TERMINAL_OP_STATES": "bridge.protocol.enums",
    "Watermark": "bridge.protocol.payloads",
    "build_envelope": "bridge.protocol.stamps",
    "contains": "bridge.protocol.scope",
    "dependency_overlap": "bridge.protocol.scope",
    "events_from": "bridge.protocol.states",
    "format_ts": "bridge.protocol.stamps",
    "lamport_of": "bridge.protocol.stamps",
    "legal_states": "bridge.protocol.states",
    "next_state": "bridge.protocol.states",
    "normalize_path": "bridge.protocol.scope",
    "normalize_scope": "bridge.protocol.scope",
    "overlap": "bridge.protocol.scope",
    "parse_message": "bridge.protocol.parse",
    "parse_payload": "bridge.protocol.parse",
    "parse_ts": "bridge.protocol.stamps",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bridge.protocol' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ACCEPTED_VERSIONS",
    "CONFLICT_TABLE",
    "COORDINATOR_ONLY_TYPES",
    "EXT",
    "INTENT_TABLE",
    "OP_TABLE",
    "PAYLOAD_MODELS",
    "PROTOCOL",
    "PROTOCOL_VERSION",
    "SPEC_ERROR_CODES",
    "TERMINAL_CONFLICT_STATES",
    "TERMINAL_INTENT_STATES",
    "TERMINAL_OP_STATES",
    "CloseCode",
    "ConflictEvent",
    "ConflictState",
    "Envelope",
    "ErrorCode",
    "IntentEvent",
    "IntentState",
    "LamportClock",
    "MessageType",
    "NormScope",
    "OpEvent",
    "OpState",
    "Overlap",
    "ParseFailure",
    "ParsedMessage",
    "Scope",
    "Sender",
    "SenderFrontier",
    "Watermark",
    "build_envelope",
    "contains",
    "dependency_overlap",
    "events_from",
    "format_ts",
    "lamport_of",
    "legal_states",
    "next_state",
    "normalize_path",
    "normalize_scope",
    "overlap",
    "parse_message",
    "parse_payload",
    "parse_ts",
]

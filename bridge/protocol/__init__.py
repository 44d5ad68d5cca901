"""The MPAC v0.1.15 protocol library: pure data and rules, no I/O.

Envelope and payload models, total parsing, error codes, Lamport clocks, the state tables of
intents, operations and conflicts, and scope normalization and overlap.
"""

from bridge.protocol.codes import SPEC_ERROR_CODES, ErrorCode
from bridge.protocol.enums import (
    COORDINATOR_ONLY_TYPES,
    TERMINAL_CONFLICT_STATES,
    TERMINAL_INTENT_STATES,
    TERMINAL_OP_STATES,
    ConflictState,
    IntentState,
    MessageType,
    OpState,
)
from bridge.protocol.envelope import (
    ACCEPTED_VERSIONS,
    PROTOCOL_VERSION,
    Envelope,
    Sender,
    build_envelope,
    format_ts,
    lamport_of,
    parse_ts,
)
from bridge.protocol.lamport import LamportClock, SenderFrontier
from bridge.protocol.parse import ParsedMessage, ParseFailure, parse_message, parse_payload
from bridge.protocol.payloads import PAYLOAD_MODELS
from bridge.protocol.scope import (
    NormScope,
    Overlap,
    contains,
    dependency_overlap,
    normalize_path,
    normalize_scope,
    overlap,
)

__all__ = [
    "ACCEPTED_VERSIONS",
    "COORDINATOR_ONLY_TYPES",
    "PAYLOAD_MODELS",
    "PROTOCOL_VERSION",
    "SPEC_ERROR_CODES",
    "TERMINAL_CONFLICT_STATES",
    "TERMINAL_INTENT_STATES",
    "TERMINAL_OP_STATES",
    "ConflictState",
    "Envelope",
    "ErrorCode",
    "IntentState",
    "LamportClock",
    "MessageType",
    "NormScope",
    "OpState",
    "Overlap",
    "ParseFailure",
    "ParsedMessage",
    "Sender",
    "SenderFrontier",
    "build_envelope",
    "contains",
    "dependency_overlap",
    "format_ts",
    "lamport_of",
    "normalize_path",
    "normalize_scope",
    "overlap",
    "parse_message",
    "parse_payload",
    "parse_ts",
]

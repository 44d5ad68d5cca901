"""The reference package's dialect: envelopes that `mpac` 0.2.13 can read.

Its `MessageEnvelope.from_dict` builds a dataclass from the envelope's keys and its `Sender` from
the sender's, so any key it does not know raises. v0.1.15 added optional envelope fields the
reference never learned (`in_reply_to`, `extensions`, `trace_id`, `policy_ref`, `signature`), and
we send the first two. A participant that joins speaking the reference's dialect gets every
envelope with those fields moved, unchanged, into
`payload.extensions["mpac-bridge"]["envelope"]` (docs/protocol.md, "Reference dialect").
Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from bridge.protocol.constants import EXT

# What the reference's MessageEnvelope and Sender dataclasses accept.
ENVELOPE_KEYS = frozenset(
    {
        "protocol",
        "version",
        "message_type",
        "message_id",
        "session_id",
        "sender",
        "ts",
        "payload",
        "watermark",
        "coordinator_epoch",
    }
)
SENDER_KEYS = ("principal_id", "principal_type", "sender_instance_id")
# `implementation.name` values that mean the reference package (the Python package, its module,
# its MCP bridge), compared in lower case.
REFERENCE_NAMES = frozenset({"mpac", "mpac-protocol", "mpac_protocol", "mpac-mcp", "mpac_mcp"})
FIRST_OWN_VERSION = (0, 1, 14)  # the reference sends 0.1.13 (D1)


def _version(text: Any) -> tuple[int, ...] | None:
    if not isinstance(text, str):
        return None
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


def speaks_reference_dialect(hello: Any) -> bool:
    """Whether a HELLO (a decoded frame) comes from a reference-dialect participant: an envelope
    `version` below 0.1.14, or `payload.implementation.name` naming the reference package."""
    if not isinstance(hello, dict):
        return False
    version = _version(hello.get("version"))
    if version is not None and version < FIRST_OWN_VERSION:
        return True
    payload = hello.get("payload")
    impl = payload.get("implementation") if isinstance(payload, dict) else None
    name = impl.get("name") if isinstance(impl, dict) else None
    return isinstance(name, str) and name.strip().lower() in REFERENCE_NAMES


def to_reference_dialect(message: dict[str, Any]) -> dict[str, Any]:
    """The message as a reference-dialect recipient gets it. Returned unchanged (the same object)
    when the reference can already read it, so the common case costs a key scan and no copy."""
    moved = {k: v for k, v in message.items() if k not in ENVELOPE_KEYS}
    sender = message.get("sender")
    if isinstance(sender, dict) and any(k not in SENDER_KEYS for k in sender):
        moved["sender"] = sender
        sender = {k: sender[k] for k in SENDER_KEYS if k in sender}
    if not moved:
        return message
    out = {k: v for k, v in message.items() if k in ENVELOPE_KEYS}
    if "sender" in moved:
        out["sender"] = sender
    payload = dict(message.get("payload") or {}) if isinstance(message.get("payload"), dict) else {}
    ext = payload.get("extensions")
    ext = dict(ext) if isinstance(ext, dict) else ({} if ext is None else {"value": ext})
    ns = ext.get(EXT)
    ns = dict(ns) if isinstance(ns, dict) else ({} if ns is None else {"value": ns})
    ns["envelope"] = moved  # a non-dict `extensions` or namespace found here is kept under "value"
    ext[EXT] = ns
    payload["extensions"] = ext
    out["payload"] = payload
    return out

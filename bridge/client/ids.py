"""Identifiers a participant mints for its own objects (intents, operations, deferrals, claims).

The coordinator core derives its ids deterministically; a participant only needs ids that never
collide with another participant's, so uuid4 is enough here.
"""

from __future__ import annotations

import uuid


def new_id(prefix: str) -> str:
    """`<prefix>-<12 hex digits>`, e.g. `intent-3f2a9c0b1d4e`."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def instance_id(principal_id: str) -> str:
    """A sender_instance_id for one client object: kept across reconnects, new per process."""
    return f"{principal_id}#{uuid.uuid4().hex[:12]}"


def intent_id() -> str:
    return new_id("intent")


def op_id() -> str:
    return new_id("op")


def deferral_id() -> str:
    return new_id("defer")


def claim_id() -> str:
    return new_id("claim")


def conflict_id() -> str:
    return new_id("conflict")

"""Table-driven state machines for intents, operations and conflicts (spec §15.6.1, §16.6.1, §17.8.1).

A transition that is not in a table is refused: `next_state` returns None and never guesses.
Rows the spec states in prose, and the gaps we decided (A5, A6), are marked; see docs/protocol.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from bridge.protocol.enums import ConflictState as C
from bridge.protocol.enums import IntentState as I
from bridge.protocol.enums import OpState as O


class IntentEvent(StrEnum):
    ANNOUNCE = "announce"
    UPDATE = "update"
    WITHDRAW = "withdraw"
    TTL_EXPIRED = "ttl_expired"
    SUPERSEDE = "supersede"
    OWNER_UNAVAILABLE = "owner_unavailable"
    BACKEND_SUSPEND = "backend_suspend"
    GOODBYE_TRANSFER = "goodbye_transfer"
    GOODBYE_WITHDRAW = "goodbye_withdraw"
    OWNER_RETURNED = "owner_returned"
    CLAIM_APPROVED = "claim_approved"
    SESSION_CLOSE_WITHDRAW = "session_close_withdraw"
    RESOLUTION_REJECTED = "resolution_rejected"


class OpEvent(StrEnum):
    PROPOSE = "propose"
    COMMIT_POST = "commit_post"
    COMMIT_PRE_INITIAL = "commit_pre_initial"
    AUTHORIZE = "authorize"
    COMMIT_PRE_COMPLETE = "commit_pre_complete"
    REJECT = "reject"
    INTENT_TERMINATED = "intent_terminated"
    INTENT_SUSPENDED = "intent_suspended"
    INTENT_RESTORED = "intent_restored"
    SENDER_UNAVAILABLE = "sender_unavailable"
    SUPERSEDE = "supersede"
    SENDER_LEFT = "sender_left"


class ConflictEvent(StrEnum):
    REPORT = "report"
    ACK = "ack"
    DISPUTE = "dispute"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    AUTO_DISMISS = "auto_dismiss"
    PHASE3_FALLBACK = "phase3_fallback"
    CLOSE = "close"


INTENT_TABLE: dict[tuple[I | None, IntentEvent], I] = {
    (None, IntentEvent.ANNOUNCE): I.ACTIVE,  # I1
    (I.ACTIVE, IntentEvent.UPDATE): I.ACTIVE,  # I2
    (I.ACTIVE, IntentEvent.WITHDRAW): I.WITHDRAWN,  # I3
    (I.ACTIVE, IntentEvent.TTL_EXPIRED): I.EXPIRED,  # I4
    (I.ACTIVE, IntentEvent.SUPERSEDE): I.SUPERSEDED,  # I5, I14 (auto-supersede, A4)
    (I.ACTIVE, IntentEvent.OWNER_UNAVAILABLE): I.SUSPENDED,  # I6
    (I.ACTIVE, IntentEvent.BACKEND_SUSPEND): I.SUSPENDED,  # I12 (text): suspend_and_claim
    (I.ACTIVE, IntentEvent.GOODBYE_TRANSFER): I.SUSPENDED,  # I7
    (I.SUSPENDED, IntentEvent.OWNER_RETURNED): I.ACTIVE,  # I8
    (I.SUSPENDED, IntentEvent.CLAIM_APPROVED): I.TRANSFERRED,  # I9
    (I.SUSPENDED, IntentEvent.TTL_EXPIRED): I.EXPIRED,  # I10
    (I.ACTIVE, IntentEvent.GOODBYE_WITHDRAW): I.WITHDRAWN,  # I11 (text)
    (I.ACTIVE, IntentEvent.SESSION_CLOSE_WITHDRAW): I.WITHDRAWN,  # I13 (text)
    # A5 (decided): a suspended intent can be withdrawn by its returning owner's GOODBYE, by
    # SESSION_CLOSE withdraw_all, or by a RESOLUTION that rejects it.
    (I.SUSPENDED, IntentEvent.GOODBYE_WITHDRAW): I.WITHDRAWN,
    (I.SUSPENDED, IntentEvent.SESSION_CLOSE_WITHDRAW): I.WITHDRAWN,
    (I.ACTIVE, IntentEvent.RESOLUTION_REJECTED): I.WITHDRAWN,
    (I.SUSPENDED, IntentEvent.RESOLUTION_REJECTED): I.WITHDRAWN,
}

OP_TABLE: dict[tuple[O | None, OpEvent], O] = {
    (None, OpEvent.PROPOSE): O.PROPOSED,  # O1
    (None, OpEvent.COMMIT_POST): O.COMMITTED,  # O2, O13
    (None, OpEvent.COMMIT_PRE_INITIAL): O.PROPOSED,  # O3, O14
    (O.PROPOSED, OpEvent.AUTHORIZE): O.PROPOSED,  # O4
    (O.PROPOSED, OpEvent.COMMIT_PRE_COMPLETE): O.COMMITTED,  # O5, O15
    (O.PROPOSED, OpEvent.REJECT): O.REJECTED,  # O6, O16, O17
    (O.PROPOSED, OpEvent.INTENT_TERMINATED): O.REJECTED,  # O7
    (O.PROPOSED, OpEvent.INTENT_SUSPENDED): O.FROZEN,  # O8
    (O.PROPOSED, OpEvent.SENDER_UNAVAILABLE): O.ABANDONED,  # O9
    (O.FROZEN, OpEvent.INTENT_RESTORED): O.PROPOSED,  # O10
    (O.FROZEN, OpEvent.INTENT_TERMINATED): O.REJECTED,  # O11
    (O.COMMITTED, OpEvent.SUPERSEDE): O.SUPERSEDED,  # O12, O18
    (O.PROPOSED, OpEvent.SENDER_LEFT): O.ABANDONED,  # O19 (text)
    # A6 (decided): a frozen proposal of a participant that leaves or stays away is abandoned.
    (O.FROZEN, OpEvent.SENDER_LEFT): O.ABANDONED,
    (O.FROZEN, OpEvent.SENDER_UNAVAILABLE): O.ABANDONED,
}

CONFLICT_TABLE: dict[tuple[C | None, ConflictEvent], C] = {
    (None, ConflictEvent.REPORT): C.OPEN,  # C1
    (C.OPEN, ConflictEvent.ACK): C.ACKED,  # C2
    (C.OPEN, ConflictEvent.DISPUTE): C.OPEN,  # A6: a disputed ack leaves the conflict open
    (C.ACKED, ConflictEvent.ACK): C.ACKED,
    (C.ACKED, ConflictEvent.DISPUTE): C.ACKED,
    (C.ESCALATED, ConflictEvent.ACK): C.ESCALATED,
    (C.ESCALATED, ConflictEvent.DISPUTE): C.ESCALATED,
    (C.OPEN, ConflictEvent.ESCALATE): C.ESCALATED,  # C3
    (C.ACKED, ConflictEvent.ESCALATE): C.ESCALATED,  # C7
    (C.OPEN, ConflictEvent.RESOLVE): C.RESOLVED,  # C4
    (C.ACKED, ConflictEvent.RESOLVE): C.RESOLVED,  # C8
    (C.ESCALATED, ConflictEvent.RESOLVE): C.RESOLVED,  # C10
    (C.OPEN, ConflictEvent.AUTO_DISMISS): C.DISMISSED,  # C5
    (C.ACKED, ConflictEvent.AUTO_DISMISS): C.DISMISSED,  # C9
    (C.ESCALATED, ConflictEvent.AUTO_DISMISS): C.DISMISSED,  # C11
    # A6 (decided): a RESOLUTION with decision=dismissed ends the conflict as DISMISSED.
    (C.OPEN, ConflictEvent.DISMISS): C.DISMISSED,
    (C.ACKED, ConflictEvent.DISMISS): C.DISMISSED,
    (C.ESCALATED, ConflictEvent.DISMISS): C.DISMISSED,
    (C.OPEN, ConflictEvent.PHASE3_FALLBACK): C.CLOSED,  # C6
    (C.ACKED, ConflictEvent.PHASE3_FALLBACK): C.CLOSED,  # A12: also from ACKED / ESCALATED
    (C.ESCALATED, ConflictEvent.PHASE3_FALLBACK): C.CLOSED,
    (C.RESOLVED, ConflictEvent.CLOSE): C.CLOSED,  # C12
}

S = TypeVar("S")
E = TypeVar("E")


def next_state(table: dict[tuple[S | None, E], S], current: S | None, event: E) -> S | None:
    """The state after `event`, or None when the table does not allow it."""
    return table.get((current, event))


def legal_states(table: dict[tuple[S | None, E], S]) -> frozenset[S]:
    """Every state a table can produce (for property tests)."""
    return frozenset(table.values())


def events_from(table: dict[tuple[S | None, E], S], current: S | None) -> frozenset[E]:
    """The events a table accepts in state `current` (empty for terminal states)."""
    return frozenset(event for (state, event) in table if state == current)

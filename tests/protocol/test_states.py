"""State tables (digest section 3): listed transitions hold, others are refused, terminals are final."""

from __future__ import annotations

import itertools

from bridge.protocol.enums import (
    TERMINAL_CONFLICT_STATES,
    TERMINAL_INTENT_STATES,
    TERMINAL_OP_STATES,
    ConflictState,
    IntentState,
    OpState,
)
from bridge.protocol.states import (
    CONFLICT_TABLE,
    INTENT_TABLE,
    OP_TABLE,
    ConflictEvent,
    IntentEvent,
    OpEvent,
    events_from,
    legal_states,
    next_state,
)

TABLES = [
    (INTENT_TABLE, IntentState, IntentEvent, TERMINAL_INTENT_STATES),
    (OP_TABLE, OpState, OpEvent, TERMINAL_OP_STATES),
    (CONFLICT_TABLE, ConflictState, ConflictEvent, TERMINAL_CONFLICT_STATES),
]


def test_every_listed_transition_is_accepted() -> None:
    for table, _states, _events, _terminal in TABLES:
        for (current, event), new in table.items():
            assert next_state(table, current, event) == new


def test_unlisted_transitions_are_refused_and_terminals_have_no_exit() -> None:
    for table, states, events, terminal in TABLES:
        for current, event in itertools.product([None, *states], events):
            got = next_state(table, current, event)
            if (current, event) not in table:
                assert got is None
            if current in terminal:
                assert got is None


def test_spec_rows_present() -> None:
    assert next_state(INTENT_TABLE, None, IntentEvent.ANNOUNCE) == IntentState.ACTIVE  # I1
    assert (
        next_state(INTENT_TABLE, IntentState.SUSPENDED, IntentEvent.CLAIM_APPROVED)
        == IntentState.TRANSFERRED
    )  # I9
    assert (
        next_state(INTENT_TABLE, IntentState.ACTIVE, IntentEvent.CLAIM_APPROVED) is None
    )  # not listed
    assert next_state(OP_TABLE, OpState.COMMITTED, OpEvent.SUPERSEDE) == OpState.SUPERSEDED  # O12
    assert next_state(OP_TABLE, OpState.COMMITTED, OpEvent.REJECT) is None
    assert (
        next_state(CONFLICT_TABLE, ConflictState.OPEN, ConflictEvent.DISPUTE) == ConflictState.OPEN
    )  # A6
    assert (
        next_state(CONFLICT_TABLE, ConflictState.RESOLVED, ConflictEvent.CLOSE)
        == ConflictState.CLOSED
    )  # C12


def test_legal_states_cover_the_tables() -> None:
    assert IntentState.ACTIVE in legal_states(INTENT_TABLE)
    assert OpState.FROZEN in legal_states(OP_TABLE)


def _refused_everywhere_else(table: dict, states: type, events: type, terminal: frozenset) -> None:
    for current, event in itertools.product([None, *states], events):
        if (current, event) not in table:
            assert next_state(table, current, event) is None, (current, event)
    for state in terminal:
        assert events_from(table, state) == frozenset(), state


def test_intent_table_11_8_126() -> None:
    """Rows I1-I14 of digest 3.1 (text rows included), the A5 additions, nothing else."""
    S, E = IntentState, IntentEvent
    expected = {
        (None, E.ANNOUNCE): S.ACTIVE,  # I1
        (S.ACTIVE, E.UPDATE): S.ACTIVE,  # I2
        (S.ACTIVE, E.WITHDRAW): S.WITHDRAWN,  # I3
        (S.ACTIVE, E.TTL_EXPIRED): S.EXPIRED,  # I4
        (S.ACTIVE, E.SUPERSEDE): S.SUPERSEDED,  # I5, I14
        (S.ACTIVE, E.OWNER_UNAVAILABLE): S.SUSPENDED,  # I6
        (S.ACTIVE, E.GOODBYE_TRANSFER): S.SUSPENDED,  # I7
        (S.SUSPENDED, E.OWNER_RETURNED): S.ACTIVE,  # I8 (and a withdrawn claim)
        (S.SUSPENDED, E.CLAIM_APPROVED): S.TRANSFERRED,  # I9
        (S.SUSPENDED, E.TTL_EXPIRED): S.EXPIRED,  # I10
        (S.ACTIVE, E.GOODBYE_WITHDRAW): S.WITHDRAWN,  # I11
        (S.ACTIVE, E.BACKEND_SUSPEND): S.SUSPENDED,  # I12
        (S.ACTIVE, E.SESSION_CLOSE_WITHDRAW): S.WITHDRAWN,  # I13
        (S.SUSPENDED, E.SESSION_CLOSE_WITHDRAW): S.WITHDRAWN,  # I13 / A5
        (S.SUSPENDED, E.GOODBYE_WITHDRAW): S.WITHDRAWN,  # A5
        (S.ACTIVE, E.RESOLUTION_REJECTED): S.WITHDRAWN,  # A5 / A7
        (S.SUSPENDED, E.RESOLUTION_REJECTED): S.WITHDRAWN,  # A5 / A7
    }
    assert expected == INTENT_TABLE
    _refused_everywhere_else(INTENT_TABLE, IntentState, IntentEvent, TERMINAL_INTENT_STATES)
    # Named gaps stay refused: no direct ACTIVE->TRANSFERRED, no SUSPENDED->SUPERSEDED, no update while suspended.
    assert next_state(INTENT_TABLE, S.ACTIVE, E.CLAIM_APPROVED) is None
    assert next_state(INTENT_TABLE, S.SUSPENDED, E.SUPERSEDE) is None
    assert next_state(INTENT_TABLE, S.SUSPENDED, E.UPDATE) is None
    assert next_state(INTENT_TABLE, S.SUSPENDED, E.WITHDRAW) is None


def test_operation_table_11_9_136() -> None:
    """Rows O1-O19 of digest 3.2 and the A6 FROZEN->ABANDONED addition."""
    P, E = OpState, OpEvent
    expected = {
        (None, E.PROPOSE): P.PROPOSED,  # O1
        (None, E.COMMIT_POST): P.COMMITTED,  # O2, O13
        (None, E.COMMIT_PRE_INITIAL): P.PROPOSED,  # O3, O14
        (P.PROPOSED, E.AUTHORIZE): P.PROPOSED,  # O4
        (P.PROPOSED, E.COMMIT_PRE_COMPLETE): P.COMMITTED,  # O5, O15
        (P.PROPOSED, E.REJECT): P.REJECTED,  # O6, O16, O17
        (P.PROPOSED, E.INTENT_TERMINATED): P.REJECTED,  # O7
        (P.PROPOSED, E.INTENT_SUSPENDED): P.FROZEN,  # O8
        (P.PROPOSED, E.SENDER_UNAVAILABLE): P.ABANDONED,  # O9
        (P.FROZEN, E.INTENT_RESTORED): P.PROPOSED,  # O10
        (P.FROZEN, E.INTENT_TERMINATED): P.REJECTED,  # O11
        (P.COMMITTED, E.SUPERSEDE): P.SUPERSEDED,  # O12, O18
        (P.PROPOSED, E.SENDER_LEFT): P.ABANDONED,  # O19
        (P.FROZEN, E.SENDER_LEFT): P.ABANDONED,  # A6 (ops)
        (P.FROZEN, E.SENDER_UNAVAILABLE): P.ABANDONED,  # A6 (ops)
    }
    assert expected == OP_TABLE
    _refused_everywhere_else(OP_TABLE, OpState, OpEvent, TERMINAL_OP_STATES)
    assert events_from(OP_TABLE, P.COMMITTED) == {E.SUPERSEDE}  # COMMITTED is stable
    assert (
        next_state(OP_TABLE, P.FROZEN, E.COMMIT_PRE_COMPLETE) is None
    )  # a frozen op cannot commit


def test_conflict_table_11_10_147() -> None:
    """Rows C1-C12 of digest 3.3 and the A6 decisions (disputed ack, dismissed resolution, phase 3)."""
    C, E = ConflictState, ConflictEvent
    live = (C.OPEN, C.ACKED, C.ESCALATED)
    assert next_state(CONFLICT_TABLE, None, E.REPORT) == C.OPEN  # C1
    assert next_state(CONFLICT_TABLE, C.OPEN, E.ACK) == C.ACKED  # C2
    assert next_state(CONFLICT_TABLE, C.OPEN, E.ESCALATE) == C.ESCALATED  # C3
    assert next_state(CONFLICT_TABLE, C.ACKED, E.ESCALATE) == C.ESCALATED  # C7
    assert next_state(CONFLICT_TABLE, C.ESCALATED, E.ESCALATE) is None
    for state in live:
        assert next_state(CONFLICT_TABLE, state, E.RESOLVE) == C.RESOLVED  # C4, C8, C10
        assert next_state(CONFLICT_TABLE, state, E.AUTO_DISMISS) == C.DISMISSED  # C5, C9, C11
        assert next_state(CONFLICT_TABLE, state, E.DISMISS) == C.DISMISSED  # A6
        assert (
            next_state(CONFLICT_TABLE, state, E.PHASE3_FALLBACK) == C.CLOSED
        )  # C6 (+ A6 from ACKED/ESCALATED)
        assert next_state(CONFLICT_TABLE, state, E.DISPUTE) == state  # A6: disputed changes nothing
    assert next_state(CONFLICT_TABLE, C.RESOLVED, E.CLOSE) == C.CLOSED  # C12
    assert events_from(CONFLICT_TABLE, C.RESOLVED) == {E.CLOSE}
    assert next_state(CONFLICT_TABLE, C.OPEN, E.CLOSE) is None
    _refused_everywhere_else(CONFLICT_TABLE, ConflictState, ConflictEvent, TERMINAL_CONFLICT_STATES)


def test_every_state_is_reachable_from_creation() -> None:
    for table, states, _events, _terminal in TABLES:
        seen: set = set()
        frontier: list = [None]
        while frontier:
            current = frontier.pop()
            for event in events_from(table, current):
                new = next_state(table, current, event)
                if new not in seen:
                    seen.add(new)
                    frontier.append(new)
        assert seen == set(states) == set(legal_states(table))

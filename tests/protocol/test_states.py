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
    assert next_state(INTENT_TABLE, IntentState.SUSPENDED, IntentEvent.CLAIM_APPROVED) == IntentState.TRANSFERRED  # I9
    assert next_state(INTENT_TABLE, IntentState.ACTIVE, IntentEvent.CLAIM_APPROVED) is None  # not listed
    assert next_state(OP_TABLE, OpState.COMMITTED, OpEvent.SUPERSEDE) == OpState.SUPERSEDED  # O12
    assert next_state(OP_TABLE, OpState.COMMITTED, OpEvent.REJECT) is None
    assert next_state(CONFLICT_TABLE, ConflictState.OPEN, ConflictEvent.DISPUTE) == ConflictState.OPEN  # A6
    assert next_state(CONFLICT_TABLE, ConflictState.RESOLVED, ConflictEvent.CLOSE) == ConflictState.CLOSED  # C12


def test_legal_states_cover_the_tables() -> None:
    assert IntentState.ACTIVE in legal_states(INTENT_TABLE)
    assert OpState.FROZEN in legal_states(OP_TABLE)

"""Parsing is total: arbitrary JSON values, bytes and mutated envelopes never raise (11.4)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.protocol import ParsedMessage, ParseFailure, parse_message

from .examples import VALID, envelope

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)
finite_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = [
    "protocol",
    "version",
    "message_type",
    "message_id",
    "session_id",
    "sender",
    "ts",
    "payload",
    "watermark",
]


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_gives_a_result(value: object) -> None:
    for raw in (value, json.dumps(value)):
        assert isinstance(parse_message(raw), (ParsedMessage, ParseFailure))


@settings(max_examples=600)
@given(st.binary(max_size=200))
def test_any_bytes_give_a_result(raw: bytes) -> None:
    assert isinstance(parse_message(raw), (ParsedMessage, ParseFailure))


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(VALID)), st.sampled_from(FIELDS), json_values)
def test_mutated_envelopes_give_a_result(mtype: str, field: str, value: object) -> None:
    env = envelope(mtype)
    env[field] = value
    result = parse_message(json.dumps(env))
    assert isinstance(result, (ParsedMessage, ParseFailure))
    if isinstance(result, ParseFailure):
        assert result.code.value.isupper()
        # refers_to is whatever message_id could be read as a string (11.4, PROTOCOL_ERROR addressing)
        mid = env["message_id"]
        assert result.refers_to == (mid if isinstance(mid, str) else None)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(VALID)), st.text(max_size=12), finite_json_values)
def test_mutated_payload_fields_give_a_result(mtype: str, key: str, value: object) -> None:
    payload = dict(VALID[mtype])
    target = key if not payload or len(key) % 2 else sorted(payload)[len(key) % len(payload)]
    payload[target] = value
    result = parse_message(envelope(mtype, payload))
    assert isinstance(result, (ParsedMessage, ParseFailure))
    if isinstance(result, ParsedMessage):  # whatever was accepted dumps back to what was sent
        assert result.payload.dump() == payload
    else:
        assert result.refers_to == "m-1" and result.description.startswith("payload")

"""The sidecar's parser (`read_message`, msgspec structs) accepts and refuses exactly what
`parse_message` (the pydantic models) does, with the same code and words (issue 17)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from bridge.protocol import ParsedMessage, ParseFailure, parse_message
from bridge.protocol.read import WireMessage, read_message

from .examples import REQUIRED, VALID, envelope
from .test_parse_properties import FIELDS, finite_json_values, json_values

SLOW = [HealthCheck.too_slow]


def same(raw: Any) -> None:
    old, new = parse_message(raw), read_message(raw)
    if isinstance(old, ParseFailure):
        assert new == old, raw
        return
    assert isinstance(old, ParsedMessage) and isinstance(new, WireMessage), (raw, new)
    assert new.raw == old.raw
    assert new.message_type == old.message_type
    assert (new.message_id, new.sender_id, new.sender_instance_id, new.session_id) == (
        old.message_id,
        old.sender_id,
        old.sender_instance_id,
        old.session_id,
    )
    assert new.lamport == old.lamport
    _alike(new.payload, old.payload)  # every field the core reads, as pydantic has it


def _alike(struct: Any, model: Any) -> None:
    if isinstance(model, BaseModel):
        for name in type(struct).__struct_fields__:
            _alike(getattr(struct, name), getattr(model, name))
    elif isinstance(model, list):
        assert len(struct) == len(model)
        for a, b in zip(struct, model, strict=True):
            _alike(a, b)
    else:
        assert struct == model and type(struct) is type(model), (struct, model)


@pytest.mark.parametrize("mtype", sorted(VALID))
def test_every_valid_example_reads_alike(mtype: str) -> None:
    same(json.dumps(envelope(mtype)))
    same(envelope(mtype))


@pytest.mark.parametrize("mtype", sorted(REQUIRED))
def test_each_missing_required_field_is_refused_alike(mtype: str) -> None:
    for name in REQUIRED[mtype]:
        payload = {k: v for k, v in VALID[mtype].items() if k != name}
        same(json.dumps(envelope(mtype, payload)))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "null",
        "[]",
        '{"a": NaN}',
        '{"protocol": "MPAC", "version": "0.1.15", "x": Infinity}',
        '"\\ud800"',
        json.dumps(envelope("HEARTBEAT", {"status": "working", "summary": "\ud800"})),
        "[" * 100 + "]" * 100,
        json.dumps(envelope("HEARTBEAT", {"status": "working", "summary": [[[[[[[[[[]]]]]]]]]]})),
        "1e400",
        json.dumps(envelope("HEARTBEAT", {"status": "working", "x": 10**30})),
        json.dumps(envelope("INTENT_ANNOUNCE", ts="2026-13-45T99:00:00Z")),
        json.dumps(envelope("INTENT_ANNOUNCE", message_type=["x"])),
    ],
)
def test_odd_frames_read_alike(text: str) -> None:
    same(text)
    same(text.encode())


@settings(max_examples=400, suppress_health_check=SLOW)
@given(json_values)
def test_any_json_value_reads_alike(value: object) -> None:
    same(json.dumps(value))


@settings(max_examples=400, suppress_health_check=SLOW)
@given(st.sampled_from(sorted(VALID)), st.sampled_from(FIELDS), json_values)
def test_mutated_envelopes_read_alike(mtype: str, field: str, value: object) -> None:
    env = envelope(mtype)
    env[field] = value
    same(json.dumps(env))


@settings(max_examples=400, suppress_health_check=SLOW)
@given(
    st.sampled_from(["sender", "watermark"]),
    st.sampled_from(["principal_id", "principal_type", "sender_instance_id", "kind", "value"]),
    json_values,
)
def test_mutated_envelope_objects_read_alike(obj: str, key: str, value: object) -> None:
    env = envelope("INTENT_WITHDRAW")
    env[obj] = dict(env[obj], **{key: value})
    same(json.dumps(env))


@settings(max_examples=800, suppress_health_check=SLOW)
@given(st.sampled_from(sorted(VALID)), st.text(max_size=12), finite_json_values)
def test_mutated_payload_fields_read_alike(mtype: str, key: str, value: object) -> None:
    payload = dict(VALID[mtype])
    target = key if not payload or len(key) % 2 else sorted(payload)[len(key) % len(payload)]
    payload[target] = value
    same(json.dumps(envelope(mtype, payload)))


@settings(max_examples=600, suppress_health_check=SLOW)
@given(st.sampled_from(sorted(VALID)), st.integers(0, 40), finite_json_values)
def test_mutated_nested_payload_objects_read_alike(mtype: str, pick: int, value: object) -> None:
    payload = json.loads(json.dumps(VALID[mtype]))
    nested = [k for k, v in sorted(payload.items()) if isinstance(v, dict)]
    if not nested:
        return
    obj = payload[nested[pick % len(nested)]]
    keys = sorted(obj) or ["kind"]
    obj[keys[pick % len(keys)]] = value
    same(json.dumps(envelope(mtype, payload)))

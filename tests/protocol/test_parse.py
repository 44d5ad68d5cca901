"""Envelope and payload parsing: round trips and every malformed variant (digest 11.4-11.6)."""

from __future__ import annotations

import copy
import json

import pytest

from bridge.protocol import (
    PAYLOAD_MODELS,
    ErrorCode,
    MessageType,
    ParsedMessage,
    ParseFailure,
    parse_message,
    parse_payload,
)
from bridge.protocol.envelope import build_envelope, format_ts, parse_ts

from .examples import REQUIRED, VALID, envelope

ALL_TYPES = [t.value for t in MessageType]


def test_there_are_22_message_types_and_an_example_for_each() -> None:
    assert len(ALL_TYPES) == 22
    assert set(VALID) == set(ALL_TYPES) == set(REQUIRED)


@pytest.mark.parametrize("mtype", ALL_TYPES)
def test_round_trip_preserves_everything_including_unknown_fields(mtype: str) -> None:
    env = envelope(mtype)
    env["x-vendor"] = {"kept": True}
    env["sender"]["extensions"] = {"vendor": 1}
    env["payload"] = dict(env["payload"], future_field=[1, 2])
    text = json.dumps(env)
    parsed = parse_message(text)
    assert isinstance(parsed, ParsedMessage), parsed
    assert parsed.message_type == mtype
    dumped = parsed.payload.dump()
    assert dumped == env["payload"]
    again = parse_message(json.dumps(dict(env, payload=dumped)))
    assert isinstance(again, ParsedMessage)
    assert again.payload.dump() == dumped
    assert parsed.raw["x-vendor"] == {"kept": True}


@pytest.mark.parametrize("mtype", ALL_TYPES)
def test_payload_as_gives_the_model_of_its_message_type_and_refuses_another(mtype: str) -> None:
    parsed = parse_message(envelope(mtype))
    assert isinstance(parsed, ParsedMessage)
    model = PAYLOAD_MODELS[MessageType(mtype)]
    assert parsed.payload_as(model) is parsed.payload
    other = next(m for t, m in PAYLOAD_MODELS.items() if m is not model and t != mtype)
    with pytest.raises(TypeError, match=f"{mtype} carries"):
        parsed.payload_as(other)


@pytest.mark.parametrize("mtype", ALL_TYPES)
def test_build_envelope_output_parses(mtype: str) -> None:
    env = build_envelope(
        mtype,
        VALID[mtype],
        session_id="s1",
        sender={
            "principal_id": "service:c",
            "principal_type": "service",
            "sender_instance_id": "c#1",
        },
        now=1_800_000_000.25,
        message_id="c:e1:7",
        lamport=7,
        coordinator_epoch=1,
    )
    parsed = parse_message(env)
    assert isinstance(parsed, ParsedMessage)
    assert parsed.lamport == 7
    assert parsed.envelope.coordinator_epoch == 1


@pytest.mark.parametrize(
    ("mtype", "field"), [(t, f) for t, fields in REQUIRED.items() for f in fields]
)
def test_missing_required_payload_field_is_malformed_11_6_75(mtype: str, field: str) -> None:
    payload = copy.deepcopy(VALID[mtype])
    payload.pop(field, None)
    result = parse_message(envelope(mtype, payload))
    assert isinstance(result, ParseFailure)
    assert result.code == ErrorCode.MALFORMED_MESSAGE
    assert result.refers_to == "m-1"


@pytest.mark.parametrize(
    "field", ["message_type", "message_id", "session_id", "sender", "ts", "payload"]
)
def test_missing_envelope_field_is_malformed_11_4_56(field: str) -> None:
    env = envelope("HEARTBEAT")
    del env[field]
    result = parse_message(env)
    assert isinstance(result, ParseFailure)
    assert result.code == ErrorCode.MALFORMED_MESSAGE
    assert field in result.description


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"\xff\xfe", ErrorCode.MALFORMED_MESSAGE),
        ("{not json", ErrorCode.MALFORMED_MESSAGE),
        ("[1, 2]", ErrorCode.MALFORMED_MESSAGE),
        ('"text"', ErrorCode.MALFORMED_MESSAGE),
        ("42", ErrorCode.MALFORMED_MESSAGE),
        ("null", ErrorCode.MALFORMED_MESSAGE),
        (None, ErrorCode.MALFORMED_MESSAGE),
        ("[" * 5000 + "]" * 5000, ErrorCode.MALFORMED_MESSAGE),
        ("x" * (2 << 20), ErrorCode.MALFORMED_MESSAGE),
    ],
)
def test_undecodable_frames_11_4(raw: object, code: ErrorCode) -> None:
    result = parse_message(raw)
    assert isinstance(result, ParseFailure)
    assert result.code == code


def test_wrong_protocol_unknown_type_version_and_timestamp_11_4_56() -> None:
    cases = [
        (envelope("HEARTBEAT", protocol="NOT"), ErrorCode.MALFORMED_MESSAGE),
        (envelope("HEARTBEAT", message_type="TELEPORT"), ErrorCode.UNKNOWN_MESSAGE_TYPE),
        (envelope("HEARTBEAT", version="0.2.0"), ErrorCode.VERSION_MISMATCH),
        (envelope("HEARTBEAT", ts="yesterday"), ErrorCode.MALFORMED_MESSAGE),
        (envelope("HEARTBEAT", message_id=5), ErrorCode.MALFORMED_MESSAGE),
        (envelope("HEARTBEAT", sender={"principal_id": "a"}), ErrorCode.MALFORMED_MESSAGE),
        (envelope("HEARTBEAT", payload=[1]), ErrorCode.MALFORMED_MESSAGE),
        (envelope("HEARTBEAT", coordinator_epoch=0), ErrorCode.MALFORMED_MESSAGE),
    ]
    for env, code in cases:
        result = parse_message(env)
        assert isinstance(result, ParseFailure), env
        assert result.code == code, (env, result)


def test_wrong_types_are_not_coerced_11_6() -> None:
    bad = [
        (
            "INTENT_ANNOUNCE",
            {
                "intent_id": "i",
                "objective": "o",
                "scope": {"kind": "file_set", "resources": "a.py"},
            },
        ),
        (
            "INTENT_ANNOUNCE",
            {
                "intent_id": "i",
                "objective": "o",
                "scope": {"kind": "file_set", "resources": ["a"]},
                "ttl_sec": "60",
            },
        ),
        ("HEARTBEAT", {"status": "sleeping"}),
        ("CONFLICT_ACK", {"conflict_id": "k", "ack_type": "maybe"}),
        ("GOODBYE", {"reason": "x", "intent_disposition": "keep"}),
        ("OP_BATCH_COMMIT", {"batch_id": "b", "atomicity": "all_or_nothing", "operations": []}),
        (
            "INTENT_ANNOUNCE",
            {"intent_id": "i", "objective": "o", "scope": {"kind": "resource_path"}},
        ),
    ]
    for mtype, payload in bad:
        result = parse_message(envelope(mtype, payload))
        assert isinstance(result, ParseFailure), (mtype, payload)
        assert result.code == ErrorCode.MALFORMED_MESSAGE


def test_reference_client_shapes_are_accepted_d1_d12() -> None:
    ok = [
        envelope("HEARTBEAT", version="0.1.13"),
        envelope("HEARTBEAT", version="0.1.14"),
        envelope("HELLO", {"display_name": "ref", "roles": ["participant"], "capabilities": []}),
        envelope("HELLO", {"display_name": "ref"}),
        envelope("RESOLUTION", {"conflict_id": "k1", "decision": "approved", "rationale": ""}),
        envelope(
            "OP_COMMIT",
            {
                "op_id": "o",
                "target": "a",
                "op_kind": "replace",
                "state_ref_before": None,
                "state_ref_after": None,
                "file_changes": {"a": {"content": "x"}},
            },
        ),
        envelope("GOODBYE", {"reason": "completed"}),
        envelope(
            "CONFLICT_REPORT",
            {
                "conflict_id": "k",
                "category": "scope_overlap",
                "severity": "medium",
                "principal_a": "agent:a",
                "principal_b": "agent:b",
                "intent_a": "i1",
                "intent_b": "i2",
            },
        ),
        envelope(
            "INTENT_DEFERRED", {"deferral_id": "d", "principal_id": "agent:a", "status": "resolved"}
        ),
    ]
    for env in ok:
        assert isinstance(parse_message(env), ParsedMessage), env
    report = parse_message(ok[7])
    assert report.payload.intents() == ["i1", "i2"]  # type: ignore[union-attr]
    assert report.payload.principals() == ["agent:a", "agent:b"]  # type: ignore[union-attr]


def test_timestamps() -> None:
    assert parse_ts("2026-03-27T18:00:00Z") == 1_774_634_400.0
    assert parse_ts("2026-03-27T20:00:00+02:00") == 1_774_634_400.0
    assert parse_ts(format_ts(1_800_000_000.123456)) == pytest.approx(1_800_000_000.123456)
    for bad in ("2026-13-01T00:00:00Z", "2026-03-27 18:00:00", "", 5, None, "2026-03-27T18:00:00"):
        assert parse_ts(bad) is None


def test_parse_payload_for_tools() -> None:
    assert not isinstance(parse_payload("HEARTBEAT", {"status": "idle"}), ParseFailure)
    assert parse_payload("NOPE", {}).code == ErrorCode.UNKNOWN_MESSAGE_TYPE  # type: ignore[union-attr]
    assert parse_payload("HEARTBEAT", "x").code == ErrorCode.MALFORMED_MESSAGE  # type: ignore[union-attr]


@pytest.mark.parametrize("mtype", ALL_TYPES)
def test_whole_message_round_trip_keeps_unknown_fields_at_every_level_11_4_53(mtype: str) -> None:
    env = envelope(mtype, trace_id="t-1", extensions={"vendor.example": {"a": 1}})
    env["sender"] = dict(env["sender"], extensions={"client": "ref"})
    env["watermark"] = dict(env["watermark"], extensions={"w": True})
    env["vendor_top"] = [1, {"x": None}]
    payload = copy.deepcopy(env["payload"])
    payload["extensions"] = {"vendor.example": {"note": "kept"}}
    if isinstance(payload.get("scope"), dict):
        payload["scope"]["vendor_scope"] = "kept"
    env["payload"] = payload
    first = parse_message(json.dumps(env))
    assert isinstance(first, ParsedMessage)
    assert first.dump() == env
    second = parse_message(json.dumps(first.dump()))
    assert isinstance(second, ParsedMessage) and second.dump() == env


def test_reference_extras_and_formats_are_accepted_d7_d10_d12() -> None:
    ok = [
        envelope(
            "OP_REJECT",
            {
                "op_id": "b1",
                "reason": "batch_validation_failed",
                "refers_to": "m-0",
                "rejected_ops": ["o1"],
            },
        ),
        envelope(
            "PROTOCOL_ERROR",
            {
                "error_code": "STALE_INTENT",
                "description": "held by agent:b",
                "duplicate_candidate": {"candidate": True, "confidence": "high"},
            },
        ),
        envelope(
            "INTENT_DEFERRED",
            {
                "deferral_id": "d",
                "principal_id": "agent:a",
                "scope": {"kind": "file_set", "resources": ["a"]},
                "expires_at": "2026-11-25T10:01:00+00:00",
                "category": "yield",
            },
        ),
        envelope(
            "SESSION_INFO",
            dict(VALID["SESSION_INFO"], governance_policy={"require_acknowledgment": True}),
        ),
        envelope("PROTOCOL_ERROR", {"error_code": "STALE_STATE_REF", "description": "stale"}),
        envelope(
            "HEARTBEAT",
            sender={
                "principal_id": "agent:x",
                "principal_type": "agent",
                "sender_instance_id": "agent:x:6c1f0d2e",
            },
        ),
        envelope("HEARTBEAT", ts="2026-11-25T10:00:00.123+00:00"),
    ]
    for env in ok:
        parsed = parse_message(env)
        assert isinstance(parsed, ParsedMessage), (env, parsed)
        assert parsed.dump() == env

"""Payload and envelope details: codes, watermarks, conditional fields, scopes, builder (11.4-11.6)."""

from __future__ import annotations

import copy
import json
import typing
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.protocol import (
    COORDINATOR_ONLY_TYPES,
    SPEC_ERROR_CODES,
    ErrorCode,
    MessageType,
    ParsedMessage,
    ParseFailure,
    enums,
    parse_message,
    parse_payload,
    payloads,
)
from bridge.protocol.envelope import build_envelope, format_ts, parse_ts
from bridge.protocol.parse import MAX_DEPTH, MAX_FRAME_BYTES, OVERSIZE_READ_FACTOR
from bridge.protocol.payloads import ConflictReport, IntentAnnounce, IntentDeferred

from .examples import VALID, envelope


def failure(raw: Any) -> ParseFailure:
    result = parse_message(raw)
    assert isinstance(result, ParseFailure), raw
    return result


def ok(raw: Any) -> ParsedMessage:
    result = parse_message(raw)
    assert isinstance(result, ParsedMessage), result
    return result


def test_error_registry_has_the_20_spec_codes_plus_stale_state_ref() -> None:
    assert len(SPEC_ERROR_CODES) == 20
    assert {
        "STALE_INTENT",
        "BACKEND_SWITCH_DENIED",
        "CAUSAL_GAP",
        "INTENT_BACKOFF",
    } <= SPEC_ERROR_CODES
    assert ErrorCode.STALE_STATE_REF not in SPEC_ERROR_CODES
    assert {c.value for c in ErrorCode} == SPEC_ERROR_CODES | {"STALE_STATE_REF"}


def test_coordinator_only_types() -> None:
    assert {
        MessageType.SESSION_INFO,
        MessageType.SESSION_CLOSE,
        MessageType.COORDINATOR_STATUS,
        MessageType.INTENT_CLAIM_STATUS,
    } == COORDINATOR_ONLY_TYPES


# --- envelope -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("protocol", "mpac"),
        ("version", 15),
        ("message_type", ["HELLO"]),
        ("message_id", ""),
        ("session_id", 7),
        ("sender", "agent:a"),
        ("ts", 1_774_634_400),
        ("payload", "status=idle"),
        ("watermark", "3"),
        ("in_reply_to", 5),
        ("coordinator_epoch", "1"),
        ("coordinator_epoch", True),
        ("extensions", ["x"]),
    ],
)
def test_wrong_envelope_types_are_malformed_11_4_54(field: str, value: Any) -> None:
    f = failure(envelope("HEARTBEAT", **{field: value}))
    assert f.code == ErrorCode.MALFORMED_MESSAGE
    assert field in f.description


@pytest.mark.parametrize("field", ["principal_id", "principal_type", "sender_instance_id"])
def test_sender_needs_all_three_fields_11_4_55(field: str) -> None:
    env = envelope("HEARTBEAT")
    del env["sender"][field]
    f = failure(env)
    assert f.code == ErrorCode.MALFORMED_MESSAGE and f"sender.{field}" in f.description


def test_missing_protocol_and_version_are_malformed_11_4_56_57() -> None:
    for field in ("protocol", "version"):
        env = envelope("HEARTBEAT")
        del env[field]
        assert failure(env).code == ErrorCode.MALFORMED_MESSAGE


def test_failure_carries_what_could_be_read() -> None:
    f = failure(envelope("HEARTBEAT", {"status": "napping"}))
    assert (f.refers_to, f.message_type, f.sender_id, f.session_id) == (
        "m-1",
        "HEARTBEAT",
        "agent:a",
        "s1",
    )
    assert f.description.startswith("payload.status")
    f = failure(envelope("HEARTBEAT", message_id=12, sender=None))
    assert f.refers_to is None and f.sender_id is None


def test_timestamps_must_be_rfc3339_11_4_59() -> None:
    for ts in (
        "2026-03-27T18:00:00.5+02:00",
        "2026-03-27t18:00:00z",
        "2026-03-27T18:00:00.123456789Z",
    ):
        ok(envelope("HEARTBEAT", ts=ts))
    for ts in (
        "2026-03-27",
        "2026-03-27T25:00:00Z",
        "27/03/2026 18:00",
        "2026-03-27T18:00:00+2",
        "x" * 100,
    ):
        f = failure(envelope("HEARTBEAT", ts=ts))
        assert f.code == ErrorCode.MALFORMED_MESSAGE and f.description.startswith("ts")


def test_unsupported_version_names_the_accepted_ones_a1() -> None:
    f = failure(envelope("HEARTBEAT", version="0.1.12"))
    assert (
        f.code == ErrorCode.VERSION_MISMATCH and "0.1.15" in f.description and f.refers_to == "m-1"
    )


def test_unknown_type_is_reported_with_its_id() -> None:
    f = failure(envelope("HEARTBEAT", message_type="SESSION_CREATE"))
    assert f.code == ErrorCode.UNKNOWN_MESSAGE_TYPE and f.refers_to == "m-1"


# --- watermarks -----------------------------------------------------------------------------


def test_watermark_value_is_required_and_lamport_values_are_integers_11_5_63() -> None:
    for wm in (
        {"kind": "lamport_clock"},
        {"kind": "lamport_clock", "value": "3"},
        {"kind": "lamport_clock", "value": -1},
        {"kind": "lamport_clock", "value": True},
        {"kind": "lamport_clock", "value": 2.5},
        {"value": 3},
        {"kind": "vector_clock", "value": {"a": 1}, "lamport_value": "8"},
    ):
        assert failure(envelope("OP_COMMIT", watermark=wm)).code == ErrorCode.MALFORMED_MESSAGE, wm


def test_other_watermark_kinds_fall_back_to_lamport_value_11_5_64_65() -> None:
    msg = ok(
        envelope(
            "OP_COMMIT",
            watermark={"kind": "vector_clock", "value": {"a": 3, "b": 5}, "lamport_value": 8},
        )
    )
    assert msg.lamport == 8
    msg = ok(envelope("OP_COMMIT", watermark={"kind": "opaque", "value": "x"}))
    assert msg.lamport is None
    assert ok(envelope("HELLO", watermark=None)).lamport is None  # A24: HELLO may carry none


def test_conflict_report_needs_based_on_watermark_11_5_66() -> None:
    payload = dict(VALID["CONFLICT_REPORT"])
    payload["based_on_watermark"] = {"kind": "lamport_clock", "value": "late"}
    assert failure(envelope("CONFLICT_REPORT", payload)).description.startswith(
        "payload.based_on_watermark"
    )


# --- payload details ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("file_set", "resources", ["a.py"]),
        ("resource_path", "pattern", "src/**"),
        ("task_set", "task_ids", ["T-1"]),
        ("entity_set", "entities", ["User"]),
    ],
)
def test_scope_kind_fields_are_required_when_that_kind_is_used_11_6_76(
    kind: str, field: str, value: Any
) -> None:
    base = {"intent_id": "i", "objective": "o"}
    assert not isinstance(
        parse_payload("INTENT_ANNOUNCE", dict(base, scope={"kind": kind, field: value})),
        ParseFailure,
    )
    f = parse_payload("INTENT_ANNOUNCE", dict(base, scope={"kind": kind}))
    assert isinstance(f, ParseFailure) and field in f.description


def test_query_scope_needs_expression_and_language_and_custom_kinds_pass_11_8_108() -> None:
    base = {"intent_id": "i", "objective": "o"}
    assert isinstance(
        parse_payload("INTENT_ANNOUNCE", dict(base, scope={"kind": "query", "expression": "x"})),
        ParseFailure,
    )
    good = {"kind": "query", "expression": "x", "language": "sql"}
    assert not isinstance(parse_payload("INTENT_ANNOUNCE", dict(base, scope=good)), ParseFailure)
    for scope in ({"kind": "custom"}, {"kind": "db_table", "canonical_uris": ["db://t"]}):
        assert not isinstance(
            parse_payload("INTENT_ANNOUNCE", dict(base, scope=scope)), ParseFailure
        )
    for scope in ({}, {"kind": ""}, {"kind": 3}, "file_set"):
        assert isinstance(parse_payload("INTENT_ANNOUNCE", dict(base, scope=scope)), ParseFailure)


@pytest.mark.parametrize(
    ("payload", "valid"),
    [
        ({"event": "handover", "coordinator_id": "c", "session_health": "healthy"}, False),
        (
            {
                "event": "handover",
                "coordinator_id": "c",
                "session_health": "healthy",
                "successor_coordinator_id": "service:c2",
                "next_coordinator_epoch": 2,
            },
            True,
        ),
        (
            {
                "event": "authorization",
                "coordinator_id": "c",
                "session_health": "healthy",
                "authorized_op_id": "o",
            },
            False,
        ),
        (
            {
                "event": "authorization",
                "coordinator_id": "c",
                "session_health": "healthy",
                "authorized_op_id": "o",
                "authorized_by": "c",
            },
            True,
        ),
        (
            {
                "event": "backend_alert",
                "coordinator_id": "c",
                "session_health": "degraded",
                "affected_principal": "a",
            },
            False,
        ),
        (
            {
                "event": "backend_alert",
                "coordinator_id": "c",
                "session_health": "degraded",
                "affected_principal": "a",
                "backend_detail": {"model_id": "x/y", "provider_status": "down"},
            },
            True,
        ),
        (
            {
                "event": "heartbeat",
                "coordinator_id": "c",
                "session_health": "healthy",
                "open_conflicts": -1,
            },
            False,
        ),
        ({"event": "reboot", "coordinator_id": "c", "session_health": "healthy"}, False),
    ],
)
def test_coordinator_status_conditional_fields_11_6_76(
    payload: dict[str, Any], valid: bool
) -> None:
    assert isinstance(parse_payload("COORDINATOR_STATUS", payload), ParseFailure) is not valid


@pytest.mark.parametrize(
    ("payload", "valid"),
    [
        ({"claim_id": "c", "original_intent_id": "i", "decision": "approved"}, False),
        (
            {
                "claim_id": "c",
                "original_intent_id": "i",
                "decision": "approved",
                "new_intent_id": "j",
            },
            True,
        ),
        ({"claim_id": "c", "original_intent_id": "i", "decision": "rejected"}, False),
        (
            {
                "claim_id": "c",
                "original_intent_id": "i",
                "decision": "withdrawn",
                "reason": "original_owner_rejoined",
            },
            True,
        ),
        ({"claim_id": "c", "original_intent_id": "i", "decision": "maybe", "reason": "x"}, False),
    ],
)
def test_claim_status_conditional_fields_11_6_76(payload: dict[str, Any], valid: bool) -> None:
    assert isinstance(parse_payload("INTENT_CLAIM_STATUS", payload), ParseFailure) is not valid


def test_intent_deferred_has_two_forms_11_6_75() -> None:
    active = parse_payload(
        "INTENT_DEFERRED", {"deferral_id": "d", "scope": {"kind": "file_set", "resources": ["a"]}}
    )
    assert isinstance(active, IntentDeferred) and not active.is_resolution
    done = parse_payload(
        "INTENT_DEFERRED",
        {"deferral_id": "d", "principal_id": "agent:a", "status": "expired", "reason": "ttl"},
    )
    assert isinstance(done, IntentDeferred) and done.is_resolution
    for bad in (
        {"deferral_id": "d"},
        {"deferral_id": "d", "status": "resolved"},  # resolution form names the principal
        {"deferral_id": "d", "principal_id": "agent:a", "status": "gone"},
        {"deferral_id": "d", "scope": {"kind": "file_set", "resources": ["a"]}, "ttl_sec": 0},
    ):
        assert isinstance(parse_payload("INTENT_DEFERRED", bad), ParseFailure), bad


def test_conflict_report_needs_a_related_intent_or_op_11_6_78() -> None:
    payload = dict(VALID["CONFLICT_REPORT"], related_intents=[])
    assert isinstance(parse_payload("CONFLICT_REPORT", payload), ParseFailure)
    only_ops = parse_payload("CONFLICT_REPORT", dict(payload, related_ops=["o1"]))
    assert (
        isinstance(only_ops, ConflictReport)
        and only_ops.intents() == []
        and only_ops.principals() == []
    )
    spec = parse_payload("CONFLICT_REPORT", VALID["CONFLICT_REPORT"])
    assert isinstance(spec, ConflictReport) and spec.intents() == ["i1", "i2"]


def test_numbers_are_not_coerced_and_ints_stay_ints() -> None:
    p = parse_payload("INTENT_ANNOUNCE", VALID["INTENT_ANNOUNCE"])
    assert isinstance(p, IntentAnnounce) and p.ttl_sec == 120 and type(p.ttl_sec) is int
    for ttl in ("120", True, 0, -5, None):
        bad = dict(VALID["INTENT_ANNOUNCE"], ttl_sec=ttl)
        result = parse_payload("INTENT_ANNOUNCE", bad)
        assert isinstance(result, ParseFailure) is (ttl is not None), ttl
    bad_close = dict(VALID["SESSION_CLOSE"], final_lamport_clock="42")
    assert isinstance(parse_payload("SESSION_CLOSE", bad_close), ParseFailure)


def test_nan_and_infinity_are_not_json() -> None:
    text = json.dumps(envelope("INTENT_ANNOUNCE")).replace('"ttl_sec": 120', '"ttl_sec": Infinity')
    assert "Infinity" in text
    f = failure(text)
    assert f.code == ErrorCode.MALFORMED_MESSAGE and f.refers_to == "m-1"
    text = json.dumps(envelope("HEARTBEAT", x_extra=1)).replace('"x_extra": 1', '"x_extra": NaN')
    assert failure(text).code == ErrorCode.MALFORMED_MESSAGE


def test_nested_unknown_fields_survive_a_round_trip() -> None:
    payload = copy.deepcopy(VALID["OP_BATCH_COMMIT"])
    payload["operations"][0]["vendor.note"] = {"k": [1]}
    env = envelope(
        "OP_BATCH_COMMIT",
        payload,
        watermark={"kind": "lamport_clock", "value": 3, "extensions": {"v": 1}},
    )
    msg = ok(json.dumps(env))
    assert msg.payload.dump()["operations"][0]["vendor.note"] == {"k": [1]}
    assert msg.envelope.watermark is not None and msg.envelope.watermark.model_dump()[
        "extensions"
    ] == {"v": 1}
    ann = copy.deepcopy(VALID["INTENT_ANNOUNCE"])
    ann["scope"]["extensions"] = {"intent_semantics": {"symbols": ["f"]}}
    ann["scope"]["vendor"] = True
    assert ok(envelope("INTENT_ANNOUNCE", ann)).payload.dump()["scope"] == ann["scope"]


# --- frame limits ---------------------------------------------------------------------------


def nested(levels: int) -> dict[str, Any]:
    inner: Any = 1
    for _ in range(levels - 1):
        inner = [inner]
    return dict(envelope("HEARTBEAT"), deep=inner)


def test_nesting_limit_is_64_levels_and_refers_to_is_kept() -> None:
    ok(json.dumps(nested(MAX_DEPTH - 1)))  # the envelope object is one more level
    f = failure(json.dumps(nested(MAX_DEPTH + 1)))
    assert (
        f.code == ErrorCode.MALFORMED_MESSAGE and "nested" in f.description and f.refers_to == "m-1"
    )
    assert failure("[" * 100_000).code == ErrorCode.MALFORMED_MESSAGE
    assert failure('{"a":' * 50_000 + "1" + "}" * 50_000).code == ErrorCode.MALFORMED_MESSAGE


def test_frame_size_limit_for_text_and_bytes() -> None:
    env = envelope("HEARTBEAT")
    env["pad"] = "x" * (MAX_FRAME_BYTES - len(json.dumps(env)) - 20)
    text = json.dumps(env)
    assert len(text) <= MAX_FRAME_BYTES
    ok(text)
    ok(text.encode())
    ok(bytearray(text.encode()))
    ok(memoryview(text.encode()))
    env["pad"] += "x" * 100
    for frame in (json.dumps(env), json.dumps(env).encode()):
        refused = failure(frame)
        assert "over the limit of 1,048,576 bytes" in refused.description
        assert refused.refers_to == env["message_id"]  # named, so its sender can match the refusal


def test_oversized_frame_counts_utf8_bytes_and_far_larger_ones_are_not_read() -> None:
    env = envelope("HEARTBEAT")
    env["pad"] = "é" * (MAX_FRAME_BYTES // 2)  # fewer characters than the limit, more bytes
    text = json.dumps(env, ensure_ascii=False)
    assert len(text) < MAX_FRAME_BYTES < len(text.encode())
    assert failure(text).refers_to == env["message_id"]
    env["pad"] = "x" * (OVERSIZE_READ_FACTOR * MAX_FRAME_BYTES)
    huge = failure(json.dumps(env))
    assert "over the limit" in huge.description and huge.refers_to is None
    assert isinstance(parse_message(json.dumps(env), max_bytes=8 * MAX_FRAME_BYTES), ParsedMessage)


# --- builder --------------------------------------------------------------------------------


def test_build_envelope_strips_none_and_dumps_models() -> None:
    sender = {"principal_id": "service:c", "principal_type": "service", "sender_instance_id": "c#1"}
    model = parse_payload("INTENT_ANNOUNCE", VALID["INTENT_ANNOUNCE"])
    assert isinstance(model, IntentAnnounce)
    env = build_envelope(
        MessageType.INTENT_ANNOUNCE,
        model,
        session_id="s",
        sender=sender,
        now=1_774_634_400.5,
        message_id="m9",
        lamport=12,
        in_reply_to="m8",
        extensions={"mpac-bridge": {"x": 1}},
    )
    assert env["message_type"] == "INTENT_ANNOUNCE" and type(env["message_type"]) is str
    assert env["ts"] == "2026-03-27T18:00:00.500000Z"
    assert env["watermark"] == {"kind": "lamport_clock", "value": 12}
    assert env["in_reply_to"] == "m8" and "coordinator_epoch" not in env
    assert env["payload"] == VALID["INTENT_ANNOUNCE"]
    plain = build_envelope(
        "HEARTBEAT",
        {"status": "idle", "summary": None},
        session_id="s",
        sender=sender,
        now=0.0,
        message_id="m",
        lamport=1,
        coordinator_epoch=3,
    )
    assert plain["payload"] == {"status": "idle"} and plain["coordinator_epoch"] == 3
    assert "extensions" not in plain and "in_reply_to" not in plain
    assert json.loads(json.dumps(plain)) == plain
    assert ok(plain).message_id == "m"


def _literal_values(model: type, field: str) -> set[str]:
    annotation = model.model_fields[field].annotation
    values: set[str] = set()
    for arg in typing.get_args(annotation):  # Literal[...] or Literal[...] | None
        if isinstance(arg, str):
            values.add(arg)
        else:
            values.update(a for a in typing.get_args(arg) if isinstance(a, str))
    return values


@pytest.mark.parametrize(
    ("model", "field", "enum"),
    [
        (payloads.Heartbeat, "status", enums.HeartbeatStatus),
        (payloads.Goodbye, "intent_disposition", enums.IntentDisposition),
        (payloads.SessionClose, "active_intents_disposition", enums.CloseDisposition),
        (payloads.CoordinatorStatus, "event", enums.CoordinatorEvent),
        (payloads.IntentAnnounce, "priority", enums.Priority),
        (payloads.IntentDeferred, "status", enums.DeferralStatus),
        (payloads.IntentClaimStatus, "decision", enums.ClaimDecision),
        (payloads.OpBatchCommit, "atomicity", enums.Atomicity),
        (payloads.ConflictReport, "severity", enums.Severity),
        (payloads.ConflictAck, "ack_type", enums.AckType),
        (payloads.Resolution, "decision", enums.Decision),
        (payloads.BackendHealth, "provider_status", enums.ProviderStatus),
    ],
)
def test_validated_enums_match_appendix_a(model: type, field: str, enum: type) -> None:
    assert _literal_values(model, field) == {m.value for m in enum}


def test_open_enumerations_accept_unknown_values_a2() -> None:
    report = dict(VALID["CONFLICT_REPORT"], category="license_clash", basis={"kind": "linter"})
    assert not isinstance(parse_payload("CONFLICT_REPORT", report), ParseFailure)
    hello = {"display_name": "x", "roles": ["maintainer"], "capabilities": ["x.custom"]}
    assert not isinstance(parse_payload("HELLO", hello), ParseFailure)
    ok(
        envelope(
            "HEARTBEAT",
            sender={"principal_id": "bot:1", "principal_type": "bot", "sender_instance_id": "1"},
        )
    )
    close = dict(VALID["SESSION_CLOSE"], reason="maintenance_window")
    assert not isinstance(parse_payload("SESSION_CLOSE", close), ParseFailure)


def test_unpaired_surrogate_escapes_are_refused_but_pairs_are_fine() -> None:
    bad = json.dumps(envelope("HEARTBEAT", {"status": "idle", "summary": "\ud800"}))
    assert "\\ud800" in bad
    f = failure(bad)
    assert f.code == ErrorCode.MALFORMED_MESSAGE and "surrogate" in f.description
    assert (f.refers_to, f.message_type, f.sender_id, f.session_id) == (
        "m-1",
        "HEARTBEAT",
        "agent:a",
        "s1",
    )
    good = ok(
        json.dumps(envelope("HEARTBEAT", {"status": "idle", "summary": "ok \U0001f600 C:\\ud"}))
    )
    assert good.payload.dump()["summary"] == "ok \U0001f600 C:\\ud"


def test_decode_failures_still_name_the_message() -> None:
    f = failure(json.dumps(nested(MAX_DEPTH + 1)))
    assert (f.message_type, f.sender_id, f.session_id) == ("HEARTBEAT", "agent:a", "s1")


@settings(max_examples=300)
@given(st.floats(min_value=-2e9, max_value=4e9, allow_nan=False))
def test_format_ts_round_trips_to_the_microsecond(now: float) -> None:
    text = format_ts(now)
    assert text.endswith("Z") and len(text) == 27
    back = parse_ts(text)
    assert back is not None and abs(back - now) <= 1e-6 + abs(now) * 1e-15
    assert text == datetime.fromtimestamp(round(now * 1e6) / 1e6, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )

"""Envelopes kept for replay as their JSON bytes or as nested tuples (issue 17): lossless, and
nothing the garbage collector has to keep visiting."""

from __future__ import annotations

import gc
import json
import math
import platform
from typing import Any

import pytest

from bridge.core.compact import PACK_LIMIT, freeze, frozen_scope, pack, thaw, unpack


def envelope(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "protocol": "MPAC",
        "message_type": "INTENT_ANNOUNCE",
        "message_id": "m-1",
        "in_reply_to": None,
        "payload": payload,
        "watermark": {"kind": "lamport_clock", "value": 7},
    }


def test_a_plain_envelope_is_kept_as_bytes_and_decodes_equal_in_order() -> None:
    env = envelope({"intent_id": "i", "objective": "é \u2028 ☃", "ttl_sec": 0.1 + 0.2, "n": 2**63})
    kept = pack(env)
    assert type(kept) is bytes and len(kept) < len(json.dumps(env, ensure_ascii=False).encode())
    back = unpack(kept)
    assert back == env
    assert json.dumps(back) == json.dumps(env)  # same keys in the same order, same numbers
    assert unpack(kept) is not back  # a new copy each time: a relay may not share the kept one


def test_values_the_bytes_cannot_carry_are_kept_frozen_as_they_are() -> None:
    for odd in (2**70, -(2**64), "\udc80"):
        env = envelope({"intent_id": "i", "objective": odd})
        kept = pack(env)
        assert type(kept) is tuple
        back = unpack(kept)
        assert json.dumps(back) == json.dumps(env)
        assert back["payload"]["objective"] is odd
    for odd in (math.nan, math.inf):  # MessagePack keeps these exactly
        back = unpack(pack(envelope({"objective": odd})))
        assert back is not None and repr(back["payload"]["objective"]) == repr(odd)
    assert unpack(None) is None


def test_a_large_envelope_is_kept_frozen_and_shares_its_strings() -> None:
    objective = "x" * PACK_LIMIT
    env = envelope({"intent_id": "i", "objective": objective, "scope": {"resources": ["a", "b"]}})
    kept = pack(env)
    assert type(kept) is tuple
    back = unpack(kept)
    assert back == env and json.dumps(back) == json.dumps(env)  # same keys, same order
    assert back["payload"]["objective"] is objective  # the record and the kept form share it
    assert unpack(kept) is not back


def test_freeze_round_trips_every_json_shape() -> None:
    shapes: list[Any] = [
        {},
        [],
        [[]],
        [{}],
        {"a": [1, {"b": None}], "c": {"d": [True, 2.5, "s"]}, "e": []},
        [[1, [2, [3]]], {"x": {"y": {}}}],
    ]
    for value in shapes:
        frozen = freeze(value)
        assert thaw(frozen) == value and json.dumps(thaw(frozen)) == json.dumps(value)
        assert all(type(t) not in (dict, list, tuple) for t in frozen)  # flat
    assert thaw(freeze(["t", ("u",)])) == ["t", ["u"]]  # an in-process tuple reads back as a list
    assert thaw({"a": 1}) == {"a": 1} and thaw("x") == "x"  # anything else is left alone


@pytest.mark.skipif(platform.python_implementation() != "CPython", reason="CPython's GC rules")
def test_what_is_kept_per_intent_leaves_the_collectors_tracking_at_once() -> None:
    """A full collection visits every tracked container; the kept forms are untracked by the
    first collection that sees them (a young one), however deeply the JSON nests."""
    env = envelope(
        {
            "intent_id": "i",
            "objective": "y" * 4096,
            "scope": {"kind": "file_set", "resources": ["a"]},
        }
    )
    kept = pack(env)
    scope = frozen_scope({"kind": "file_set", "resources": ["a.py", "b.py"], "x": {"k": ["v"]}})
    assert frozen_scope(scope) is scope
    gc.collect(0)
    assert not gc.is_tracked(kept) and not gc.is_tracked(scope)
    assert thaw(scope) == {"kind": "file_set", "resources": ["a.py", "b.py"], "x": {"k": ["v"]}}


def test_a_plain_file_list_is_kept_as_its_paths() -> None:
    plain = {"kind": "file_set", "resources": ["a.py", "b/c.py"]}
    kept = frozen_scope(plain)
    assert len(kept) == 3 and thaw(kept) == plain and thaw(kept) is not thaw(kept)
    for other in (
        {"resources": ["a.py"], "kind": "file_set"},  # another key order
        {"kind": "file_set", "resources": ["a.py", 1]},
        {"kind": "file_set", "resources": ["a.py"], "extensions": {}},
        {"kind": "entity_set", "resources": ["a.py"]},
    ):
        assert json.dumps(thaw(frozen_scope(other))) == json.dumps(other)


def test_a_repeated_number_is_one_object_and_keeps_its_type() -> None:
    from bridge.core.compact import shared_number

    a, b = int("36001"), int("36001")
    assert a is not b and shared_number(a) is shared_number(b)
    as_float = shared_number(float("36001"))
    assert type(as_float) is float and as_float == 36001.0
    assert shared_number(True) is True and shared_number("60") == "60"

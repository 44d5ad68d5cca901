"""Envelopes kept for replay as their JSON bytes (issue 17): lossless, or kept as they are."""

from __future__ import annotations

import json
import math
from typing import Any

from bridge.core.compact import PACK_LIMIT, pack, unpack


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
    env = envelope({"intent_id": "i", "objective": "é \u2028 ☃", "ttl_sec": 0.1 + 0.2, "n": 2**70})
    kept = pack(env)
    assert type(kept) is bytes
    back = unpack(kept)
    assert back == env
    assert json.dumps(back) == json.dumps(env)  # same keys in the same order, same numbers
    assert unpack(kept) is not back  # a new copy each time: a relay may not share the kept one


def test_values_json_cannot_carry_keep_a_decoded_copy() -> None:
    for odd in (math.nan, math.inf, "\udc80"):
        env = envelope({"intent_id": "i", "objective": odd})
        kept = pack(env)
        assert type(kept) is dict
        assert unpack(kept) is kept
        assert json.dumps(kept) == json.dumps(env)
    assert unpack(None) is None


def test_a_large_envelope_keeps_a_decoded_copy_that_can_share_its_strings() -> None:
    objective = "x" * PACK_LIMIT
    env = envelope({"intent_id": "i", "objective": objective})
    kept = pack(env)
    assert type(kept) is dict and kept == env
    assert kept["payload"]["objective"] is objective

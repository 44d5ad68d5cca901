"""bridge.jsonlite answers as json.loads / json.dumps do (issue 17: the hooks use it to avoid
importing json and re)."""

from __future__ import annotations

import json
import math

import pytest

from bridge import jsonlite

VALUES = [
    {},
    [],
    "",
    'é ☃ \U0001f600 \x00 "quoted" \\ /',
    0,
    -1,
    10**30,
    1.5,
    -0.0,
    1e300,
    True,
    False,
    None,
    {"a": [1, 2.25, {"b": None}], "é": "x", "n": -3},
    [[[]], {}, ""],
    {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny"}},
]


def test_dumps_and_loads_match_json() -> None:
    for value in VALUES:
        text = json.dumps(value)
        assert jsonlite.dumps(value) == text
        assert jsonlite.loads(text) == json.loads(text)
        assert jsonlite.loads(f" \n\t{text}\r\n ") == value
    for odd in ("NaN", "Infinity", "-Infinity", '{"a": NaN}'):
        assert json.dumps(jsonlite.loads(odd)) == json.dumps(json.loads(odd))
    assert math.isnan(jsonlite.loads("NaN"))
    assert jsonlite.dumps([float("inf"), float("nan")]) == "[Infinity, NaN]"
    assert jsonlite.dumps((1, "a")) == json.dumps((1, "a"))
    assert jsonlite.dumps({1: "a", 2.5: "b", None: 1, False: 2}) == json.dumps(
        {1: "a", 2.5: "b", None: 1, False: 2}
    )


def test_what_json_refuses_raises_the_same_error() -> None:
    for bad in ("", "{", '{"a": 1} x', "[1,]", "\ufeff{}", '"\x01"', "{'a': 1}", "nul"):
        with pytest.raises(json.JSONDecodeError) as ours:
            jsonlite.loads(bad)
        with pytest.raises(json.JSONDecodeError) as theirs:
            json.loads(bad)
        assert str(ours.value) == str(theirs.value), bad
    loop: list[object] = []
    loop.append(loop)
    for value in (object(), {1j: 1}, loop, {(1, 2): "x"}):
        with pytest.raises((TypeError, ValueError)) as ours_e:
            jsonlite.dumps(value)
        with pytest.raises((TypeError, ValueError)) as theirs_e:
            json.dumps(value)
        assert str(ours_e.value) == str(theirs_e.value)

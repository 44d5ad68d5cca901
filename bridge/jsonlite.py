"""`loads` and `dumps` for short-lived commands, without importing the `json` package (issue 17).

`import json` compiles regular expressions in `json.decoder` and `json.scanner`, so it imports
`re`, which imports `enum`, `functools` and `collections`: about 10 ms of CPU, a quarter of a
Claude Code hook's start once the rest is lean. The work itself is done by `_json`, the C
accelerator `json` uses; these two functions call it with the settings of `json.loads(text)` and
`json.dumps(obj)` (strict strings, NaN and Infinity read and written, ASCII output, `", "` and
`": "` separators) and return the same results. Whatever they cannot take (invalid JSON, a value
JSON cannot represent, a circular structure, an interpreter without `_json`) is handed to `json`
itself, which answers, or raises its usual error.
"""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it; other interpreters use json
    _json = None  # type: ignore[assignment]

_WHITESPACE = " \t\n\r"  # what json.loads skips around the value
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Settings:
    """What `_json.make_scanner` reads from a `json.JSONDecoder` (its defaults)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    array_hook = None  # read from Python 3.15 on
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_CONSTANTS.__getitem__)


_scanner: Any = None


def loads(text: str) -> Any:
    """`json.loads(text)` for a str."""
    global _scanner
    if _json is not None and isinstance(text, str):
        try:
            if _scanner is None:
                _scanner = _json.make_scanner(_Settings)  # type: ignore[arg-type]
            start = len(text) - len(text.lstrip(_WHITESPACE))
            value, end = _scanner(text, start)
            if not text[end:].strip(_WHITESPACE):
                return value
        except (StopIteration, ValueError, TypeError, AttributeError):
            pass  # json says what is wrong
    import json

    return json.loads(text)


def _refuse(value: object) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def dumps(value: object) -> str:
    """`json.dumps(value)`."""
    if _json is not None:
        try:
            if isinstance(value, str):
                return _json.encode_basestring_ascii(value)
            encode = _json.make_encoder(
                {}, _refuse, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True
            )
            return "".join(encode(value, 0))
        except (TypeError, ValueError, RecursionError):
            pass  # json raises its own error (or copes)
    import json

    return json.dumps(value)

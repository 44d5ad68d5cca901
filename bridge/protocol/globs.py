"""`resource_path` globs: `*` and `?` inside one segment, `**` across any number of segments.

Three questions are decided exactly: does a glob match a path, can any path match two globs at
once (the intersection of the two languages is not empty), and, soundly, is every path of one glob
also matched by another (`glob_covers`, used for containment). A segment that is exactly `**`
matches zero or more whole segments; `**` inside a longer segment (`a**b`) acts like `*`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

WILD = frozenset("*?")


def is_glob(text: str) -> bool:
    return "*" in text or "?" in text


def literal_prefix(pattern: str) -> str:
    """The leading directories of `pattern` that contain no wildcard ("" when the first has one)."""
    out: list[str] = []
    for seg in pattern.split("/")[:-1]:
        if is_glob(seg):
            break
        out.append(seg)
    return "/".join(out)


def _languages_meet(
    a: Sequence[str], b: Sequence[str], star: str, meet: Callable[[str, str], bool]
) -> bool:
    """Can one word match both patterns `a` and `b`? `star` stands for any run of items and `meet`
    decides whether two other items can match the same item (memoised search over both positions)."""
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(a) and j == len(b):
            res = True
        elif i < len(a) and a[i] == star:
            res = go(i + 1, j) or (j < len(b) and go(i, j + 1))
        elif j < len(b) and b[j] == star:
            res = go(i, j + 1) or (i < len(a) and go(i + 1, j))
        elif i < len(a) and j < len(b) and meet(a[i], b[j]):
            res = go(i + 1, j + 1)
        else:
            res = False
        memo[key] = res
        return res

    return go(0, 0)


def _char_meet(x: str, y: str) -> bool:
    return x == y or x == "?" or y == "?"


@lru_cache(maxsize=65536)
def _seg_meet(a: str, b: str) -> bool:
    """Can one segment string match both segment patterns `a` and `b`?"""
    return _languages_meet(a, b, "*", _char_meet)


@lru_cache(maxsize=65536)
def globs_intersect(a: str, b: str) -> bool:
    """True when some path matches both patterns (a plain path is a pattern without wildcards)."""
    return _languages_meet(a.split("/"), b.split("/"), "**", _seg_meet)


@lru_cache(maxsize=65536)
def _seg_regex(seg: str) -> re.Pattern[str]:
    import re  # on first use: a hook checking plain file claims never needs it (start-up, issue 17)

    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in seg), re.DOTALL
    )


@lru_cache(maxsize=65536)
def glob_match(pattern: str, path: str) -> bool:
    """True when `path` matches `pattern`; every character of `path` is literal (even `*`)."""
    if not is_glob(pattern):
        return pattern == path
    sp, sx = pattern.split("/"), path.split("/")
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key not in memo:
            if i == len(sp):
                res = j == len(sx)
            elif sp[i] == "**":
                res = go(i + 1, j) or (j < len(sx) and go(i, j + 1))
            else:
                res = (
                    j < len(sx)
                    and _seg_regex(sp[i]).fullmatch(sx[j]) is not None
                    and go(i + 1, j + 1)
                )
            memo[key] = res
        return memo[key]

    return go(0, 0)


def glob_matches(pattern: str, path: str) -> bool:
    """Older name of `glob_match`."""
    return glob_match(pattern, path)


@lru_cache(maxsize=65536)
def _seg_covers(outer: str, inner: str) -> bool:
    """Does segment pattern `outer` match every string that segment pattern `inner` matches?
    Syntactic check (sound): `inner`'s wildcards may only be absorbed by wildcards of `outer`."""
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key not in memo:
            if i == len(outer):
                res = j == len(inner)
            elif outer[i] == "*":
                res = go(i + 1, j) or (j < len(inner) and go(i, j + 1))
            elif j == len(inner) or inner[j] == "*":
                res = False
            elif outer[i] == "?":
                res = go(i + 1, j + 1)
            else:
                res = outer[i] == inner[j] and go(i + 1, j + 1)
            memo[key] = res
        return memo[key]

    return go(0, 0)


@lru_cache(maxsize=65536)
def glob_covers(outer: str, inner: str) -> bool:
    """True only if every path matching `inner` also matches `outer` (sound, not complete:
    a False answer may be conservative for unusual pattern pairs)."""
    so, si = outer.split("/"), inner.split("/")
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key not in memo:
            if i == len(so):
                res = j == len(si)
            elif so[i] == "**":
                res = go(i + 1, j) or (j < len(si) and go(i, j + 1))
            elif j == len(si) or si[j] == "**":
                res = False
            else:
                res = _seg_covers(so[i], si[j]) and go(i + 1, j + 1)
            memo[key] = res
        return memo[key]

    return go(0, 0)

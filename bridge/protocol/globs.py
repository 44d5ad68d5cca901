"""`resource_path` globs: `*` and `?` inside one segment, `**` across any number of segments.

Both questions the coordinator asks are decided exactly: does a glob match a path, and can any
path match two globs at once (the intersection of the two languages is not empty).
"""

from __future__ import annotations

from functools import lru_cache

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


@lru_cache(maxsize=65536)
def _seg_meet(a: str, b: str) -> bool:
    """Can one segment string match both segment patterns `a` and `b`?"""
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(a) and j == len(b):
            res = True
        elif i < len(a) and a[i] == "*":
            res = go(i + 1, j) or (j < len(b) and go(i, j + 1))
        elif j < len(b) and b[j] == "*":
            res = go(i, j + 1) or (i < len(a) and go(i + 1, j))
        elif i < len(a) and j < len(b) and (a[i] == b[j] or a[i] == "?" or b[j] == "?"):
            res = go(i + 1, j + 1)
        else:
            res = False
        memo[key] = res
        return res

    return go(0, 0)


@lru_cache(maxsize=65536)
def globs_intersect(a: str, b: str) -> bool:
    """True when some path matches both patterns (a plain path is a pattern without wildcards)."""
    sa, sb = tuple(a.split("/")), tuple(b.split("/"))
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(sa) and j == len(sb):
            res = True
        elif i < len(sa) and sa[i] == "**":
            res = go(i + 1, j) or (j < len(sb) and go(i, j + 1))
        elif j < len(sb) and sb[j] == "**":
            res = go(i, j + 1) or (i < len(sa) and go(i + 1, j))
        elif i < len(sa) and j < len(sb) and _seg_meet(sa[i], sb[j]):
            res = go(i + 1, j + 1)
        else:
            res = False
        memo[key] = res
        return res

    return go(0, 0)


def glob_matches(pattern: str, path: str) -> bool:
    """True when `path` (no wildcards) matches `pattern`."""
    return globs_intersect(pattern, path)

"""Globs for `resource_path` scopes (digest 4.3): match, intersection, coverage, literal prefix."""

from __future__ import annotations

import itertools
from fnmatch import fnmatchcase

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.protocol.globs import glob_covers, glob_match, globs_intersect, is_glob, literal_prefix


def reference_match(pattern: str, path: str) -> bool:
    """Brute force: `**` tries every split, other segments use fnmatch (no `/` inside a segment)."""

    def go(ps: list[str], xs: list[str]) -> bool:
        if not ps:
            return not xs
        if ps[0] == "**":
            return any(go(ps[1:], xs[k:]) for k in range(len(xs) + 1))
        return bool(xs) and fnmatchcase(xs[0], ps[0]) and go(ps[1:], xs[1:])

    return go(pattern.split("/"), path.split("/"))


def test_star_stays_inside_one_segment() -> None:
    assert glob_match("src/*.py", "src/a.py")
    assert glob_match("src/*.py", "src/.py")
    assert not glob_match("src/*.py", "src/sub/a.py")
    assert not glob_match("src/*.py", "src/a.pyc")
    assert glob_match("*", "README")
    assert not glob_match("*", "a/b")


def test_double_star_spans_any_number_of_segments_including_zero() -> None:
    assert glob_match("src/**/*.py", "src/a.py")
    assert glob_match("src/**/*.py", "src/x/y/a.py")
    assert glob_match("src/**", "src")
    assert glob_match("src/**", "src/a/b/c")
    assert glob_match("**", "anything/at/all")
    assert glob_match("**/test_*.py", "test_a.py")
    assert not glob_match("src/**", "lib/a.py")
    assert not glob_match("src/**/b", "src/a/c")


def test_question_mark_is_one_character() -> None:
    assert glob_match("a?.py", "ab.py")
    assert not glob_match("a?.py", "a.py")
    assert not glob_match("a?.py", "a/.py")


def test_path_characters_are_literal() -> None:
    assert glob_match("a.py", "a.py")
    assert not glob_match("a.py", "aXpy")  # '.' is not a regex wildcard
    assert not glob_match("a.py", "a*")
    assert glob_match("a*", "a*")
    assert not glob_match("ab", "a*")  # a '*' in the path is just a character


def test_glob_versus_glob() -> None:
    assert globs_intersect("src/*.py", "src/a*")
    assert globs_intersect("src/**", "**/test_*.py")
    assert globs_intersect("**/b/**", "a/**")
    assert globs_intersect("a/*/c", "a/b/*")
    assert not globs_intersect("src/*.py", "lib/*.py")
    assert not globs_intersect("*.py", "*.js")
    assert not globs_intersect("a/*", "a/*/*")  # different depths, no `**`
    assert not globs_intersect("x*y", "z*")


def test_glob_versus_path() -> None:
    assert globs_intersect("src/*.py", "src/a.py")
    assert not globs_intersect("src/*.py", "src/a.js")


def test_literal_prefix_and_is_glob() -> None:
    assert literal_prefix("src/db/*.py") == "src/db"
    assert literal_prefix("src/**/x") == "src"
    assert literal_prefix("*.py") == ""
    assert literal_prefix("a/b?/c") == "a"
    assert literal_prefix("a/b/c.py") == "a/b"  # a literal: its directory
    assert is_glob("a*") and is_glob("a?") and is_glob("**")
    assert not is_glob("src/a.py")


def test_glob_covers() -> None:
    assert glob_covers("src/**", "src/*.py")
    assert glob_covers("src/**", "src/**/x")
    assert glob_covers("**", "a/*/b")
    assert glob_covers("src/*", "src/a*")
    assert glob_covers("*.py", "test_*.py")
    assert not glob_covers("src/*", "src/**")
    assert not glob_covers("src/*.py", "src/*")
    assert not glob_covers("src/a*", "src/*")  # they intersect, but "src/b" is outside
    assert not glob_covers("a?", "a*")


segment = st.text(alphabet="ab", min_size=1, max_size=3)
real_paths = st.lists(segment, min_size=1, max_size=4).map("/".join)
pattern_segment = st.one_of(st.text(alphabet="ab*?", min_size=1, max_size=3), st.just("**"))
patterns = st.lists(pattern_segment, min_size=1, max_size=3).map("/".join)


@settings(max_examples=500)
@given(patterns, real_paths)
def test_glob_match_agrees_with_brute_force(pattern: str, path: str) -> None:
    assert glob_match(pattern, path) == reference_match(pattern, path)


def small_paths(max_segments: int = 3) -> list[str]:
    segs = ["".join(t) for n in (1, 2, 3) for t in itertools.product("ab", repeat=n)]
    return [
        "/".join(p) for k in range(1, max_segments + 1) for p in itertools.product(segs, repeat=k)
    ]


SMALL_PATHS = small_paths()


@settings(max_examples=300)
@given(patterns, patterns)
def test_globs_intersect_whenever_a_path_matches_both(a: str, b: str) -> None:
    witness = next((p for p in SMALL_PATHS if glob_match(a, p) and glob_match(b, p)), None)
    if witness is not None:
        assert globs_intersect(a, b), witness
    assert globs_intersect(a, b) == globs_intersect(b, a)


simple_segment = st.one_of(st.text(alphabet="ab*", min_size=1, max_size=2), st.just("**"))
simple_patterns = st.lists(simple_segment, min_size=1, max_size=2).map("/".join)


@settings(max_examples=300)
@given(simple_patterns, simple_patterns)
def test_globs_intersect_is_exact_on_small_patterns(a: str, b: str) -> None:
    """Patterns this small always have a witness among 1-3 segments of 1-3 letters from {a, b}."""
    witness = any(glob_match(a, p) and glob_match(b, p) for p in SMALL_PATHS)
    assert globs_intersect(a, b) == witness


@settings(max_examples=300)
@given(patterns, patterns)
def test_glob_covers_is_sound(outer: str, inner: str) -> None:
    if glob_covers(outer, inner):
        assert all(glob_match(outer, p) for p in SMALL_PATHS if glob_match(inner, p))

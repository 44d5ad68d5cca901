"""Scope normalization and overlap (spec §15.2; digest 4; checklist 11.8 items 113-116)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.index import ScopeIndex
from bridge.protocol.globs import glob_matches, globs_intersect
from bridge.protocol.registry import ResourceRegistry
from bridge.protocol.scope import (
    contains,
    dependency_overlap,
    normalize_path,
    normalize_scope,
    overlap,
)


def fs(*paths: str):
    return normalize_scope({"kind": "file_set", "resources": list(paths)})


def rp(pattern: str):
    return normalize_scope({"kind": "resource_path", "pattern": pattern})


def test_normalization_11_8_113() -> None:
    assert normalize_path("./src//a.py") == "src/a.py"
    assert normalize_path("src/a.py/") == "src/a.py"
    assert normalize_path("././src/./a.py") == "src/a.py"
    assert normalize_path("/abs//p/") == "/abs/p"
    assert normalize_path("Src/A.py") != normalize_path("src/a.py")  # case-sensitive


def test_file_set_overlap_is_race_locked_after_normalization() -> None:
    ov = overlap(fs("./a.py"), fs("a.py", "b.py"))
    assert ov is not None and ov.race_locked and ov.shared == ("a.py",)
    assert overlap(fs("a.py"), fs("b.py")) is None


def test_entity_and_task_overlap_11_8_114() -> None:
    e1 = normalize_scope({"kind": "entity_set", "entities": ["db.users", "api.auth"]})
    e2 = normalize_scope({"kind": "entity_set", "entities": ["api.auth"]})
    e3 = normalize_scope({"kind": "entity_set", "entities": ["API.auth"]})
    assert overlap(e1, e2).basis == "entity_set"  # type: ignore[union-attr]
    assert overlap(e1, e3) is None
    t1 = normalize_scope({"kind": "task_set", "task_ids": ["T-1"]})
    t2 = normalize_scope({"kind": "task_set", "task_ids": ["T-1", "T-2"]})
    assert overlap(t1, t2).basis == "task_set"  # type: ignore[union-attr]
    assert not overlap(t1, t2).race_locked  # type: ignore[union-attr]


def test_globs() -> None:
    assert glob_matches("src/*.py", "src/a.py")
    assert not glob_matches("src/*.py", "src/sub/a.py")
    assert glob_matches("src/**/*.py", "src/a.py")
    assert glob_matches("src/**/*.py", "src/x/y/a.py")
    assert glob_matches("**", "anything/at/all")
    assert globs_intersect("src/*.py", "src/a*")
    assert globs_intersect("src/**", "**/test_*.py")
    assert not globs_intersect("src/*.py", "lib/*.py")
    assert not globs_intersect("*.py", "*.js")
    ov = overlap(rp("src/*.py"), fs("src/a.py"))
    assert ov is not None and ov.basis == "resource_path" and not ov.race_locked


def test_canonical_uris_and_registry_11_8_115() -> None:
    a = normalize_scope(
        {
            "kind": "file_set",
            "resources": ["src/auth.ts"],
            "canonical_uris": ["resource://p/src/auth.ts"],
        }
    )
    b = normalize_scope(
        {
            "kind": "entity_set",
            "entities": ["api.auth"],
            "canonical_uris": ["resource://p/src/auth.ts"],
        }
    )
    assert overlap(a, b).basis == "canonical_uri"  # type: ignore[union-attr]
    reg = ResourceRegistry(
        [
            {
                "canonical_uri": "resource://p/auth",
                "aliases": [
                    {"kind": "file_set", "value": "src/auth.ts"},
                    {"kind": "entity_set", "value": "api.auth"},
                ],
            }
        ]
    )
    c = normalize_scope({"kind": "file_set", "resources": ["./src/auth.ts"]}, reg)
    d = normalize_scope({"kind": "entity_set", "entities": ["api.auth"]}, reg)
    assert overlap(c, d).basis == "canonical_uri"  # type: ignore[union-attr]


def test_opaque_kinds_are_conservative_11_8_116() -> None:
    q = normalize_scope({"kind": "query", "expression": "SELECT 1", "language": "sql"})
    assert overlap(q, fs("a.py")) is not None


def test_containment() -> None:
    assert contains(fs("a.py", "b.py"), fs("a.py"))
    assert not contains(fs("a.py"), fs("a.py", "b.py"))
    assert contains(rp("src/**"), fs("src/x/a.py"))
    assert not contains(rp("src/*.py"), fs("lib/a.py"))


def test_dependency_candidates() -> None:
    editing = normalize_scope(
        {
            "kind": "file_set",
            "resources": ["lib/util.py"],
            "extensions": {"affects_symbols": ["lib.util.parse"]},
        }
    )
    user = normalize_scope(
        {
            "kind": "file_set",
            "resources": ["app.py"],
            "extensions": {"impact": ["lib/util.py"], "depends_on_symbols": ["parse"]},
        }
    )
    other = normalize_scope(
        {
            "kind": "file_set",
            "resources": ["app.py"],
            "extensions": {"impact": ["lib/util.py"], "depends_on_symbols": ["dump"]},
        }
    )
    assert dependency_overlap(editing, user) is not None
    assert dependency_overlap(editing, other) is None


paths = st.lists(
    st.sampled_from(["a", "b", "src", "x.py", ".", "", "**", "*.py"]), min_size=1, max_size=4
).map("/".join)


@settings(max_examples=500)
@given(paths)
def test_normalization_is_idempotent(p: str) -> None:
    assert normalize_path(normalize_path(p)) == normalize_path(p)


scopes = st.one_of(
    st.lists(paths, min_size=1, max_size=3).map(lambda r: {"kind": "file_set", "resources": r}),
    paths.map(lambda p: {"kind": "resource_path", "pattern": p}),
    st.lists(st.sampled_from(["e1", "e2", "e3"]), min_size=1, max_size=2).map(
        lambda e: {"kind": "entity_set", "entities": e}
    ),
    st.lists(st.sampled_from(["t1", "t2"]), min_size=1, max_size=2).map(
        lambda t: {"kind": "task_set", "task_ids": t}
    ),
)


@settings(max_examples=500)
@given(scopes, scopes)
def test_overlap_is_symmetric(a: dict, b: dict) -> None:
    na, nb = normalize_scope(a), normalize_scope(b)
    ab, ba = overlap(na, nb), overlap(nb, na)
    assert (ab is None) == (ba is None)
    if ab is not None and ba is not None:
        assert ab.basis == ba.basis and ab.race_locked == ba.race_locked


@settings(max_examples=300)
@given(st.lists(scopes, min_size=1, max_size=12), scopes)
def test_index_finds_exactly_what_a_scan_finds(stored: list[dict], query: dict) -> None:
    index = ScopeIndex()
    norms = {f"i{n}": normalize_scope(s) for n, s in enumerate(stored)}
    for iid, ns in norms.items():
        index.add(iid, ns)
    q = normalize_scope(query)
    scan = {iid for iid, ns in norms.items() if overlap(q, ns) is not None}
    assert {iid for iid, _ in index.overlapping(q)} == scan
    for iid in list(norms)[::2]:
        index.remove(iid)
    remaining = {iid for iid in list(norms)[1::2] if overlap(q, norms[iid]) is not None}
    assert {iid for iid, _ in index.overlapping(q)} == remaining

"""ScopeIndex answers exactly what a pairwise scan with `overlap` / `dependency_overlap` answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.core.index import ScopeIndex
from bridge.protocol.scope import NormScope, dependency_overlap, normalize_scope, overlap

names = st.sampled_from(["a", "b", "src", "src/a.py", "src/b", "x.py", "e1", "T-1"])
paths = st.lists(
    st.sampled_from(["a", "b", "src", "x.py", "a.py", "*", "*.py", "**", "b*", ".", ""]),
    min_size=1,
    max_size=3,
).map("/".join)
uris = st.lists(st.sampled_from(["u:1", "u:2", "U:1"]), max_size=2)
impact = st.lists(st.sampled_from(["a", "src/a.py", "x.py", "b/x.py"]), max_size=2)


def with_extras(scope: dict, uri: list[str], imp: list[str]) -> dict:
    if uri:
        scope["canonical_uris"] = uri
    if imp:
        scope["extensions"] = {"impact": imp}
    return scope


symbols = st.lists(
    st.sampled_from(["src/a.py::f", "src/a.py::g", "a.py::A", "a.py::A.m", "x.py::*", "src/b::h"]),
    min_size=1,
    max_size=3,
)  # symbol ids (issue 19): indexed by their files too

base = st.one_of(
    symbols.map(lambda e: {"kind": "entity_set", "entities": e}),
    st.lists(st.one_of(paths, names), min_size=1, max_size=3).map(
        lambda r: {"kind": "file_set", "resources": r}
    ),
    st.one_of(paths, names).map(lambda p: {"kind": "resource_path", "pattern": p}),
    st.lists(names, min_size=1, max_size=2).map(lambda e: {"kind": "entity_set", "entities": e}),
    st.lists(names, min_size=1, max_size=2).map(lambda t: {"kind": "task_set", "task_ids": t}),
    st.just({"kind": "query", "expression": "q", "language": "sql"}),
)
scopes = st.builds(with_extras, base, uris, impact)


def scan(stored: dict[str, NormScope], q: NormScope) -> dict[str, object]:
    return {iid: ov for iid, ns in stored.items() if (ov := overlap(q, ns)) is not None}


@settings(max_examples=600, deadline=None)
@given(st.lists(scopes, min_size=1, max_size=12), scopes, st.data())
def test_overlapping_equals_brute_force(
    stored: list[dict], query: dict, data: st.DataObject
) -> None:
    index = ScopeIndex()
    norms = {f"i{n}": normalize_scope(s) for n, s in enumerate(stored)}
    for iid, ns in norms.items():
        index.add(iid, ns)
    q = normalize_scope(query)
    assert dict(index.overlapping(q)) == scan(norms, q)
    # the glob-under table is built lazily on the first glob query: add after it, then remove some
    later = data.draw(scopes)
    norms["z"] = normalize_scope(later)
    index.add("z", norms["z"])
    for iid in list(norms)[::2]:
        index.remove(iid)
        del norms[iid]
    index.remove("never-added")
    assert len(index) == len(norms) and all(iid in index for iid in norms)
    assert dict(index.overlapping(q)) == scan(norms, q)
    if norms:
        some = sorted(norms)[0]
        assert some not in dict(index.overlapping(q, exclude=some))


@settings(max_examples=300, deadline=None)
@given(st.lists(scopes, min_size=1, max_size=10), scopes)
def test_impacted_equals_brute_force(stored: list[dict], query: dict) -> None:
    index = ScopeIndex()
    norms = {f"i{n}": normalize_scope(s) for n, s in enumerate(stored)}
    for iid, ns in norms.items():
        index.add(iid, ns)
    q = normalize_scope(query)
    expected = {
        iid: dep
        for iid, ns in norms.items()
        if overlap(q, ns) is None and (dep := dependency_overlap(q, ns)) is not None
    }
    assert dict(index.impacted(q)) == expected


def test_re_adding_a_key_replaces_its_scope() -> None:
    index = ScopeIndex()
    index.add("i1", normalize_scope({"kind": "file_set", "resources": ["a.py"]}))
    index.add("i1", normalize_scope({"kind": "file_set", "resources": ["b.py"]}))
    assert len(index) == 1
    assert index.overlapping(normalize_scope({"kind": "file_set", "resources": ["a.py"]})) == []
    assert [
        k
        for k, _ in index.overlapping(normalize_scope({"kind": "file_set", "resources": ["b.py"]}))
    ] == ["i1"]


def test_cross_kind_and_nested_globs_are_found() -> None:
    index = ScopeIndex()
    index.add("ent", normalize_scope({"kind": "entity_set", "entities": ["src/db.py"]}))
    index.add("deep", normalize_scope({"kind": "resource_path", "pattern": "src/db/**/*.sql"}))
    index.add("top", normalize_scope({"kind": "resource_path", "pattern": "*.md"}))
    hits = dict(
        index.overlapping(normalize_scope({"kind": "file_set", "resources": ["src/db.py"]}))
    )
    assert set(hits) == {"ent"} and hits["ent"].basis == "cross_kind"
    hits = dict(index.overlapping(normalize_scope({"kind": "resource_path", "pattern": "src"})))
    assert set(hits) == {"ent", "deep"}
    hits = dict(
        index.overlapping(normalize_scope({"kind": "file_set", "resources": ["README.md"]}))
    )
    assert set(hits) == {"top"}


def test_candidates_do_not_scan_disjoint_entries() -> None:
    """Structural check (not timing): a file query looks only at its own buckets."""
    index = ScopeIndex()
    for n in range(2000):
        index.add(f"f{n}", normalize_scope({"kind": "file_set", "resources": [f"pkg{n}/mod.py"]}))
        index.add(
            f"g{n}", normalize_scope({"kind": "resource_path", "pattern": f"pkg{n}/sub/*.py"})
        )
        index.add(f"e{n}", normalize_scope({"kind": "entity_set", "entities": [f"table{n}"]}))
    assert index.candidates(
        normalize_scope({"kind": "file_set", "resources": ["pkg7/mod.py"]})
    ) == {"f7"}
    assert index.candidates(normalize_scope({"kind": "resource_path", "pattern": "pkg7/**"})) == {
        "f7",
        "g7",
    }
    assert index.candidates(normalize_scope({"kind": "entity_set", "entities": ["table7"]})) == {
        "e7"
    }

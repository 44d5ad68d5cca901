"""Symbol entity ids (`path::Qualified.name`), symbol scopes and the symbol overlap rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.protocol.registry import ResourceRegistry
from bridge.protocol.scope import NormScope, contains, normalize_scope, overlap
from bridge.protocol.symbols import (
    SymbolRef,
    SymbolVerdict,
    by_file,
    file_uri,
    names_overlap,
    parse_symbol_id,
    symbol_id,
    symbol_overlap,
    symbol_scope,
    whole_files,
)


def syms(*ids: str, namespace: str | None = "repo-1") -> NormScope:
    return normalize_scope(symbol_scope(ids, namespace))


def fs(*paths: str) -> NormScope:
    return normalize_scope({"kind": "file_set", "resources": list(paths)})


# --- ids ----------------------------------------------------------------------------------------


def test_parse_symbol_ids() -> None:
    assert parse_symbol_id("src/app.py::Router.add") == SymbolRef("src/app.py", "Router.add")
    assert parse_symbol_id("./src//app.py::main").id == "src/app.py::main"  # the path is normalized
    assert parse_symbol_id("src/lib.rs::Point::new") == SymbolRef(
        "src/lib.rs", "Point.new"
    )  # `::` in names is `.`
    assert parse_symbol_id("notes.txt::*") == SymbolRef("notes.txt", "*")  # the whole file
    for bad in (
        "a.py::A.*",
        "a.py::*.x",
        "a.py::**",
        "src/app.py",
        "::main",
        "src/app.py::",
        "src/*.py::main",
        "a.py::Router..add",
        "a.py::.add",
        "a.py::add.",
        "a.py::two words",
        "/::x",
        "./::x",
        3,
        None,
    ):
        assert parse_symbol_id(bad) is None, bad  # type: ignore[arg-type]


def test_symbol_id_and_file_uri() -> None:
    assert symbol_id("./pkg/a.py", "A.b") == "pkg/a.py::A.b"
    with pytest.raises(ValueError, match="not a valid symbol"):
        symbol_id("pkg/a.py", "")
    assert file_uri("repo-1", "./pkg//a.py") == "resource://repo-1/pkg/a.py"


def test_symbol_scope_wire_form() -> None:
    scope = symbol_scope(
        ["b.py::g", "a.py::Router.add", "./a.py::Router.add", "a.py::main"], "repo-1"
    )
    assert scope == {
        "kind": "entity_set",
        "entities": ["a.py::Router.add", "a.py::main", "b.py::g"],
        "canonical_uris": ["resource://repo-1/a.py", "resource://repo-1/b.py"],
    }
    assert "canonical_uris" not in symbol_scope(["a.py::f"])
    with pytest.raises(ValueError, match="not a symbol id"):
        symbol_scope(["a.py"])
    with pytest.raises(ValueError, match="at least one"):
        symbol_scope([])
    assert by_file(["a.py::f", "a.py::g", "b.py::h", "plain-entity"]) == {
        "a.py": {"f", "g"},
        "b.py": {"h"},
    }


def test_names_overlap_by_nesting() -> None:
    assert (
        names_overlap("Router", "Router")
        and names_overlap("Router", "Router.add")
        and names_overlap("Router.add", "Router")
    )
    assert not names_overlap("Router", "RouterX.add") and not names_overlap(
        "Router.add", "Router.remove"
    )
    assert names_overlap("*", "Router.add") and names_overlap("main", "*")


def test_a_whole_file_inside_a_symbol_scope() -> None:
    v = symbol_overlap(syms("a.py::*"), syms("a.py::Router.add"))
    assert v is not None and v.race_locked and v.shared == ("a.py::*", "a.py::Router.add")
    v = symbol_overlap(syms("a.py::*", "b.py::f"), fs("a.py"))
    assert v is not None and v.race_locked
    assert symbol_overlap(syms("a.py::*"), syms("b.py::*")) == SymbolVerdict(False)


# --- overlap rules --------------------------------------------------------------------------------


def test_same_symbol_is_race_locked() -> None:
    v = symbol_overlap(syms("a.py::Router.add"), syms("a.py::Router.add", "b.py::g"))
    assert v == SymbolVerdict(True, True, ("a.py::Router.add",))


def test_nested_symbols_overlap() -> None:
    v = symbol_overlap(syms("a.py::Router"), syms("a.py::Router.add"))
    assert (
        v is not None
        and v.overlap
        and v.race_locked
        and v.shared == ("a.py::Router", "a.py::Router.add")
    )


def test_different_symbols_of_one_file_do_not_overlap_but_share_the_file() -> None:
    v = symbol_overlap(syms("a.py::Router.add"), syms("a.py::Router.remove", "a.py::main"))
    assert v == SymbolVerdict(False, same_file=("a.py",))
    assert symbol_overlap(syms("a.py::f"), syms("b.py::f")) == SymbolVerdict(
        False
    )  # other file: nothing shared


def test_a_file_overlaps_every_symbol_in_it_both_ways() -> None:
    for a, b in (
        (syms("a.py::Router.add"), fs("a.py")),
        (fs("./a.py", "c.py"), syms("a.py::main")),
    ):
        v = symbol_overlap(a, b)
        assert v is not None and v.overlap and v.race_locked, (a, b)
        assert "a.py" in v.shared
    assert symbol_overlap(syms("a.py::f"), fs("b.py")) == SymbolVerdict(False)


def test_a_glob_over_a_symbols_file_is_advisory() -> None:
    v = symbol_overlap(
        syms("src/a.py::f"), normalize_scope({"kind": "resource_path", "pattern": "src/**"})
    )
    assert v == SymbolVerdict(True, False, ("src/a.py::f",))
    v = symbol_overlap(
        normalize_scope({"kind": "file_set", "resources": ["src/*.py"]}),
        syms("src/a.py::f", "src/b.py::g"),
    )
    assert v is not None and not v.race_locked and v.shared == ("src/a.py::f", "src/b.py::g")


def test_file_vs_file_and_other_kinds_are_left_to_the_existing_rules() -> None:
    assert (
        symbol_overlap(fs("a.py"), fs("a.py")) is None
    )  # no symbols: scope.overlap decides (race lock)
    assert overlap(fs("a.py"), fs("a.py")).race_locked
    plain = normalize_scope({"kind": "entity_set", "entities": ["api.auth.routes"]})
    assert symbol_overlap(syms("a.py::f"), plain) is None
    mixed = normalize_scope({"kind": "entity_set", "entities": ["a.py::f", "db.users"]})
    assert symbol_overlap(syms("a.py::f"), mixed) is None
    assert (
        symbol_overlap(syms("a.py::f"), normalize_scope({"kind": "task_set", "task_ids": ["T-1"]}))
        is None
    )
    assert (
        symbol_overlap(
            syms("a.py::f"),
            normalize_scope({"kind": "query", "expression": "x", "language": "sql"}),
        )
        is None
    )


def test_a_file_set_only_peer_sees_the_files_through_canonical_uris() -> None:
    """Rules that know nothing of symbols (a reference peer's) still relate a symbol scope to its
    file: through the file URIs the scope carries and the session registry. Coarser (two symbols of
    one file look like one resource), never missing an overlap. Our rules are finer."""
    registry = ResourceRegistry(
        [
            {
                "canonical_uri": "resource://repo-1/a.py",
                "aliases": [{"kind": "file_set", "value": "a.py"}],
            }
        ]
    )
    mine = normalize_scope(symbol_scope(["a.py::f"], "repo-1"), registry)
    file_peer = normalize_scope({"kind": "file_set", "resources": ["a.py"]}, registry)
    assert mine.uris & file_peer.uris == {"resource://repo-1/a.py"}  # the URI rule's view: one file
    other_symbol = normalize_scope(symbol_scope(["a.py::g"], "repo-1"), registry)
    assert mine.uris & other_symbol.uris  # coarse: same file
    assert (
        not mine.uris & normalize_scope({"kind": "file_set", "resources": ["b.py"]}, registry).uris
    )
    ov = overlap(mine, file_peer)  # ours: the file holds the symbol, race-locked both ways
    assert (
        ov == overlap(file_peer, mine)
        and ov.basis == "symbol"
        and ov.race_locked
        and ov.shared == ("a.py", "a.py::f")
    )
    assert overlap(mine, other_symbol) is None  # fine: different symbols
    assert symbol_overlap(mine, other_symbol) == SymbolVerdict(False, same_file=("a.py",))


# --- overlap() and contains() with symbol scopes: the registry rules in both directions ------------


def test_overlap_integrates_the_symbol_rules() -> None:
    cases = [
        (syms("a.py::f"), syms("a.py::f"), ("symbol", True)),  # symbol vs symbol: race lock
        (syms("a.py::A"), syms("a.py::A.m"), ("symbol", True)),  # nested
        (syms("a.py::f"), syms("a.py::g"), None),  # different symbols of one file
        (syms("a.py::f"), syms("b.py::f"), None),
        (syms("a.py::f"), fs("a.py"), ("symbol", True)),  # symbol vs file: race lock
        (syms("a.py::*"), syms("a.py::g"), ("symbol", True)),  # whole file inside a symbol scope
        (syms("a.py::f"), fs("b.py"), None),
        (fs("a.py"), fs("a.py"), ("file_set", True)),  # file vs file: unchanged
        (
            syms("src/a.py::f"),
            normalize_scope({"kind": "resource_path", "pattern": "src/**"}),
            ("symbol", False),
        ),
    ]
    for a, b, want in cases:
        for x, y in ((a, b), (b, a)):
            ov = overlap(x, y)
            got = None if ov is None else (ov.basis, ov.race_locked)
            assert got == want, (x, y)


def test_symbol_ids_are_normalized_and_indexed_by_their_file() -> None:
    s = normalize_scope({"kind": "entity_set", "entities": ["./src//lib.rs::Point::new", "plain"]})
    assert s.entities == {"src/lib.rs::Point.new", "plain"} and s.symbol_files == {"src/lib.rs"}
    assert "src/lib.rs" in s.idents and "src/lib.rs::Point.new" in s.idents
    assert fs("a.py").symbol_files == frozenset()


def test_contains_symbols_in_their_file_and_in_enclosing_symbols() -> None:
    assert contains(fs("a.py"), syms("a.py::f", "a.py::A.m"))
    assert contains(syms("a.py::*"), syms("a.py::f"))
    assert contains(syms("a.py::A"), syms("a.py::A.m"))
    assert contains(syms("a.py::*"), fs("a.py"))
    assert contains(normalize_scope({"kind": "file_set", "resources": ["*.py"]}), syms("a.py::f"))
    assert not contains(syms("a.py::A.m"), syms("a.py::A"))
    assert not contains(syms("a.py::f"), syms("a.py::g"))
    assert not contains(syms("a.py::f"), fs("a.py"))
    assert not contains(fs("b.py"), syms("a.py::f"))


def test_whole_files_reads_every_symbol_as_its_file() -> None:
    coarse = whole_files(syms("a.py::f", "b.py::A.m"))
    assert coarse.entities == {"a.py::*", "b.py::*"}
    assert overlap(
        coarse, whole_files(syms("a.py::g"))
    ).race_locked  # file granularity: one file, one holder
    assert whole_files(fs("a.py")) == fs("a.py")


NAMES = st.sampled_from(["f", "g", "A", "A.m", "A.n", "A.m.inner"])
FILES = st.sampled_from(["a.py", "b.py"])
IDS = st.lists(st.builds(lambda p, n: f"{p}::{n}", FILES, NAMES), min_size=1, max_size=4)


@given(IDS, IDS)
def test_symbol_rules_are_symmetric_and_match_the_definition(
    a_ids: list[str], b_ids: list[str]
) -> None:
    a, b = syms(*a_ids), syms(*b_ids)
    v1, v2 = symbol_overlap(a, b), symbol_overlap(b, a)
    assert v1 == v2 and v1 is not None
    pairs = [(parse_symbol_id(x), parse_symbol_id(y)) for x in a_ids for y in b_ids]
    expected = any(p.path == q.path and names_overlap(p.name, q.name) for p, q in pairs)
    assert v1.overlap == expected == v1.race_locked

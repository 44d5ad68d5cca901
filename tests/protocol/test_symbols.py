"""Symbol entity ids (`path::Qualified.name`), symbol scopes and the symbol overlap rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.protocol.registry import ResourceRegistry
from bridge.protocol.scope import NormScope, normalize_scope, overlap
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
)


def syms(*ids: str, namespace: str | None = "repo-1") -> NormScope:
    return normalize_scope(symbol_scope(ids, namespace))


def fs(*paths: str) -> NormScope:
    return normalize_scope({"kind": "file_set", "resources": list(paths)})


# --- ids ----------------------------------------------------------------------------------------


def test_parse_symbol_ids() -> None:
    assert parse_symbol_id("src/app.py::Router.add") == SymbolRef("src/app.py", "Router.add")
    assert parse_symbol_id("./src//app.py::main").id == "src/app.py::main"  # the path is normalized
    assert parse_symbol_id("src/lib.rs::Point::new") == SymbolRef("src/lib.rs", "Point.new")  # `::` in names is `.`
    assert parse_symbol_id("notes.txt::*") == SymbolRef("notes.txt", "*")  # the whole file
    for bad in ("a.py::A.*", "a.py::*.x", "a.py::**", "src/app.py", "::main", "src/app.py::", "src/*.py::main", "a.py::Router..add", "a.py::.add",
                "a.py::add.", "a.py::two words", "/::x", "./::x", 3, None):
        assert parse_symbol_id(bad) is None, bad  # type: ignore[arg-type]


def test_symbol_id_and_file_uri() -> None:
    assert symbol_id("./pkg/a.py", "A.b") == "pkg/a.py::A.b"
    with pytest.raises(ValueError, match="not a valid symbol"):
        symbol_id("pkg/a.py", "")
    assert file_uri("repo-1", "./pkg//a.py") == "resource://repo-1/pkg/a.py"


def test_symbol_scope_wire_form() -> None:
    scope = symbol_scope(["b.py::g", "a.py::Router.add", "./a.py::Router.add", "a.py::main"], "repo-1")
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
    assert by_file(["a.py::f", "a.py::g", "b.py::h", "plain-entity"]) == {"a.py": {"f", "g"}, "b.py": {"h"}}


def test_names_overlap_by_nesting() -> None:
    assert names_overlap("Router", "Router") and names_overlap("Router", "Router.add") and names_overlap("Router.add", "Router")
    assert not names_overlap("Router", "RouterX.add") and not names_overlap("Router.add", "Router.remove")
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
    assert v is not None and v.overlap and v.race_locked and v.shared == ("a.py::Router", "a.py::Router.add")


def test_different_symbols_of_one_file_do_not_overlap_but_share_the_file() -> None:
    v = symbol_overlap(syms("a.py::Router.add"), syms("a.py::Router.remove", "a.py::main"))
    assert v == SymbolVerdict(False, same_file=("a.py",))
    assert symbol_overlap(syms("a.py::f"), syms("b.py::f")) == SymbolVerdict(False)  # other file: nothing shared


def test_a_file_overlaps_every_symbol_in_it_both_ways() -> None:
    for a, b in ((syms("a.py::Router.add"), fs("a.py")), (fs("./a.py", "c.py"), syms("a.py::main"))):
        v = symbol_overlap(a, b)
        assert v is not None and v.overlap and v.race_locked, (a, b)
        assert "a.py" in v.shared
    assert symbol_overlap(syms("a.py::f"), fs("b.py")) == SymbolVerdict(False)


def test_a_glob_over_a_symbols_file_is_advisory() -> None:
    v = symbol_overlap(syms("src/a.py::f"), normalize_scope({"kind": "resource_path", "pattern": "src/**"}))
    assert v == SymbolVerdict(True, False, ("src/a.py::f",))
    v = symbol_overlap(normalize_scope({"kind": "file_set", "resources": ["src/*.py"]}), syms("src/a.py::f", "src/b.py::g"))
    assert v is not None and not v.race_locked and v.shared == ("src/a.py::f", "src/b.py::g")


def test_file_vs_file_and_other_kinds_are_left_to_the_existing_rules() -> None:
    assert symbol_overlap(fs("a.py"), fs("a.py")) is None  # no symbols: scope.overlap decides (race lock)
    assert overlap(fs("a.py"), fs("a.py")).race_locked
    plain = normalize_scope({"kind": "entity_set", "entities": ["api.auth.routes"]})
    assert symbol_overlap(syms("a.py::f"), plain) is None
    mixed = normalize_scope({"kind": "entity_set", "entities": ["a.py::f", "db.users"]})
    assert symbol_overlap(syms("a.py::f"), mixed) is None
    assert symbol_overlap(syms("a.py::f"), normalize_scope({"kind": "task_set", "task_ids": ["T-1"]})) is None
    assert symbol_overlap(syms("a.py::f"), normalize_scope({"kind": "query", "expression": "x", "language": "sql"})) is None


def test_a_file_set_only_peer_sees_the_files_through_canonical_uris() -> None:
    """Today's rules, which know nothing of symbols, still relate a symbol scope to its file:
    through the file URIs the scope carries and the session registry. Coarser (two symbols of one
    file look like one resource), never missing an overlap."""
    registry = ResourceRegistry([{"canonical_uri": "resource://repo-1/a.py", "aliases": [{"kind": "file_set", "value": "a.py"}]}])
    mine = normalize_scope(symbol_scope(["a.py::f"], "repo-1"), registry)
    file_peer = normalize_scope({"kind": "file_set", "resources": ["a.py"]}, registry)
    ov = overlap(mine, file_peer)
    assert ov is not None and ov.basis == "canonical_uri"
    other_symbol = normalize_scope(symbol_scope(["a.py::g"], "repo-1"), registry)
    assert overlap(mine, other_symbol) is not None  # coarse: same file
    assert symbol_overlap(mine, other_symbol) == SymbolVerdict(False, same_file=("a.py",))  # fine: different symbols
    assert overlap(mine, normalize_scope({"kind": "file_set", "resources": ["b.py"]}, registry)) is None


NAMES = st.sampled_from(["f", "g", "A", "A.m", "A.n", "A.m.inner"])
FILES = st.sampled_from(["a.py", "b.py"])
IDS = st.lists(st.builds(lambda p, n: f"{p}::{n}", FILES, NAMES), min_size=1, max_size=4)


@given(IDS, IDS)
def test_symbol_rules_are_symmetric_and_match_the_definition(a_ids: list[str], b_ids: list[str]) -> None:
    a, b = syms(*a_ids), syms(*b_ids)
    v1, v2 = symbol_overlap(a, b), symbol_overlap(b, a)
    assert v1 == v2 and v1 is not None
    pairs = [(parse_symbol_id(x), parse_symbol_id(y)) for x in a_ids for y in b_ids]
    expected = any(p.path == q.path and names_overlap(p.name, q.name) for p, q in pairs)
    assert v1.overlap == expected == v1.race_locked

"""One test per overlap rule (digest 4, checklist 11.8 items 108-114), normalization, canonical URIs,
the resource registry, containment and dependency candidates."""

from __future__ import annotations

from bridge.protocol.payloads import Scope
from bridge.protocol.registry import ResourceRegistry
from bridge.protocol.scope import (
    NormScope,
    contains,
    dependency_overlap,
    normalize_path,
    normalize_scope,
    overlap,
    pattern_of,
)


def fs(*paths: str, **extra: object) -> NormScope:
    return normalize_scope({"kind": "file_set", "resources": list(paths), **extra})


def rp(pattern: str) -> NormScope:
    return normalize_scope({"kind": "resource_path", "pattern": pattern})


def ents(*names: str, **extra: object) -> NormScope:
    return normalize_scope({"kind": "entity_set", "entities": list(names), **extra})


def tasks(*ids: str) -> NormScope:
    return normalize_scope({"kind": "task_set", "task_ids": list(ids)})


# --- normalization --------------------------------------------------------------------------


def test_normalize_path_cases() -> None:
    assert normalize_path("./a.py") == "a.py"
    assert normalize_path("a//b") == "a/b"
    assert normalize_path("dir/") == "dir"
    assert normalize_path("././a.py") == "a.py"  # repeated './' (our decision)
    assert normalize_path("a/./b") == "a/b"
    assert normalize_path("a/../b") == "a/../b"  # '..' is never resolved
    assert normalize_path("/") == "/"
    assert normalize_path("") == ""
    assert normalize_path("a.py") == "a.py"


def test_item_108_every_scope_has_a_kind_and_bad_input_is_opaque() -> None:
    for bad in (None, 3, "a.py", [], {}, {"kind": 7}, {"resources": ["a.py"]}):
        norm = normalize_scope(bad)
        assert norm.kind == "custom" and norm.opaque
    odd = normalize_scope({"kind": "file_set", "resources": ["a.py", 3, None, ""]})
    assert odd.paths == frozenset({"a.py"})
    assert normalize_scope({"kind": "entity_set", "entities": "db"}).entities == frozenset()


def test_normalize_scope_accepts_models_and_is_idempotent() -> None:
    model = Scope(kind="file_set", resources=["./src//a.py"])
    norm = normalize_scope(model)
    assert norm == fs("src/a.py")
    assert normalize_scope(norm) is norm


# --- MUST rules -----------------------------------------------------------------------------


def test_item_109_file_set_overlap_after_normalization_is_race_locked() -> None:
    ov = overlap(fs("./src//a.py"), fs("src/a.py/", "b.py"))
    assert (
        ov is not None and ov.basis == "file_set" and ov.race_locked and ov.shared == ("src/a.py",)
    )
    assert overlap(fs("a.py"), fs("b.py")) is None
    assert overlap(fs("Src/A.py"), fs("src/a.py")) is None  # case-sensitive


def test_item_110_entity_set_exact_case_sensitive() -> None:
    ov = overlap(ents("db.users", "api.auth"), ents("api.auth"))
    assert (
        ov is not None
        and ov.basis == "entity_set"
        and ov.shared == ("api.auth",)
        and not ov.race_locked
    )
    assert overlap(ents("api.auth"), ents("API.auth")) is None
    assert overlap(ents("api.auth"), ents("api.auth.routes")) is None


def test_item_111_task_set_exact_case_sensitive() -> None:
    ov = overlap(tasks("T-1"), tasks("T-1", "T-2"))
    assert ov is not None and ov.basis == "task_set" and not ov.race_locked
    assert overlap(tasks("T-1"), tasks("t-1")) is None


def test_item_112_kinds_differing_is_not_disjointness() -> None:
    """Cross-kind pairs overlap by shared identifiers, canonical URIs or the registry."""
    ov = overlap(ents("src/db.py"), fs("./src/db.py"))
    assert (
        ov is not None
        and ov.basis == "cross_kind"
        and ov.shared == ("src/db.py",)
        and not ov.race_locked
    )
    ov = overlap(tasks("src/db.py"), rp("src/*.py"))
    assert ov is not None and ov.basis == "cross_kind"
    ov = overlap(ents("auth"), tasks("auth"))
    assert ov is not None and ov.basis == "cross_kind"
    assert overlap(ents("db.users"), fs("src/db.py")) is None  # nothing names the same thing
    q = normalize_scope({"kind": "query", "expression": "SELECT 1", "language": "sql"})
    custom = normalize_scope({"kind": "custom", "extensions": {"x": 1}})
    future = normalize_scope({"kind": "graph_node", "id": "n1"})
    for opaque in (q, custom, future):
        assert opaque.opaque
        assert overlap(opaque, fs("a.py")).basis == "opaque"  # type: ignore[union-attr]
        assert overlap(ents("e"), opaque).basis == "opaque"  # type: ignore[union-attr]


def test_items_113_114_canonical_uris_decide_across_kinds_case_sensitive() -> None:
    uri = "resource://p/src/routes/auth.ts"
    a = fs("src/routes/auth.ts", canonical_uris=[uri])
    b = ents("api.auth.routes", canonical_uris=[uri])
    ov = overlap(a, b)
    assert (
        ov is not None
        and ov.basis == "canonical_uri"
        and ov.shared == (uri,)
        and not ov.race_locked
    )
    assert overlap(a, ents("api.auth.routes", canonical_uris=[uri.upper()])) is None
    assert (
        overlap(a, ents("x", canonical_uris=["resource://p/src/routes/auth.ts/"])) is None
    )  # opaque strings
    # both sides carry URIs and they differ: no overlap even for a matching glob
    assert (
        overlap(
            normalize_scope(
                {"kind": "resource_path", "pattern": "src/**", "canonical_uris": ["u:1"]}
            ),
            a,
        )
        is None
    )
    # only one side carries URIs: kind rules decide
    assert overlap(a, fs("src/routes/auth.ts")).basis == "file_set"  # type: ignore[union-attr]


def test_shared_file_is_always_file_basis_even_when_uris_differ() -> None:
    a = fs("a.py", canonical_uris=["u:1"])
    b = fs("./a.py", canonical_uris=["u:2"])
    ov = overlap(a, b)
    assert ov is not None and ov.basis == "file_set" and ov.race_locked


# --- SHOULD rules ---------------------------------------------------------------------------


def test_resource_path_globs_and_file_sets() -> None:
    ov = overlap(rp("src/*.py"), fs("src/a.py", "lib/b.py"))
    assert (
        ov is not None
        and ov.basis == "resource_path"
        and ov.shared == ("src/a.py",)
        and not ov.race_locked
    )
    assert overlap(rp("src/*.py"), fs("src/sub/a.py")) is None
    assert overlap(rp("src/**"), rp("**/test_*.py")).basis == "resource_path"  # type: ignore[union-attr]
    assert overlap(rp("src/*.py"), rp("lib/*.py")) is None
    wild = fs("src/*.py")  # a wildcard inside a file list is a pattern and never race-locks
    assert wild.globs == ("src/*.py",) and not wild.paths
    assert not overlap(wild, fs("src/a.py")).race_locked  # type: ignore[union-attr]


def test_literal_resource_path_names_its_subtree() -> None:
    assert pattern_of("src/auth/") == "src/auth/**" and pattern_of("./") == "**"
    assert rp("src/auth").globs == ("src/auth/**",)
    assert overlap(rp("src/auth"), fs("src/auth/login.py")) is not None
    assert overlap(rp("src/auth"), fs("src/auth")) is not None
    assert overlap(rp("src/auth"), fs("src/authz.py")) is None
    assert not overlap(rp("a.py"), fs("a.py")).race_locked  # type: ignore[union-attr]


def test_overlap_is_symmetric_in_basis_and_shared() -> None:
    pairs = [
        (rp("src/*"), fs("src/a", "src/b")),
        (ents("x", "src/a"), fs("src/a")),
        (tasks("T"), ents("T")),
    ]
    for a, b in pairs:
        assert overlap(a, b) == overlap(b, a)


# --- registry -------------------------------------------------------------------------------

REGISTRY = {
    "mappings": [
        {
            "canonical_uri": "resource://p/src/routes/auth.ts",
            "aliases": [
                {"kind": "file_set", "value": "./src/routes/auth.ts"},
                {"kind": "entity_set", "value": "api.auth.routes"},
                {"kind": "resource_path", "value": "src/routes/auth.*"},
            ],
        },
        {
            "canonical_uri": "resource://p/tasks/42",
            "aliases": [{"kind": "task_set", "value": "T-42"}],
        },
        {"canonical_uri": 5, "aliases": [{"kind": "file_set", "value": "x"}]},
        {"canonical_uri": "resource://bad", "aliases": [{"kind": 1, "value": "x"}, "junk"]},
        "junk",
    ]
}


def test_registry_aliases_resolve_to_canonical_uris() -> None:
    reg = ResourceRegistry(REGISTRY)
    auth = frozenset({"resource://p/src/routes/auth.ts"})
    assert reg.uris_for("file_set", "src/routes/auth.ts") == auth  # alias value normalized
    assert reg.uris_for("file_set", "src/routes//auth.js") == auth  # via the resource_path glob
    assert reg.uris_for("entity_set", "api.auth.routes") == auth
    assert reg.uris_for("resource_path", "src/routes/*") == auth  # glob meets the alias glob
    assert reg.uris_for("resource_path", "src/routes") == auth  # a subtree containing it
    assert reg.uris_for("task_set", "T-42") == frozenset({"resource://p/tasks/42"})
    assert reg.uris_for("entity_set", "API.auth.routes") == frozenset()
    assert reg.uris_for("file_set", "x") == frozenset()  # malformed mappings are skipped
    assert not ResourceRegistry({"mappings": "nope"}) and not ResourceRegistry(None)
    assert ResourceRegistry(REGISTRY["mappings"]).uris_for("task_set", "T-42")  # list form too


def test_registry_connects_kinds_without_explicit_uris() -> None:
    reg = ResourceRegistry(REGISTRY)
    f = normalize_scope({"kind": "file_set", "resources": ["src/routes/auth.ts"]}, reg)
    e = normalize_scope({"kind": "entity_set", "entities": ["api.auth.routes"]}, reg)
    ov = overlap(f, e)
    assert ov is not None and ov.basis == "canonical_uri"
    t = normalize_scope({"kind": "task_set", "task_ids": ["T-42"]}, reg)
    assert overlap(f, t) is None  # both resolved, different resources


# --- containment (A12 frozen scope, A29 claim narrowing) --------------------------------------


def test_containment() -> None:
    assert contains(fs("a.py", "b.py"), fs("./a.py"))
    assert not contains(fs("a.py"), fs("a.py", "b.py"))
    assert contains(rp("src/**"), fs("src/x/a.py"))
    assert contains(rp("src"), rp("src/*.py"))
    assert not contains(rp("src/*.py"), fs("lib/a.py"))
    assert not contains(rp("src/a*"), rp("src/*"))  # intersecting is not containing
    assert not contains(fs("src/a.py"), rp("src/*.py"))
    assert contains(ents("a", "b"), ents("a")) and not contains(ents("a"), ents("a", "b"))
    assert contains(tasks("T"), tasks("T")) and not contains(tasks("T"), ents("T"))
    assert not contains(fs("a.py"), fs())  # an empty scope is inside nothing
    uri = ["resource://p/x"]
    assert contains(ents("x", canonical_uris=uri), fs("x.py", canonical_uris=uri))
    opaque = normalize_scope({"kind": "query", "expression": "q", "language": "sql"})
    assert contains(opaque, fs("a.py")) and contains(fs("a.py"), opaque)  # conservative


# --- dependency_breakage candidates (digest 4.10) ---------------------------------------------


def test_dependency_candidates() -> None:
    editing = fs("lib/util.py", extensions={"affects_symbols": ["lib.util.parse"]})
    user = fs("app.py", extensions={"impact": ["./lib/util.py"], "depends_on_symbols": ["parse"]})
    other = fs("app.py", extensions={"impact": ["lib/util.py"], "depends_on_symbols": ["dump"]})
    no_symbols = fs("app.py", extensions={"impact": ["lib/util.py"]})
    dep = dependency_overlap(editing, user)
    assert (
        dep is not None
        and dep.basis == "dependency"
        and dep.shared == dep.files == ("lib/util.py",)
    )
    assert dep.symbols == ("parse",) and not dep.race_locked
    assert dependency_overlap(user, editing) == dep
    assert dependency_overlap(editing, other) is None  # symbols given on both sides and disjoint
    assert dependency_overlap(editing, no_symbols).symbols == ()  # type: ignore[union-attr]  # file-level fallback
    assert dependency_overlap(editing, fs("app.py")) is None
    bad = fs("app.py", extensions={"impact": "lib/util.py"})
    assert bad.impact == frozenset()

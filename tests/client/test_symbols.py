"""Symbol queries of the typed session (issue 19): the scope an announce sends, who holds a symbol
or its file, same-file notes, the symbols a file's intents claim. Pure: a real Coordinator, no
sockets."""

from __future__ import annotations

import pytest

from bridge.client import Session, SessionView, scope_paths
from bridge.client.scope import announce_scope, probe
from tests.client.test_session import ME, Story
from tests.core.helpers import fs


def sym(*ids: str) -> dict:
    return announce_scope([], list(ids), namespace="s1")


def story() -> Story:
    s = Story()
    s.join("agent:a")
    s.join("agent:b")
    s.send(
        "agent:a",
        "INTENT_ANNOUNCE",
        {"intent_id": "ia", "objective": "fix f", "scope": sym("app.py::f")},
    )
    s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {"intent_id": "ib", "objective": "Router", "scope": sym("app.py::Router", "util.py::g")},
    )
    s.send(
        "agent:b",
        "INTENT_ANNOUNCE",
        {"intent_id": "ic", "objective": "docs", "scope": fs("README.md")},
    )
    return s


def test_announce_scope_wire_form() -> None:
    scope = announce_scope(["util.py", "app.py"], ["app.py::Router::add", "helper"], namespace="s1")
    assert scope == {
        "kind": "entity_set",
        "entities": [
            "app.py::Router.add",
            "util.py::*",
        ],  # a file without a symbol is the whole file
        "canonical_uris": ["resource://s1/app.py", "resource://s1/util.py"],
        "extensions": {"affects_symbols": ["Router.add", "helper"]},
    }
    # file granularity, or no symbol ids: a file_set, as before symbols existed
    assert announce_scope(["util.py"], ["app.py::f"], granularity="file") == {
        "kind": "file_set",
        "resources": ["util.py", "app.py"],
        "extensions": {"affects_symbols": ["f"]},
    }
    assert announce_scope(["a.py"], ["f"]) == {
        "kind": "file_set",
        "resources": ["a.py"],
        "extensions": {"affects_symbols": ["f"]},
    }
    assert announce_scope(["a.py"]) == {"kind": "file_set", "resources": ["a.py"]}
    with pytest.raises(ValueError, match=r"path::Qualified\.name"):
        announce_scope([], ["a.py::two words"])


def test_holders_of_symbols_and_files() -> None:
    s = story().session("agent:c")
    # a file query finds every symbol intent in it (race-locked: a file claim would be refused)
    assert [(h.intent.intent_id, h.basis, h.race_locked) for h in s.holders(["app.py"])] == [
        ("ia", "symbol", True),
        ("ib", "symbol", True),
    ]
    # a symbol query finds the same symbol and enclosing ones, not other symbols of the file
    assert [h.intent.intent_id for h in s.holders([], symbols=["app.py::f"])] == ["ia"]
    assert [h.intent.intent_id for h in s.holders([], symbols=["app.py::Router.add"])] == ["ib"]
    assert s.holders([], symbols=["app.py::main"]) == []
    assert [h.intent.intent_id for h in s.holders(["README.md"], symbols=["app.py::main"])] == [
        "ic"
    ]
    # our own intents: mine() with symbols
    assert [i.intent_id for i in story().session("agent:a").mine(["app.py"])] == ["ia"]
    assert story().session("agent:a").mine([], ["app.py::g"]) == []


def test_same_file_notes() -> None:
    s = story().session("agent:c")
    notes = s.same_file([], ["app.py::main"])
    assert [(n.intent.intent_id, n.path, n.symbols) for n in notes] == [
        ("ia", "app.py", ("f",)),
        ("ib", "app.py", ("Router",)),
    ]
    assert [n.intent.intent_id for n in s.same_file([], ["app.py::f"])] == [
        "ib"
    ]  # ia holds f itself: a holder
    assert s.same_file(["app.py"], []) == []  # a file claim overlaps: that is a holder, not a note
    a = story().session("agent:a")
    assert [n.intent.intent_id for n in a.same_file([], ["app.py::main"])] == [
        "ib"
    ]  # our own intent is no note


def test_held_symbols_claimed_symbols_and_file_tree() -> None:
    s = story().session()
    held = s.held_symbols("app.py")
    assert {k: [i.intent_id for i in v] for k, v in held.items()} == {"Router": ["ib"], "f": ["ia"]}
    assert s.held_symbols("README.md") == {}
    assert s.claimed_symbols("app.py", "ib") == {"Router"} and s.claimed_symbols(
        "util.py", "ib"
    ) == {"g"}
    assert s.claimed_symbols("app.py", "ia", "ib") == {
        "f",
        "Router",
    }  # several intents of one agent together
    assert s.claimed_symbols("README.md", "ic") is None  # a whole file
    assert s.claimed_symbols("README.md", "ia", "ic") is None
    assert s.claimed_symbols("app.py", "nope") is None
    files = s.held_files([])
    assert sorted(files) == [
        "README.md",
        "app.py",
        "util.py",
    ]  # symbol intents hold their files in a tree
    assert [i.intent_id for i in files["app.py"]] == ["ia", "ib"]
    assert scope_paths(sym("a.py::f", "b.py::*")) == ["a.py", "b.py"]
    assert s.intent("ib").symbols == {"app.py": {"Router"}, "util.py": {"g"}}


def test_granularity_from_session_info() -> None:
    view = SessionView()
    assert (
        Session(view, ME).granularity == "file"
    )  # a coordinator that does not say: no symbol rules
    for said, seen in (("symbol", "symbol"), ("file", "file"), ("bogus", "file")):
        view.load_session_info(
            {
                "payload": {
                    "session_id": "s",
                    "extensions": {"mpac-bridge": {"symbol_granularity": said}},
                }
            }
        )
        assert Session(view, ME).granularity == seen


def test_probe_reads_files_as_whole_files_beside_symbols() -> None:
    p = probe(["b.py"], ["a.py::f"])
    assert p.entities == {"a.py::f", "b.py::*"} and p.symbol_files == {"a.py", "b.py"}
    assert probe(["b.py"]).paths == {"b.py"}

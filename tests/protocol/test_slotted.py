"""The records that replaced dataclasses on the hook's path behave as the dataclasses did."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.protocol.scope import DependencyOverlap, NormScope, Overlap, normalize_scope
from bridge.workspace.reading import Head
from bridge.workspace.repo import Repo
from bridge.workspace.runtime import RuntimeInfo
from bridge.workspace.state import FileState


def test_a_scope_compares_by_fields_is_unhashable_and_replaces_a_copy() -> None:
    a = normalize_scope({"kind": "file_set", "resources": ["./src/a.py"]})
    assert a == NormScope("file_set", frozenset({"src/a.py"}))
    assert a != NormScope("file_set", frozenset({"src/b.py"}))
    with pytest.raises(TypeError):
        hash(a)
    b = a.replace(tasks=frozenset({"t"}))
    assert (b.kind, b.paths, b.tasks, a.tasks) == ("file_set", a.paths, {"t"}, frozenset())
    assert repr(a).startswith("NormScope(kind='file_set', paths=frozenset({'src/a.py'}), globs=()")


def test_an_overlap_is_frozen_hashable_and_equal_only_to_its_own_class() -> None:
    o = Overlap("file_set", ("a.py",), race_locked=True)
    assert o == Overlap("file_set", ("a.py",), True) and hash(o) == hash(
        Overlap("file_set", ("a.py",), True)
    )
    with pytest.raises(AttributeError):
        o.basis = "opaque"  # type: ignore[misc]
    d = DependencyOverlap("dependency", ("a.py",), symbols=("f",))
    assert d != Overlap("dependency", ("a.py",)) and d.files == ("a.py",)
    assert (
        repr(d)
        == "DependencyOverlap(basis='dependency', shared=('a.py',), race_locked=False, symbols=('f',))"
    )


def test_workspace_records() -> None:
    r = Repo(Path("/r"), Path("/r/.git"), Path("/r/.git"))
    assert r == Repo(Path("/r"), Path("/r/.git"), Path("/r/.git")) and {r: 1}[r] == 1
    with pytest.raises(AttributeError):
        r.root = Path("/x")  # type: ignore[misc]
    assert Head("s", 1, b"x", True) == Head("s", 1, b"x", True)
    f = FileState("a.py", "s", 1, True, True, "x")
    assert f.truncated is False and f == FileState("a.py", "s", 1, True, True, "x", False)
    info = RuntimeInfo(1, 2, "ws://127.0.0.2:2", "s", 3, "v", "/w")
    assert info.host == "127.0.0.2" and info.data_dir == ""
    data = info.to_json()
    assert list(data) == [
        "pid",
        "port",
        "url",
        "session_id",
        "started_at",
        "version",
        "workspace",
        "host",
        "data_dir",
    ]
    assert RuntimeInfo.from_json(data) == info

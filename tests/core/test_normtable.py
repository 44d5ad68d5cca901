"""NormTable keeps a plain file list as a tuple of paths and gives back an equal NormScope."""

from __future__ import annotations

import gc
import platform

import pytest

from bridge.core.normtable import NormTable
from bridge.protocol.scope import normalize_scope


def test_every_scope_reads_back_equal() -> None:
    scopes = [
        {"kind": "file_set", "resources": ["a.py", "./b/c.py"]},
        {"kind": "file_set", "resources": []},
        {"kind": "file_set", "resources": ["src/**/*.py"]},  # a glob: kept as a NormScope
        {"kind": "entity_set", "entities": ["a.py::f"]},
        {"kind": "task_set", "task_ids": ["t1"]},
        {"kind": "query", "expression": "x"},
        {"kind": "file_set", "resources": ["a.py"], "extensions": {"impact": ["b.py"]}},
    ]
    table = NormTable()
    for n, scope in enumerate(scopes):
        table[f"i{n}"] = normalize_scope(scope)
    assert len(table) == len(scopes) and list(table) == [f"i{n}" for n in range(len(scopes))]
    for n, scope in enumerate(scopes):
        assert table[f"i{n}"] == normalize_scope(scope)
        assert table.get(f"i{n}") == normalize_scope(scope) and f"i{n}" in table
    assert table.get("nope") is None and "nope" not in table
    assert table.pop("i0") == normalize_scope(scopes[0]) and table.pop("i0") is None
    with pytest.raises(KeyError):
        table["i0"]


@pytest.mark.skipif(platform.python_implementation() != "CPython", reason="CPython's GC rules")
def test_a_plain_file_list_leaves_the_collectors_tracking() -> None:
    table = NormTable()
    table["i"] = normalize_scope({"kind": "file_set", "resources": ["a.py", "b.py"]})
    gc.collect()
    stored = table._rows["i"]
    assert type(stored) is tuple and not gc.is_tracked(stored)
    table["j"] = normalize_scope({"kind": "file_set", "resources": ["./c.py"]})
    one = {"kind": "file_set", "resources": ["c.py"]}
    assert table._rows["j"] == "c.py" and table["j"] == normalize_scope(one)  # the path alone

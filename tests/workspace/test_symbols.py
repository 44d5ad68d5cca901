"""Symbols from Python source (the standard `ast`), the whole-file fallbacks and the cache."""

from __future__ import annotations

import sys
import textwrap

import pytest

from bridge.workspace.state import state_ref_of_bytes
from bridge.workspace.symbols import (
    MAX_BYTES,
    FileSymbols,
    SymbolCache,
    count_lines,
    extract_symbols,
    language_for,
    name_covers,
)

PY = textwrap.dedent(
    '''\
    """Module doc."""
    import os
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from collections.abc import Iterator

    LIMIT = 10
    a, b = 1, 2
    NAME: str = "x"


    # The router.
    # Second comment line.
    @dataclass
    @other(1)
    class Router(Base):
        routes = {}

        @property
        def size(self):
            return len(self.routes)

        @size.setter
        def size(self, v):
            pass

        # add a route
        async def add(self, path):
            def check(p):
                return p

            if path:
                def inner():
                    pass
            return check(path)

        class Meta:
            ordering = 1


    def main():
        x = 1
        # trailing comment inside main, indented
    def after(): pass


    try:
        import ujson as json
    except ImportError:
        def json_fallback():
            pass
    '''
)


def table(result: FileSymbols) -> list[tuple[str, str, int, int]]:
    return [(s.name, s.kind, s.start, s.end) for s in result.symbols]


def test_python_symbols_names_kinds_and_ranges() -> None:
    r = extract_symbols("pkg/router.py", PY, cache=None)
    assert r.language == "python" and r.status == "ok" and r.granularity == "symbol" and r.parses
    assert table(r) == [
        ("LIMIT", "variable", 8, 8),
        ("a", "variable", 9, 9),
        ("b", "variable", 9, 9),
        ("NAME", "variable", 10, 10),
        ("Router", "class", 13, 39),  # from the leading comments through the last nested line
        ("Router.routes", "attribute", 18, 18),
        ("Router.size", "method", 20, 22),  # decorator included
        ("Router.size", "method", 24, 26),  # the setter: a second occurrence of the same name
        ("Router.add", "method", 28, 36),  # with its comment line
        ("Router.add.check", "function", 30, 31),
        ("Router.add.inner", "function", 34, 35),  # nested in an `if` inside the method
        ("Router.Meta", "class", 38, 39),
        ("Router.Meta.ordering", "attribute", 39, 39),
        ("main", "function", 42, 43),  # the indented trailing comment stays out of `after`
        ("after", "function", 45, 45),
        ("json_fallback", "function", 51, 52),  # defined in a module-level try/except
    ]
    assert r.imports == ((2, 2), (3, 3), (6, 6), (49, 49))
    assert r.lines == count_lines(PY) == 52


def test_lookup_helpers() -> None:
    r = extract_symbols("router.py", PY, cache=None)
    assert [s.start for s in r.named("Router.size")] == [20, 24]
    assert r.named("Nope") == ()
    assert r.ranges(["Router.size"]) == [(20, 22), (24, 26)]
    assert r.ranges(["Router", "Router.add"]) == [(13, 39)]  # nested claims merge into the class
    assert r.ranges(["LIMIT", "a"]) == [(8, 9)]  # adjacent ranges merge
    assert r.at(30).name == "Router.add.check" and r.at(29).name == "Router.add" and r.at(1) is None
    assert name_covers("Router", "Router.add") and name_covers("Router.add", "Router.add")
    assert not name_covers("Router", "RouterX") and not name_covers("Router.add", "Router")
    doc = r.to_json()
    assert doc["granularity"] == "symbol" and doc["symbols"][0] == {
        "name": "LIMIT",
        "kind": "variable",
        "start": 8,
        "end": 8,
    }


def test_async_def_and_decorated_function_at_top_level() -> None:
    src = "@app.get('/')\nasync def index():\n    return 1\n"
    r = extract_symbols("app.py", src, cache=None)
    assert table(r) == [("index", "function", 1, 3)]


def test_python_syntax_error_falls_back_to_whole_file() -> None:
    r = extract_symbols("broken.py", "def f(:\n    pass\n", cache=None)
    assert r.granularity == "file" and r.status == "syntax_error" and not r.parses and r.checkable
    assert r.symbols == () and "line 1" in r.reason
    nul = extract_symbols("nul.py", "x = 1\0\n", cache=None)
    assert nul.status == "syntax_error" and nul.granularity == "file"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 parses PEP 695 syntax")
def test_newer_python_syntax_is_a_syntax_error_on_this_interpreter() -> None:
    r = extract_symbols("new.py", "type Alias = int\n", cache=None)
    assert r.granularity == "file" and r.status == "syntax_error"


@pytest.mark.parametrize(
    ("path", "content", "status", "reason"),
    [
        ("README.md", "# Title\n", "unsupported", "no symbol parser for 'README.md'"),
        ("Makefile", "all:\n", "unsupported", "no symbol parser"),
        ("data.bin.py", b"\xff\xfe\x00bad", "not_text", "not UTF-8 text"),
        ("huge.py", "x = 1\n" * (MAX_BYTES // 6 + 1), "too_large", "parsed for symbols"),
    ],
)
def test_whole_file_fallbacks_say_why(
    path: str, content: str | bytes, status: str, reason: str
) -> None:
    r = extract_symbols(path, content, cache=None)
    assert r.granularity == "file" and r.status == status and reason in r.reason and r.symbols == ()
    assert not r.parses and not r.checkable
    data = content.encode() if isinstance(content, str) else content
    assert r.state_ref == state_ref_of_bytes(data)


def test_a_string_that_is_no_text_is_not_an_error() -> None:
    r = extract_symbols("odd.py", "x = '\ud800'\n", cache=None)  # a lone surrogate cannot be UTF-8
    assert r.granularity == "file" and r.status == "not_text"


def test_language_from_file_name() -> None:
    assert language_for("a/b/c.py") == "python" and language_for("x.PYI") == "python"
    assert language_for("web/App.tsx") == "tsx" and language_for("lib.mts") == "typescript"
    assert language_for("x.jsx") == "javascript" and language_for("main.go") == "go"
    assert language_for("lib.rs") == "rust" and language_for("A.java") == "java"
    assert (
        language_for(".py") is None
        and language_for("noext") is None
        and language_for("a.c") is None
    )


def test_cache_by_state_ref_and_bounded() -> None:
    cache = SymbolCache(max_entries=2)
    first = extract_symbols("a.py", "def f(): pass\n", cache=cache)
    again = extract_symbols(
        "elsewhere/b.py", "def f(): pass\n", cache=cache
    )  # same bytes, same language
    assert again is first and cache.hits == 1 and cache.misses == 1
    given = extract_symbols("a.py", "def g(): pass\n", state_ref="sha256:" + "0" * 64, cache=cache)
    assert given.state_ref == "sha256:" + "0" * 64
    extract_symbols("c.py", "def h(): pass\n", cache=cache)
    assert len(cache) == 2  # the oldest entry went
    assert extract_symbols("a.py", "def f(): pass\n", cache=cache) is not first
    # the language is part of the key: the same bytes as .txt are a different result
    txt = extract_symbols("a.txt", "def f(): pass\n", cache=cache)
    assert txt.granularity == "file"
    cache.clear()
    assert len(cache) == 0


def test_importing_symbols_does_not_import_tree_sitter() -> None:
    import subprocess

    code = (
        "import sys, bridge.workspace.symbols as s; s.extract_symbols('a.py', 'x = 1\\n');"
        "print('tree_sitter' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

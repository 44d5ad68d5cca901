"""Symbols of TypeScript/TSX, JavaScript, Go, Rust and Java through tree-sitter grammar wheels."""

from __future__ import annotations

import textwrap

import pytest

from bridge.workspace import symbols_treesitter
from bridge.workspace.symbols import FileSymbols, extract_symbols


def syms(path: str, src: str) -> FileSymbols:
    r = extract_symbols(path, textwrap.dedent(src), cache=None)
    assert r.status == "ok", r.reason
    return r


def table(r: FileSymbols) -> list[tuple[str, str, int, int]]:
    return [(s.name, s.kind, s.start, s.end) for s in r.symbols]


TS = """\
import { a } from "./a";
import b = require("b");
// doc for foo
export function foo(x: number): number { return x; }
export default class Bar<T> extends Base implements I {
  @dec()
  method(a: string): void {}
  private field: number = 1;
  static async *gen() {}
  get prop() { return 1; }
}
@Component({})
export class Deco {}
export const arrow = (x) => x + 1;
let v1 = 1, v2 = 2;
interface Shape { area(): number; }
type Alias = string | number;
enum Color { Red, Green }
namespace NS { export function inner() {} }
declare function ambient(): void;
abstract class Abs { abstract m(): void; }
export { foo as foo2 };
module.exports = {};
"""


def test_typescript() -> None:
    r = syms("src/app.ts", TS)
    assert r.language == "typescript"
    assert table(r) == [
        ("foo", "function", 3, 4),  # the comment above joins, `export` included
        ("Bar", "class", 5, 11),
        ("Bar.method", "method", 6, 7),  # its decorator included
        ("Bar.field", "field", 8, 8),
        ("Bar.gen", "method", 9, 9),
        ("Bar.prop", "method", 10, 10),
        ("Deco", "class", 12, 13),
        ("arrow", "function", 14, 14),
        ("v1", "variable", 15, 15),
        ("v2", "variable", 15, 15),
        ("Shape", "interface", 16, 16),
        ("Alias", "type", 17, 17),
        ("Color", "enum", 18, 18),
        ("NS", "namespace", 19, 19),
        ("NS.inner", "function", 19, 19),
        ("ambient", "function", 20, 20),
        ("Abs", "class", 21, 21),
        ("Abs.m", "method", 21, 21),
    ]
    assert r.imports == ((1, 1), (2, 2))


def test_tsx_uses_the_tsx_grammar() -> None:
    r = syms(
        "web/App.tsx",
        """\
        import React from "react";
        export function App(props: { name: string }) {
          return <div className="x">{props.name}</div>;
        }
        export const Row = () => <tr><td>1</td></tr>;
        """,
    )
    assert r.language == "tsx"
    assert table(r) == [("App", "function", 2, 4), ("Row", "function", 5, 5)]
    # the same JSX in a .ts file is not TypeScript
    assert (
        extract_symbols("web/App.ts", "const x = <div>{1}</div>;\n", cache=None).status
        == "syntax_error"
    )


def test_javascript() -> None:
    r = syms(
        "lib/k.js",
        """\
        import x from "x";
        const { a, b } = require("y");
        export default function main() {}
        class K {
          #priv = 1;
          static count = 0;
          // doc m
          m() {}
          *g() {}
        }
        function* gen() {}
        var old = function () {};
        let z = 1; // trailing comment: not part of the next function
        function after() {}
        const el = <App />;
        """,
    )
    assert r.language == "javascript"
    assert table(r) == [
        ("main", "function", 3, 3),
        ("K", "class", 4, 10),
        ("K.#priv", "field", 5, 5),
        ("K.count", "field", 6, 6),
        ("K.m", "method", 7, 8),
        ("K.g", "method", 9, 9),
        ("gen", "function", 11, 11),
        ("old", "function", 12, 12),
        ("z", "variable", 13, 13),
        ("after", "function", 14, 14),
        ("el", "variable", 15, 15),
    ]
    assert r.imports == ((1, 1),)


def test_go() -> None:
    r = syms(
        "cmd/main.go",
        """\
        package main

        import (
        \t"fmt"
        )
        import "os"

        // Foo does things.
        // Second line.
        func Foo(x int) int { return x }

        func (s *Server) Handle(w int) {}
        func (s Server[T]) Get() T { var z T; return z }

        type Server struct {
        \tname string
        }
        type (
        \tA int
        \tB interface{ M() }
        )
        type Alias = int

        const Pi = 3.14
        const (
        \tX = iota
        \tY
        )
        var a, b = 1, 2
        var (
        \tc = 3
        )
        """,
    )
    assert table(r) == [
        ("Foo", "function", 8, 10),
        ("Server.Handle", "method", 12, 12),
        ("Server.Get", "method", 13, 13),
        ("Server", "struct", 15, 17),
        ("A", "type", 19, 19),
        ("B", "interface", 20, 20),
        ("Alias", "type", 22, 22),
        ("Pi", "constant", 24, 24),
        ("X", "constant", 26, 26),
        ("Y", "constant", 27, 27),
        ("a", "variable", 29, 29),
        ("b", "variable", 29, 29),
        ("c", "variable", 30, 32),
    ]
    assert r.imports == ((3, 5), (6, 6))


def test_rust() -> None:
    r = syms(
        "src/lib.rs",
        """\
        use std::fmt;
        extern crate foo;

        /// A point.
        #[derive(Debug)]
        pub struct Point { x: i32 }

        impl Point {
            /// new
            pub fn new() -> Self { Point { x: 0 } }
            const ORIGIN: i32 = 0;
        }

        impl<T> fmt::Display for Wrapper<T> {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { Ok(()) }
        }

        pub trait Shape {
            fn area(&self) -> f64;
            fn name(&self) -> String { String::new() }
        }

        enum E { A, B }
        mod inner {
            pub fn f() {}
        }
        const MAX: u32 = 1;
        static S: &str = "s";
        type R = Result<(), ()>;
        macro_rules! m { () => {} }
        fn main() {}
        union U { a: u32 }
        """,
    )
    assert table(r) == [
        ("Point", "struct", 4, 6),  # doc comment and attribute included
        ("Point", "impl", 8, 12),  # the impl block is named after its type
        ("Point.new", "method", 9, 10),
        ("Point.ORIGIN", "constant", 11, 11),
        ("Wrapper", "impl", 14, 16),
        ("Wrapper.fmt", "method", 15, 15),
        ("Shape", "trait", 18, 21),
        ("Shape.area", "method", 19, 19),
        ("Shape.name", "method", 20, 20),
        ("E", "enum", 23, 23),
        ("inner", "module", 24, 26),
        ("inner.f", "function", 25, 25),
        ("MAX", "constant", 27, 27),
        ("S", "static", 28, 28),
        ("R", "type", 29, 29),
        ("m", "macro", 30, 30),
        ("main", "function", 31, 31),
        ("U", "union", 32, 32),
    ]
    assert r.ranges(["Point"]) == [(4, 6), (8, 12)]  # claiming the type claims its impl blocks
    assert r.imports == ((1, 1), (2, 2))


def test_java() -> None:
    r = syms(
        "src/App.java",
        """\
        package com.example;

        import java.util.List;

        /**
         * The app.
         */
        @Deprecated
        public class App<T> extends Base implements Runnable {
            private int count = 0, other;

            // ctor
            public App() { super(); }

            @Override
            public void run() {}

            public int run(int x) { return x; }

            static class Inner {
                void go() {}
            }
        }

        interface Shape {
            double area();
            int SIDES = 0;
        }

        enum Color {
            RED, GREEN;
            void paint() {}
        }

        record Pair(int a, int b) {
            int sum() { return a + b; }
        }
        """,
    )
    assert table(r) == [
        ("App", "class", 5, 23),  # Javadoc and annotation included
        ("App.count", "field", 10, 10),
        ("App.other", "field", 10, 10),
        ("App.App", "constructor", 12, 13),
        ("App.run", "method", 15, 16),
        ("App.run", "method", 18, 18),  # an overload: the same name twice
        ("App.Inner", "class", 20, 22),
        ("App.Inner.go", "method", 21, 21),
        ("Shape", "interface", 25, 28),
        ("Shape.area", "method", 26, 26),
        ("Shape.SIDES", "constant", 27, 27),
        ("Color", "enum", 30, 33),
        ("Color.RED", "constant", 31, 31),
        ("Color.GREEN", "constant", 31, 31),
        ("Color.paint", "method", 32, 32),
        ("Pair", "record", 35, 37),
        ("Pair.sum", "method", 36, 36),
    ]
    assert r.ranges(["App.run"]) == [(15, 16), (18, 18)]
    assert r.imports == ((3, 3),)


@pytest.mark.parametrize(
    ("path", "src", "line"),
    [
        ("a.ts", "function f( {\n}\nconst x = 1;\n", 1),
        ("a.js", "const a = 1;\nfunction (\n", 2),
        ("a.go", "package main\n\nfunc f() {\n", 3),
        ("a.rs", "fn main() {\n    let x = ;\n}\n", 2),
        ("A.java", "class A {\n  void f() {\n}\n", 3),
    ],
)
def test_syntax_error_falls_back_to_whole_file(path: str, src: str, line: int) -> None:
    r = extract_symbols(path, src, cache=None)
    assert (
        r.status == "syntax_error" and r.granularity == "file" and r.symbols == () and r.checkable
    )
    assert r.reason.startswith("syntax error at line ")
    assert 1 <= int(r.reason.rsplit(" ", 1)[-1]) <= line + 1


def test_missing_grammar_falls_back_with_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        symbols_treesitter.GRAMMARS,
        "go",
        ("tree_sitter_go_not_installed", "language", "tree-sitter-go"),
    )
    monkeypatch.delitem(symbols_treesitter._loaded, "go", raising=False)
    try:
        r = extract_symbols("main.go", "package main\nfunc f() {}\n", cache=None)
        assert r.status == "no_grammar" and r.granularity == "file" and not r.checkable
        assert "pip install tree-sitter tree-sitter-go" in r.reason
    finally:
        symbols_treesitter._loaded.pop("go", None)
        monkeypatch.undo()
    assert extract_symbols("main.go", "package main\nfunc f() {}\n", cache=None).status == "ok"


def test_grammars_ship_in_the_wheels() -> None:
    """Every grammar loads from its installed package (nothing is fetched at run time)."""
    for language in symbols_treesitter.GRAMMARS:
        assert symbols_treesitter.grammar(language) is not None, language

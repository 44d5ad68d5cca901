"""Symbols of non-Python files through tree-sitter and the grammars shipped in their PyPI wheels
(`tree-sitter-typescript`, `-javascript`, `-go`, `-rust`, `-java`): nothing is downloaded at run
time. This module is imported only when such a file is parsed.

The walk visits declaration-level nodes only (the file, class/impl/trait/module bodies), never
function bodies, so its cost grows with the number of definitions, not with the size of the code.
A tree with an ERROR or MISSING node is a syntax error: the whole file is then the unit.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from bridge.workspace.symbols import FileSymbols, Symbol, whole_file
from bridge.workspace.symbols_langs import SPECS, Def, LangSpec

# language -> (module, function returning the grammar, pip package)
GRAMMARS: dict[str, tuple[str, str, str]] = {
    "typescript": ("tree_sitter_typescript", "language_typescript", "tree-sitter-typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx", "tree-sitter-typescript"),
    "javascript": ("tree_sitter_javascript", "language", "tree-sitter-javascript"),
    "go": ("tree_sitter_go", "language", "tree-sitter-go"),
    "rust": ("tree_sitter_rust", "language", "tree-sitter-rust"),
    "java": ("tree_sitter_java", "language", "tree-sitter-java"),
}
_loaded: dict[str, Any] = {}
_load_lock = threading.Lock()


def grammar(language: str) -> Any | None:
    """The tree-sitter Language for `language`, or None when it (or tree-sitter) is not installed."""
    if language in _loaded:
        return _loaded[language]
    with _load_lock:
        if language not in _loaded:
            found = None
            entry = GRAMMARS.get(language)
            if entry is not None:
                try:
                    import tree_sitter

                    module = importlib.import_module(entry[0])
                    found = tree_sitter.Language(getattr(module, entry[1])())
                except (ImportError, AttributeError, ValueError):
                    found = None
            _loaded[language] = found
    return _loaded[language]


def treesitter_symbols(language: str, data: bytes, state_ref: str, lines: int) -> FileSymbols:
    lang = grammar(language)
    spec = SPECS.get(language)
    if lang is None or spec is None:
        package = GRAMMARS[language][2] if language in GRAMMARS else "a tree-sitter grammar"
        return whole_file(
            language,
            state_ref,
            "no_grammar",
            f"the {language} grammar is not installed (pip install tree-sitter {package})",
            lines,
        )
    import tree_sitter

    tree = tree_sitter.Parser(lang).parse(data)  # a parser per call: parsers are not thread-safe
    root = tree.root_node
    if root.has_error:
        return whole_file(
            language,
            state_ref,
            "syntax_error",
            f"syntax error at line {_first_error_line(root)}",
            lines,
        )
    walker = _Walker(spec)
    walker.walk(root, "", False)
    symbols = tuple(sorted(walker.symbols, key=lambda s: (s.start, -s.end)))
    return FileSymbols(language, state_ref, "ok", symbols, tuple(walker.imports), lines)


def start_line(node: Any) -> int:
    return node.start_point.row + 1


def end_line(node: Any) -> int:
    """1-based last line; a node that ends at column 0 (a comment with its newline) ends the line before."""
    row, col = node.end_point.row, node.end_point.column
    return row if col == 0 and row > node.start_point.row else row + 1


def _first_error_line(root: Any) -> int:
    node = root
    while True:
        for child in node.children:
            if child.is_error or child.is_missing:
                return start_line(child)
            if child.has_error:
                node = child
                break
        else:
            return start_line(node)


class _Walker:
    def __init__(self, spec: LangSpec) -> None:
        self.spec = spec
        self.symbols: list[Symbol] = []
        self.imports: list[tuple[int, int]] = []

    def walk(self, container: Any, prefix: str, in_type: bool) -> None:
        """Visit the members of one declaration level. Comments, decorators and attributes that start
        on their own line directly above a definition join its range."""
        spec = self.spec
        lead: tuple[int, int] | None = None  # lines of a run of leading nodes
        prev_end = 0
        for child in container.named_children:
            t = child.type
            s, e = start_line(child), end_line(child)
            if t in spec.leading:
                if lead is not None and s <= lead[1] + 1:
                    lead = (lead[0], e)
                else:
                    lead = (s, e) if s > prev_end else None  # not a comment trailing other code
                prev_end = max(prev_end, e)
                continue
            first = lead[0] if lead is not None and s <= lead[1] + 1 else s
            lead = None
            prev_end = e
            if t in spec.imports:
                self.imports.append((s, e))
            elif t in spec.transparent:
                self.walk(child, prefix, in_type)
            else:
                unwrap = spec.wrappers.get(t)
                node = unwrap(child) if unwrap is not None else child
                if node is not None:
                    self.define(node, first, e, prefix, in_type)

    def define(self, node: Any, first: int, last: int, prefix: str, in_type: bool) -> None:
        rule = self.spec.defs.get(node.type)
        if rule is None:
            return
        if rule.specs:  # a declaration that can group several (Go `type ( A int; B string )`)
            parts = rule.spec_nodes(node)
            if len(parts) == 1:
                self.add_names(rule, parts[0], prefix, first, last, in_type)
            else:
                for part in parts:
                    self.add_names(rule, part, prefix, start_line(part), end_line(part), in_type)
            return
        names = self.add_names(rule, node, prefix, first, last, in_type)
        if rule.body and names:
            body = node.child_by_field_name(rule.body)
            if body is not None:
                self.walk(body, f"{prefix}{names[0]}.", rule.type_like)

    def add_names(
        self, rule: Def, node: Any, prefix: str, first: int, last: int, in_type: bool
    ) -> list[str]:
        names = [n for n in rule.names(node) if n]
        kind = rule.kind_of(node, in_type)
        for name in names:
            self.symbols.append(Symbol(prefix + name, kind, first, last))
        return names

"""Python symbols with the standard `ast`: classes, functions and methods (nested ones too, as
`outer.inner`), and module- and class-level assignments. Definitions inside module- or class-level
`if`/`try`/`with`/`for`/`while` blocks count at that level (`if TYPE_CHECKING:` imports, platform
branches). A range starts at the first decorator, or at the comment lines directly above it at the
same indentation, and ends at the last line of the body."""

from __future__ import annotations

import ast
import sys

from bridge.workspace.symbols import FileSymbols, Symbol, whole_file

_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)
_TRY_STAR = getattr(ast, "TryStar", None)
_TYPE_ALIAS = getattr(ast, "TypeAlias", None)  # Python 3.12+


def python_symbols(text: str, state_ref: str, lines: int) -> FileSymbols:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        return whole_file(
            "python", state_ref, "syntax_error", f"syntax error{where}: {exc.msg}", lines
        )
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        return whole_file(
            "python", state_ref, "syntax_error", f"cannot parse: {exc.__class__.__name__}", lines
        )
    walker = _Walker(text.split("\n"))
    walker.body(tree.body, "", "module")
    symbols = tuple(sorted(walker.symbols, key=lambda s: (s.start, -s.end)))
    return FileSymbols("python", state_ref, "ok", symbols, tuple(walker.imports), lines)


class _Walker:
    def __init__(self, source_lines: list[str]) -> None:
        self.src = source_lines
        self.symbols: list[Symbol] = []
        self.imports: list[tuple[int, int]] = []

    def body(self, stmts: list[ast.stmt], prefix: str, where: str) -> None:
        """`where` is "module", "class" or "function" (inside a function only nested defs count)."""
        for node in stmts:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                kind = "method" if where == "class" else "function"
                self.add(prefix + node.name, kind, node, node.decorator_list)
                self.body(node.body, f"{prefix}{node.name}.", "function")
            elif isinstance(node, ast.ClassDef):
                self.add(prefix + node.name, "class", node, node.decorator_list)
                self.body(node.body, f"{prefix}{node.name}.", "class")
            elif where == "function":
                self.nested_blocks(node, prefix)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) or (
                _TYPE_ALIAS and isinstance(node, _TYPE_ALIAS)
            ):
                kind = "attribute" if where == "class" else "variable"
                for name in _target_names(node):
                    self.add(prefix + name, kind, node, [])
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and where == "module":
                self.imports.append((node.lineno, node.end_lineno or node.lineno))
            elif isinstance(node, _BLOCKS) or (_TRY_STAR and isinstance(node, _TRY_STAR)):
                for block in _blocks(node):
                    self.body(block, prefix, where)

    def nested_blocks(self, node: ast.stmt, prefix: str) -> None:
        """Inside a function: find defs nested in its control flow (`if`, `try`, ...)."""
        if isinstance(node, _BLOCKS) or (_TRY_STAR and isinstance(node, _TRY_STAR)):
            for block in _blocks(node):
                self.body(block, prefix, "function")

    def add(self, name: str, kind: str, node: ast.stmt, decorators: list[ast.expr]) -> None:
        start = min([node.lineno, *(d.lineno for d in decorators)])
        self.symbols.append(
            Symbol(name, kind, self.leading_comments(start), node.end_lineno or node.lineno)
        )

    def leading_comments(self, start: int) -> int:
        """Move `start` up over comment lines directly above it at the same indentation."""
        line = self.src[start - 1] if 0 < start <= len(self.src) else ""
        indent = line[: len(line) - len(line.lstrip())]
        k = start - 1  # 1-based number of the line above
        while k >= 1:
            above = self.src[k - 1]
            if not above.startswith(indent + "#"):
                break
            k -= 1
        return k + 1


def _blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    out = [
        getattr(node, name) for name in ("body", "orelse", "finalbody") if getattr(node, name, None)
    ]
    out.extend(h.body for h in getattr(node, "handlers", []) or [])
    return out


def _target_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        targets: list[ast.expr] = list(node.targets)
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    elif sys.version_info >= (3, 12) and isinstance(node, ast.TypeAlias):
        targets = [node.name]
    else:
        return []
    names: list[str] = []
    for t in targets:
        if isinstance(t, ast.Name):
            names.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            names.extend(e.id for e in t.elts if isinstance(e, ast.Name))
    return list(dict.fromkeys(names))

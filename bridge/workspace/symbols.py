"""A file's symbols: qualified name, kind and line range of every definition an agent may claim.

`extract_symbols(path, content)` picks the language from the file name, parses with the standard
`ast` (Python) or a tree-sitter grammar shipped in its PyPI wheel (TypeScript/TSX, JavaScript, Go,
Rust, Java), and returns a `FileSymbols`. Anything that cannot be parsed (a syntax error, an
unknown language, a missing grammar, binary or oversized content) comes back with granularity
`file` and the reason: the whole file is then the unit, as before symbols existed.

Results are cached by (language, state ref): the same bytes are parsed once while they stay in the
bounded LRU cache. tree-sitter is imported only when a non-Python file is parsed, so importing this
module costs nothing at start-up. Decisions: docs/protocol.md, "Symbol scopes (issue 19)".
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from bridge.workspace.state import state_ref_of_bytes

# file name suffix -> language; a language is parsed by `ast` ("python") or by tree-sitter
LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}
MAX_BYTES = (
    2_000_000  # larger files are coordinated as whole files (parsing them would stall a tool call)
)
CACHE_ENTRIES = 256

Status = Literal["ok", "syntax_error", "no_grammar", "unsupported", "not_text", "too_large"]


@dataclass(frozen=True, slots=True)
class Symbol:
    """One definition. `name` is qualified with dots (`Class.method`, `Type.method` for a Go
    receiver or a Rust impl); `start`..`end` are 1-based inclusive lines covering the leading doc
    comment, decorators or attributes, and the whole body. A name can occur more than once
    (a Python property and its setter, Java overloads, several Rust impl blocks): claiming the
    name claims every occurrence."""

    name: str
    kind: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "start": self.start, "end": self.end}


def name_covers(claimed: str, name: str) -> bool:
    """A claim on `claimed` covers `name` itself and everything nested in it (`Class` covers
    `Class.method`)."""
    return name == claimed or name.startswith(claimed + ".")


@dataclass(frozen=True, slots=True)
class FileSymbols:
    """What `extract_symbols` found. `granularity` is `symbol` only when the content parsed;
    otherwise `reason` says why the whole file is the unit."""

    language: str | None
    state_ref: str
    status: Status
    symbols: tuple[Symbol, ...] = ()
    imports: tuple[
        tuple[int, int], ...
    ] = ()  # line ranges of import statements (1-based, inclusive)
    lines: int = 0
    reason: str = ""
    _by_name: dict[str, tuple[Symbol, ...]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def granularity(self) -> Literal["symbol", "file"]:
        return "symbol" if self.status == "ok" else "file"

    @property
    def parses(self) -> bool:
        """The content parsed without error."""
        return self.status == "ok"

    @property
    def checkable(self) -> bool:
        """A parser exists for this content, so whether it parses is known."""
        return self.status in ("ok", "syntax_error")

    def named(self, name: str) -> tuple[Symbol, ...]:
        """Every occurrence of one qualified name (empty when the file has none)."""
        if not self._by_name and self.symbols:
            index: dict[str, list[Symbol]] = {}
            for s in self.symbols:
                index.setdefault(s.name, []).append(s)
            self._by_name.update({k: tuple(v) for k, v in index.items()})
        return self._by_name.get(name, ())

    def ranges(self, names: Iterable[str]) -> list[tuple[int, int]]:
        """Sorted, merged line ranges of the named symbols (a name covers what is nested in it)."""
        return merge_spans((s.start, s.end) for n in set(names) for s in self.named(n))

    def at(self, line: int) -> Symbol | None:
        """The innermost symbol whose range contains `line`."""
        best: Symbol | None = None
        for s in self.symbols:
            if s.start <= line <= s.end and (
                best is None or s.end - s.start <= best.end - best.start
            ):
                best = s
        return best

    def to_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "state_ref": self.state_ref,
            "granularity": self.granularity,
            "status": self.status,
            "reason": self.reason,
            "lines": self.lines,
            "symbols": [s.to_json() for s in self.symbols],
        }


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive line ranges sorted, with overlapping or adjacent ones joined."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def language_for(path: str) -> str | None:
    """The language of a file from its name, or None when it has no parser here."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return LANGUAGES.get(name[dot:].lower()) if dot > 0 else None


def count_lines(text: str) -> int:
    """Lines as git counts them: split on newline only; a last line without one still counts."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


class SymbolCache:
    """A bounded LRU of results keyed by (language, state ref); safe to share between threads."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self.max_entries = max(1, max_entries)
        self._data: OrderedDict[tuple[str | None, str], FileSymbols] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str | None, str]) -> FileSymbols | None:
        with self._lock:
            found = self._data.get(key)
            if found is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[str | None, str], value: FileSymbols) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


DEFAULT_CACHE = SymbolCache()


def whole_file(
    language: str | None, state_ref: str, status: Status, reason: str, lines: int = 0
) -> FileSymbols:
    """The fallback result: no symbols, the whole file is the unit, and why."""
    return FileSymbols(language, state_ref, status, lines=lines, reason=reason)


def extract_symbols(
    path: str,
    content: str | bytes,
    *,
    state_ref: str | None = None,
    cache: SymbolCache | None = DEFAULT_CACHE,
) -> FileSymbols:
    """The symbols of `content`, read as the file `path` (only its name is used, to pick the
    language). `state_ref` is computed from the bytes when not given. Never raises on content:
    whatever cannot be parsed is a whole-file result with its reason. `cache=None` bypasses the
    cache (for measurements)."""
    if isinstance(content, str):
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError:  # a str with lone surrogates is no file's content
            data = content.encode("utf-8", "surrogatepass")
            content = data
    else:
        data = bytes(content)
    ref = state_ref or state_ref_of_bytes(data)
    language = language_for(path)
    key = (language, ref)
    if cache is not None:
        found = cache.get(key)
        if found is not None:
            return found
    result = _extract(path, language, ref, data, content if isinstance(content, str) else None)
    if cache is not None:
        cache.put(key, result)
    return result


def _extract(
    path: str, language: str | None, ref: str, data: bytes, text: str | None
) -> FileSymbols:
    if len(data) > MAX_BYTES:
        return whole_file(
            language,
            ref,
            "too_large",
            f"{len(data):,} bytes is more than the {MAX_BYTES:,} parsed for symbols",
        )
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return whole_file(language, ref, "not_text", "not UTF-8 text")
    lines = count_lines(text)
    if language is None:
        return whole_file(
            None, ref, "unsupported", f"no symbol parser for {path.rsplit('/', 1)[-1]!r}", lines
        )
    if language == "python":
        from bridge.workspace.symbols_python import python_symbols

        return python_symbols(text, ref, lines)
    from bridge.workspace.symbols_treesitter import treesitter_symbols

    return treesitter_symbols(language, data, ref, lines)

"""Scopes as front-ends see them: what a scope names (for display) and whether it covers files.

The front-ends never normalize scopes or compute overlaps themselves; they ask these functions
(or the `Session` queries built on them). A scope that cannot be read names nothing and covers
nothing: it is never raised to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable

from bridge.protocol.scope import (
    SEPARATOR,
    NormScope,
    Overlap,
    normalize_path,
    normalize_scope,
    overlap,
)

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "GRANULARITIES",
    "Overlap",
    "announce_scope",
    "claims_meet",
    "coverage",
    "is_symbol_id",
    "normalize_path",
    "probe",
    "same_file_as",
    "scope_items",
    "scope_paths",
    "scope_symbols",
    "split_symbol",
]

GRANULARITIES = (
    "symbol",
    "file",
)  # the session's unit of coordination (docs/protocol.md "Symbol scopes")


def _norm(scope: Any) -> NormScope | None:
    if not isinstance(scope, dict):
        return None
    try:
        return normalize_scope(scope)
    except Exception:  # a scope we cannot read names nothing
        return None


def scope_items(scope: Any) -> list[str]:
    """What a scope covers, for display: files and patterns, else entities, tasks or URIs."""
    norm = _norm(scope)
    if norm is None:
        return []
    return norm.files() or sorted(norm.entities) or sorted(norm.tasks) or sorted(norm.uris)


def scope_paths(scope: Any) -> list[str]:
    """Only the file paths and patterns of a scope, and the files its symbols are in (for a file tree)."""
    norm = _norm(scope)
    if norm is None:
        return []
    return (
        norm.files() + sorted(norm.symbol_files - norm.paths) if norm.symbol_files else norm.files()
    )


def scope_symbols(scope: Any) -> dict[str, set[str]]:
    """The symbol names a scope claims, by file (`*` for a whole file inside a symbol scope)."""
    norm = _norm(scope)
    if norm is None or not norm.symbol_files:
        return {}
    from bridge.protocol.symbols import by_file

    return by_file(norm.entities)


def is_symbol_id(item: str) -> bool:
    """`path::Qualified.name` (a symbol), as opposed to a file path or a bare name."""
    return isinstance(item, str) and SEPARATOR in item


def split_symbol(symbol_id: str) -> tuple[str, str]:
    """(path, name) of a symbol id, normalized; raises ValueError when it is not one."""
    from bridge.protocol.symbols import parse_symbol_id

    ref = parse_symbol_id(symbol_id)
    if ref is None:
        raise ValueError(
            f"{symbol_id!r} is not a symbol: write path::Qualified.name, e.g. src/app.py::Router.add"
        )
    return ref.path, ref.name


def announce_scope(
    files: Iterable[str],
    symbols: Iterable[str] = (),
    *,
    namespace: str | None = None,
    granularity: str = "symbol",
) -> dict[str, Any]:
    """The scope of an intent on `files` and `symbols`. Symbol ids (`path::name`) make a symbol
    scope at `symbol` granularity (an `entity_set`; a file listed without a symbol is `path::*`);
    at `file` granularity, or with no symbol ids, a `file_set` of the files and the symbols' files.
    Every symbol name goes to `extensions.affects_symbols` (the dependency hint); bare names only
    go there. Raises ValueError on a malformed symbol id."""
    files = [normalize_path(f) for f in files]
    ids, names = [], []
    for s in symbols:
        if is_symbol_id(s):
            path, name = split_symbol(s)
            ids.append((path, name))
        elif s:
            names.append(s)
    affects = sorted({*names, *(n for _, n in ids if n != "*")})
    if ids and granularity == "symbol":
        from bridge.protocol.symbols import symbol_scope

        named = {p for p, _ in ids}
        entities = [f"{p}{SEPARATOR}{n}" for p, n in ids] + [
            f"{f}{SEPARATOR}*" for f in files if f not in named
        ]
        scope = symbol_scope(entities, namespace)
    else:
        resources = list(dict.fromkeys([*files, *(p for p, _ in ids)]))
        scope = {"kind": "file_set", "resources": resources}
    if affects:
        scope["extensions"] = {"affects_symbols": affects}
    return scope


def probe(files: Iterable[str], symbols: Iterable[str] = ()) -> NormScope:
    """The normalized scope of these files and symbol ids, to compare with many scopes: a plain
    `file_set` without symbols, else the symbol scope (files as `path::*`)."""
    symbols = [s for s in symbols if is_symbol_id(s)]
    if not symbols:
        return file_probe(files)
    return normalize_scope(announce_scope(files, symbols))


def claims_meet(a: Any, b: Any) -> bool:
    """Whether two scopes (as sent) overlap, opaque kinds left out; a scope that cannot be read
    meets nothing."""
    na = _norm(a)
    return na is not None and coverage(na, b) is not None


def same_file_as(mine: NormScope, scope: Any) -> tuple[str, ...]:
    """The files `scope` shares with `mine` through different symbols only (no overlap, an
    advisory "same file" note); () when they overlap or share no file."""
    norm = _norm(scope)
    if norm is None or not (mine.symbol_files and norm.symbol_files):
        return ()
    from bridge.protocol.symbols import symbol_overlap

    verdict = symbol_overlap(mine, norm)
    return () if verdict is None or verdict.overlap else verdict.same_file


def file_probe(files: Iterable[str]) -> NormScope:
    """The normalized `file_set` scope of these files (build once, compare with many scopes)."""
    return normalize_scope({"kind": "file_set", "resources": list(files)})


def coverage(probe: NormScope, scope: Any) -> Overlap | None:
    """How `scope` overlaps the files of `probe` (from `file_probe`); None when it does not, or
    only opaquely (a scope kind nobody can compare is not a claim on these files)."""
    norm = _norm(scope)
    if norm is None:
        return None
    ov = overlap(probe, norm)
    return None if ov is None or ov.basis == "opaque" else ov

"""Symbol entity ids (`path::Qualified.name`) and the overlap rules of symbol scopes (issue 19).

A symbol scope is an `entity_set` whose entities name symbols of files: `src/app.py::Router.add`.
The file part is a normalized repository path, the name is dot-qualified (`::` inside the name is
read as `.`, so `lib.rs::Point::new` is `lib.rs::Point.new`). The scope carries the canonical URIs
of its files, so any peer that relates scopes through canonical URIs or the session resource
registry sees the symbol scope as covering its files: correct, if coarser.

`path::*` names the whole file inside a symbol scope. `symbol_overlap` decides pairs where at least
one side names symbols and both consist only of symbols, files and globs: same symbol (or one
nested in the other, or `*`) and symbol vs a `file_set` naming its file are race-locked; a glob covering a symbol's file is advisory; different symbols of
one file do not overlap (reported as `same_file`, for an advisory note). Other pairs are left to
`bridge.protocol.scope.overlap`, which calls `symbol_overlap` right after its first rule (shared
`file_set` files). The wire form: docs/protocol.md, "Symbol scopes (issue 19)".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bridge.protocol.globs import glob_match, is_glob
from bridge.protocol.scope import SEPARATOR, NormScope, normalize_path

WHOLE_FILE = "*"  # `path::*`: every symbol of the file, i.e. the whole file inside a symbol scope


@dataclass(frozen=True, slots=True)
class SymbolRef:
    path: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.path}{SEPARATOR}{self.name}"


def parse_symbol_id(entity: str) -> SymbolRef | None:
    """The symbol an entity id names, or None when it is not a symbol id. The path is what comes
    before the first `::` (normalized; no wildcards), the name what follows (non-empty dotted parts,
    no whitespace), or `*` for the whole file."""
    if not isinstance(entity, str) or SEPARATOR not in entity:
        return None
    raw_path, raw_name = entity.split(SEPARATOR, 1)
    path = normalize_path(raw_path)
    name = raw_name.replace(SEPARATOR, ".")
    if not path or path == "/" or is_glob(path) or not name or any(c.isspace() for c in name):
        return None
    if name != WHOLE_FILE and (WHOLE_FILE in name or any(not part for part in name.split("."))):
        return None
    return SymbolRef(path, name)


def symbol_id(path: str, name: str) -> str:
    """The entity id of a symbol; raises ValueError when the parts do not make a valid id."""
    ref = parse_symbol_id(f"{path}{SEPARATOR}{name}")
    if ref is None:
        raise ValueError(f"not a valid symbol: path {path!r}, name {name!r}")
    return ref.id


def file_uri(namespace: str, path: str) -> str:
    """The canonical URI of a repository file: `resource://<namespace>/<path>`."""
    return f"resource://{namespace}/{normalize_path(path)}"


def by_file(entities: Iterable[str]) -> dict[str, set[str]]:
    """Symbol names per file, for the entities that are symbol ids."""
    out: dict[str, set[str]] = {}
    for e in entities:
        ref = parse_symbol_id(e)
        if ref is not None:
            out.setdefault(ref.path, set()).add(ref.name)
    return out


def symbol_scope(symbol_ids: Iterable[str], namespace: str | None = None) -> dict[str, Any]:
    """The `entity_set` scope of an intent on symbols: the normalized ids, and when a namespace is
    given, the canonical URIs of their files. Raises ValueError on an id that is not a symbol."""
    refs = []
    for s in symbol_ids:
        ref = parse_symbol_id(s)
        if ref is None:
            raise ValueError(f"{s!r} is not a symbol id; write path::Qualified.name")
        refs.append(ref)
    if not refs:
        raise ValueError("a symbol scope names at least one symbol")
    scope: dict[str, Any] = {"kind": "entity_set", "entities": sorted({r.id for r in refs})}
    if namespace:
        scope["canonical_uris"] = sorted({file_uri(namespace, r.path) for r in refs})
    return scope


def names_overlap(a: str, b: str) -> bool:
    """Same symbol, one nested in the other (`Router` and `Router.add`), or a whole file (`*`)."""
    return a == b or WHOLE_FILE in (a, b) or a.startswith(b + ".") or b.startswith(a + ".")


@dataclass(frozen=True, slots=True)
class SymbolVerdict:
    """The symbol rules' answer for a pair. `overlap` False with `same_file` set means different
    symbols of the same files: no conflict, an advisory note."""

    overlap: bool
    race_locked: bool = False
    shared: tuple[str, ...] = ()
    same_file: tuple[str, ...] = ()


def _decidable(s: NormScope) -> bool:
    """Only symbols, files and globs: nothing the symbol rules cannot judge."""
    if s.opaque or s.tasks or s.kind not in ("entity_set", "file_set", "resource_path"):
        return False
    return sum(len(names) for _, names in s.symbol_map) == len(
        s.entities
    )  # every entity is a symbol id


def _prefixes(names: frozenset[str]) -> set[str]:
    """Every enclosing name of these names (`A` and `A.m` for `A.m.inner`)."""
    out: set[str] = set()
    for n in names:
        dot = n.find(".")
        while dot != -1:
            out.add(n[:dot])
            dot = n.find(".", dot + 1)
    return out


def _names_meet(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether some name of `a` overlaps some name of `b` (`names_overlap`), without the pairs."""
    return (
        WHOLE_FILE in a
        or WHOLE_FILE in b
        or bool(a & b)
        or bool(_prefixes(a) & b)
        or bool(a & _prefixes(b))
    )


def symbol_overlap(a: NormScope, b: NormScope) -> SymbolVerdict | None:
    """The verdict of the symbol rules, or None when they do not decide this pair (neither side
    names symbols, or one side also holds something else: plain entities, tasks, opaque kinds)."""
    if not (a.symbol_map or b.symbol_map) or not (_decidable(a) and _decidable(b)):
        return None
    sa, sb = dict(a.symbol_map), dict(b.symbol_map)
    locked: set[str] = set()
    advisory: set[str] = set()
    same_file: set[str] = set()
    for path in sa.keys() & sb.keys():
        na, nb = sa[path], sb[path]
        if not _names_meet(na, nb):
            same_file.add(path)
            continue
        for n in na:
            for m in nb:
                if names_overlap(n, m):
                    locked.add(f"{path}{SEPARATOR}{n}")
                    locked.add(f"{path}{SEPARATOR}{m}")
    for syms, other in ((sa, b), (sb, a)):
        for path, names in syms.items():
            if path in other.paths:
                locked |= {f"{path}{SEPARATOR}{n}" for n in names} | {path}
            elif other.globs and any(glob_match(g, path) for g in other.globs):
                advisory |= {f"{path}{SEPARATOR}{n}" for n in names}
    if locked:
        return SymbolVerdict(True, True, tuple(sorted(locked | advisory)))
    if advisory:
        return SymbolVerdict(True, False, tuple(sorted(advisory)))
    return SymbolVerdict(False, same_file=tuple(sorted(same_file)))


def whole_files(scope: NormScope) -> NormScope:
    """The scope with every symbol read as its whole file (`a.py::f` as `a.py::*`): how a session
    at `file` granularity sees a symbol scope. Other scopes are returned as they are."""
    if not scope.symbol_files:
        return scope
    entities = {e for e in scope.entities if parse_symbol_id(e) is None}
    entities |= {f"{p}{SEPARATOR}{WHOLE_FILE}" for p in scope.symbol_files}
    whole = frozenset({WHOLE_FILE})
    return scope.replace(
        entities=frozenset(entities),
        symbol_map=tuple((p, whole) for p, _ in scope.symbol_map),
    )

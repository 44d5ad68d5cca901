"""Scope normalization, overlap, containment and dependency candidates (spec §15.2, digest 4).

A scope is normalized once, when its intent is registered; every comparison works on the
normalized form, so `./a.py`, `a.py` and `a.py/` are the same file. The rules and their reasons
are in docs/protocol.md, "Scopes and overlap".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.protocol.globs import glob_covers, glob_match, globs_intersect, is_glob

if TYPE_CHECKING:
    from bridge.protocol.registry import ResourceRegistry

PATH_KINDS = frozenset({"file_set", "resource_path"})
KNOWN_KINDS = frozenset({"file_set", "resource_path", "entity_set", "task_set"})


def normalize_path(path: str) -> str:
    """Strip leading `./`, drop `.` segments, collapse `//`, strip a trailing `/` (not `..`)."""
    if not path:
        return path
    if "//" not in path and "./" not in path and not path.endswith(("/", "/.")) and path != ".":
        return path  # already normal
    absolute = path.startswith("/")
    segs = [s for s in path.split("/") if s not in ("", ".")]
    out = "/".join(segs)
    if absolute:
        return "/" + out
    return out


@dataclass(slots=True, eq=True)
class NormScope:
    """A normalized scope. Treat as immutable (not frozen only because frozen init is slow)."""

    kind: str
    paths: frozenset[str] = frozenset()
    globs: tuple[str, ...] = ()
    entities: frozenset[str] = frozenset()
    tasks: frozenset[str] = frozenset()
    uris: frozenset[str] = frozenset()
    opaque: bool = False
    impact: frozenset[str] = frozenset()
    affects_symbols: frozenset[str] = frozenset()
    depends_on_symbols: frozenset[str] = frozenset()

    def files(self) -> list[str]:
        """The file paths and patterns, for display."""
        return sorted(self.paths) + list(self.globs)

    @property
    def idents(self) -> frozenset[str]:
        """Every literal identifier the scope names (paths, entities, task ids)."""
        if not self.entities and not self.tasks:
            return self.paths  # the common case, no new set
        return self.paths | self.entities | self.tasks


@dataclass(frozen=True, slots=True)
class Overlap:
    """Why two scopes overlap. `race_locked` is true only for shared `file_set` resources."""

    # "file_set", "resource_path", "entity_set", "task_set", "canonical_uri", "opaque", "cross_kind",
    # or "dependency" (from `dependency_overlap`)
    basis: str
    shared: tuple[str, ...] = field(default=())
    race_locked: bool = False


def _strs(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def normalize_scope(scope: dict[str, Any] | Any, registry: ResourceRegistry | None = None) -> NormScope:
    """The normalized form of a scope given as a dict or a `Scope` model (a NormScope is returned
    as is). Anything else, or a scope without a string `kind`, is an opaque `custom` scope."""
    if isinstance(scope, NormScope):
        return scope
    if not isinstance(scope, dict):
        dump = getattr(scope, "model_dump", None)
        scope = dump(mode="json", exclude_none=True) if callable(dump) else {}
        if not isinstance(scope, dict):
            scope = {}
    kind = scope.get("kind") if isinstance(scope.get("kind"), str) else "custom"
    if kind == "file_set" and registry is None and len(scope) == 2:  # fast path: a plain file list
        res = scope.get("resources")
        if isinstance(res, list) and all(isinstance(r, str) and "*" not in r and "?" not in r for r in res):
            return NormScope(kind, frozenset(n for n in map(normalize_path, res) if n))
    paths: set[str] = set()
    globs: list[str] = []
    entities = frozenset(_strs(scope.get("entities"))) if kind == "entity_set" else frozenset()
    tasks = frozenset(_strs(scope.get("task_ids"))) if kind == "task_set" else frozenset()
    if kind == "file_set":
        for r in _strs(scope.get("resources")):
            n = normalize_path(r)
            if n and is_glob(n):  # a wildcard in a file list is read as a pattern (docs/protocol.md)
                globs.append(n)
            elif n:
                paths.add(n)
    elif kind == "resource_path" and isinstance(scope.get("pattern"), str):
        globs.append(pattern_of(scope["pattern"]))  # a literal path names its subtree
    uris = set(_strs(scope.get("canonical_uris")))
    if registry is not None:
        uris |= registry.resolve(kind, paths, globs, entities | tasks)
    ext = scope.get("extensions") if isinstance(scope.get("extensions"), dict) else {}
    impact = frozenset(normalize_path(p) for p in _strs(ext.get("impact")) if p)
    return NormScope(
        kind=kind,
        paths=frozenset(paths),
        globs=tuple(globs),
        entities=entities,
        tasks=tasks,
        uris=frozenset(uris),
        opaque=kind not in KNOWN_KINDS,
        impact=impact,
        affects_symbols=frozenset(_strs(ext.get("affects_symbols"))),
        depends_on_symbols=frozenset(_strs(ext.get("depends_on_symbols"))),
    )


def pattern_of(value: str) -> str:
    """The glob a `resource_path` pattern stands for: itself, or `value/**` for a literal path."""
    n = normalize_path(value)
    if is_glob(n):
        return n
    return f"{n}/**" if n else "**"


def _path_overlap(a: NormScope, b: NormScope) -> tuple[str, ...]:
    shared: list[str] = []
    for g in a.globs:
        shared.extend(p for p in b.paths if glob_match(g, p))
        shared.extend(h for h in b.globs if globs_intersect(g, h))
    for g in b.globs:
        shared.extend(p for p in a.paths if glob_match(g, p))
    return tuple(sorted(set(shared)))


def _cross_kind(a: NormScope, b: NormScope) -> tuple[str, ...]:
    """Identifiers named by both scopes across kinds: an entity or task id equal to the other's
    path, entity or task id, or matched by the other's glob (same-kind pairs are handled before)."""
    shared = set((a.entities & (b.paths | b.tasks)) | (a.tasks & (b.paths | b.entities)))
    shared |= (b.entities & a.paths) | (b.tasks & a.paths)
    for g in a.globs:
        shared.update(x for x in b.entities | b.tasks if glob_match(g, x))
    for g in b.globs:
        shared.update(x for x in a.entities | a.tasks if glob_match(g, x))
    return tuple(sorted(shared))


def overlap(a: NormScope, b: NormScope) -> Overlap | None:
    """How two normalized scopes overlap, or None. Symmetric: same truth, basis and shared list.

    Order: shared `file_set` files (race-locked) > canonical URIs when both sides have them >
    opaque kinds > globs vs paths/globs > same entities > same task ids > cross-kind identifiers.
    """
    direct = a.paths & b.paths
    if direct:
        return Overlap("file_set", tuple(sorted(direct)), race_locked=True)
    if a.uris and b.uris:
        common = a.uris & b.uris
        return Overlap("canonical_uri", tuple(sorted(common))) if common else None
    if a.opaque or b.opaque:
        return Overlap("opaque")
    if (a.globs and (b.paths or b.globs)) or (b.globs and a.paths):
        shared = _path_overlap(a, b)
        if shared:
            return Overlap("resource_path", shared)
    common = a.entities & b.entities
    if common:
        return Overlap("entity_set", tuple(sorted(common)))
    common = a.tasks & b.tasks
    if common:
        return Overlap("task_set", tuple(sorted(common)))
    if a.entities or a.tasks or b.entities or b.tasks:
        shared = _cross_kind(a, b)
        if shared:
            return Overlap("cross_kind", shared)
    return None


def contains(container: NormScope, test: NormScope) -> bool:
    """True when every resource of `test` lies inside `container` (opaque scopes: conservatively
    yes). Glob-in-glob is decided by `glob_covers`, which is sound: it never claims a wider glob
    is inside a narrower one."""
    if container.opaque or test.opaque:
        return True
    if test.uris and container.uris and test.uris <= container.uris:
        return True
    for p in test.paths:
        if p not in container.paths and not any(glob_match(g, p) for g in container.globs):
            return False
    for g in test.globs:
        if g not in container.globs and not any(glob_covers(c, g) for c in container.globs):
            return False
    if not test.entities <= container.entities or not test.tasks <= container.tasks:
        return False
    return bool(test.paths or test.globs or test.entities or test.tasks)


def _tail(symbol: str) -> str:
    return symbol.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class DependencyOverlap(Overlap):
    """A dependency_breakage candidate (basis "dependency"): `shared` are the impacted files,
    `symbols` the used symbols that match changed ones (empty for the file-level fallback)."""

    symbols: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        return self.shared


def _symbol_clashes(editing: NormScope, using: NormScope) -> tuple[bool, set[str]]:
    """(clash?, matching used symbols). No symbol information on one side: a file-level clash."""
    if not editing.affects_symbols or not using.depends_on_symbols:
        return True, set()
    tails = {_tail(s) for s in editing.affects_symbols} | set(editing.affects_symbols)
    found = {s for s in using.depends_on_symbols if s in tails or _tail(s) in tails}
    return bool(found), found


def dependency_overlap(a: NormScope, b: NormScope) -> DependencyOverlap | None:
    """An advisory dependency_breakage candidate: one side's `impact` names the other's files."""
    hits: set[str] = set()
    symbols: set[str] = set()
    for using, editing in ((a, b), (b, a)):
        files = using.impact & editing.paths
        if files:
            clash, found = _symbol_clashes(editing, using)
            if clash:
                hits |= files
                symbols |= found
    if not hits:
        return None
    return DependencyOverlap("dependency", tuple(sorted(hits)), symbols=tuple(sorted(symbols)))

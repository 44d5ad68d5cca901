"""Scope normalization, overlap, containment and dependency candidates (spec §15.2, digest 4).

A scope is normalized once, when its intent is registered; every comparison works on the
normalized form, so `./a.py`, `a.py` and `a.py/` are the same file. The rules and their reasons
are in docs/protocol.md, "Scopes and overlap".
"""

from __future__ import annotations

from bridge.protocol.globs import glob_covers, glob_match, globs_intersect, is_glob
from bridge.protocol.slotted import Frozen, Slotted

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from typing import Any

    from bridge.protocol.registry import ResourceRegistry


SEPARATOR = "::"  # between a file and a symbol name in a symbol id (`a.py::Router.add`, issue 19)
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


_EMPTY: frozenset[str] = frozenset()


class NormScope(Slotted):
    """A normalized scope. Treat as immutable (not frozen only because frozen init is slow)."""

    __slots__ = (
        "affects_symbols",
        "depends_on_symbols",
        "entities",
        "globs",
        "impact",
        "kind",
        "opaque",
        "paths",
        "symbol_files",
        "symbol_map",
        "tasks",
        "uris",
    )
    kind: str
    paths: frozenset[str]
    globs: tuple[str, ...]
    entities: frozenset[str]
    tasks: frozenset[str]
    uris: frozenset[str]
    opaque: bool
    impact: frozenset[str]
    affects_symbols: frozenset[str]
    depends_on_symbols: frozenset[str]
    # the files of the symbol ids among `entities` (`a.py` for `a.py::f`, issue 19), and each
    # file's symbol names, parsed once here so that comparisons never parse an id again
    symbol_files: frozenset[str]
    symbol_map: tuple[tuple[str, frozenset[str]], ...]

    def __init__(
        self,
        kind: str,
        paths: frozenset[str] = _EMPTY,
        globs: tuple[str, ...] = (),
        entities: frozenset[str] = _EMPTY,
        tasks: frozenset[str] = _EMPTY,
        uris: frozenset[str] = _EMPTY,
        opaque: bool = False,
        impact: frozenset[str] = _EMPTY,
        affects_symbols: frozenset[str] = _EMPTY,
        depends_on_symbols: frozenset[str] = _EMPTY,
        symbol_files: frozenset[str] = _EMPTY,
        symbol_map: tuple[tuple[str, frozenset[str]], ...] = (),
    ) -> None:
        self.kind = kind
        self.paths = paths
        self.globs = globs
        self.entities = entities
        self.tasks = tasks
        self.uris = uris
        self.opaque = opaque
        self.impact = impact
        self.affects_symbols = affects_symbols
        self.depends_on_symbols = depends_on_symbols
        self.symbol_files = symbol_files
        self.symbol_map = symbol_map

    def replace(self, **changes: Any) -> NormScope:
        """A copy with `changes` (field name to value), as `dataclasses.replace` made it."""
        values = {n: getattr(self, n) for n in self._fields}
        values.update(changes)
        return NormScope(**values)

    def files(self) -> list[str]:
        """The file paths and patterns, for display."""
        return sorted(self.paths) + list(self.globs)

    @property
    def idents(self) -> frozenset[str]:
        """Every literal identifier the scope names (paths, entities, task ids), and the files of
        its symbols: an index keyed by these finds a symbol scope from its file and the other way."""
        if not self.entities and not self.tasks:
            return self.paths  # the common case, no new set
        return self.paths | self.entities | self.tasks | self.symbol_files


class Overlap(Frozen):
    """Why two scopes overlap. `race_locked` is true only for shared `file_set` resources."""

    __slots__ = ("basis", "race_locked", "shared")
    # "file_set", "resource_path", "entity_set", "task_set", "canonical_uri", "opaque", "cross_kind",
    # or "dependency" (from `dependency_overlap`)
    basis: str
    shared: tuple[str, ...]
    race_locked: bool

    def __init__(self, basis: str, shared: tuple[str, ...] = (), race_locked: bool = False) -> None:
        object.__setattr__(self, "basis", basis)
        object.__setattr__(self, "shared", shared)
        object.__setattr__(self, "race_locked", race_locked)


def _strs(value: Any) -> list[str]:
    # a tuple too: the coordinator's records keep their scopes' lists as tuples
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


def normalize_scope(
    scope: dict[str, Any] | Any, registry: ResourceRegistry | None = None
) -> NormScope:
    """The normalized form of a scope given as a dict or a `Scope` model (a NormScope is returned
    as is). Anything else, or a scope without a string `kind`, is an opaque `custom` scope."""
    if isinstance(scope, NormScope):
        return scope
    if not isinstance(scope, dict):
        dump = getattr(scope, "model_dump", None)
        scope = dump(mode="json", exclude_none=True) if callable(dump) else {}
        if not isinstance(scope, dict):
            scope = {}
    raw_kind = scope.get("kind")
    kind: str = raw_kind if isinstance(raw_kind, str) else "custom"
    if kind == "file_set" and registry is None and len(scope) == 2:  # fast path: a plain file list
        res = scope.get("resources")
        if isinstance(res, (list, tuple)) and all(
            isinstance(r, str) and "*" not in r and "?" not in r for r in res
        ):
            return NormScope(kind, frozenset(n for n in map(normalize_path, res) if n))
    paths: set[str] = set()
    globs: list[str] = []
    entities = frozenset(_strs(scope.get("entities"))) if kind == "entity_set" else frozenset()
    symbol_files: frozenset[str] = frozenset()
    symbol_map: tuple[tuple[str, frozenset[str]], ...] = ()
    if any(SEPARATOR in e for e in entities):  # symbol ids, in their canonical spelling
        entities, symbol_map = _symbol_entities(entities)
        symbol_files = frozenset(p for p, _ in symbol_map)
    tasks = frozenset(_strs(scope.get("task_ids"))) if kind == "task_set" else frozenset()
    if kind == "file_set":
        for r in _strs(scope.get("resources")):
            n = normalize_path(r)
            if n and is_glob(
                n
            ):  # a wildcard in a file list is read as a pattern (docs/protocol.md)
                globs.append(n)
            elif n:
                paths.add(n)
    elif kind == "resource_path" and isinstance(scope.get("pattern"), str):
        globs.append(pattern_of(scope["pattern"]))  # a literal path names its subtree
    uris = set(_strs(scope.get("canonical_uris")))
    if registry is not None:
        uris |= registry.resolve(kind, paths, globs, entities | tasks)
    raw_ext = scope.get("extensions")
    ext: dict[str, Any] = raw_ext if isinstance(raw_ext, dict) else {}
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
        symbol_files=symbol_files,
        symbol_map=symbol_map,
    )


def _symbol_entities(
    entities: frozenset[str],
) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]:
    """The entities with symbol ids spelled canonically (`./a.py::A::m` is `a.py::A.m`), and the
    symbol names per file, sorted by file."""
    from bridge.protocol.symbols import parse_symbol_id

    out: set[str] = set()
    files: dict[str, set[str]] = {}
    for e in entities:
        ref = parse_symbol_id(e)
        if ref is None:
            out.add(e)
        else:
            out.add(ref.id)
            files.setdefault(ref.path, set()).add(ref.name)
    return frozenset(out), tuple((p, frozenset(n)) for p, n in sorted(files.items()))


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

    Order: shared `file_set` files (race-locked) > symbol rules when a side names symbols and both
    consist of symbols, files and globs (`bridge.protocol.symbols`) > canonical URIs when both sides have them >
    opaque kinds > globs vs paths/globs > same entities > same task ids > cross-kind identifiers.
    """
    direct = a.paths & b.paths
    if direct:
        return Overlap("file_set", tuple(sorted(direct)), race_locked=True)
    if (
        a.symbol_files or b.symbol_files
    ):  # symbol scopes (issue 19): their rules refine the URI rule
        from bridge.protocol.symbols import symbol_overlap

        verdict = symbol_overlap(a, b)
        if verdict is not None:
            return (
                Overlap("symbol", verdict.shared, verdict.race_locked) if verdict.overlap else None
            )
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
    if test.uris and container.uris and test.uris <= container.uris and not test.symbol_files:
        return True  # (a symbol scope's URIs name its files: too coarse to judge containment by)
    for p in test.paths:
        if (
            p not in container.paths
            and not any(glob_match(g, p) for g in container.globs)
            and f"{p}{SEPARATOR}*" not in container.entities
        ):
            return False
    for g in test.globs:
        if g not in container.globs and not any(glob_covers(c, g) for c in container.globs):
            return False
    if not test.tasks <= container.tasks:
        return False
    extra = test.entities - container.entities
    if extra and not all(_symbol_inside(e, container) for e in extra):
        return False
    return bool(test.paths or test.globs or test.entities or test.tasks)


def _symbol_inside(entity: str, container: NormScope) -> bool:
    """A symbol id lies inside a scope that names its file (as a path, a glob or `path::*`) or a
    symbol it is nested in (`a.py::A.m` inside `a.py::A`)."""
    from bridge.protocol.symbols import parse_symbol_id

    ref = parse_symbol_id(entity)
    if ref is None:
        return False
    if ref.path in container.paths or any(glob_match(g, ref.path) for g in container.globs):
        return True
    prefix = ref.path + SEPARATOR
    for other in container.entities:
        if other.startswith(prefix):
            name = other[len(prefix) :]
            if name == "*" or ref.name == name or ref.name.startswith(name + "."):
                return True
    return False


def _tail(symbol: str) -> str:
    return symbol.rsplit(".", 1)[-1]


class DependencyOverlap(Overlap):
    """A dependency_breakage candidate (basis "dependency"): `shared` are the impacted files,
    `symbols` the used symbols that match changed ones (empty for the file-level fallback)."""

    __slots__ = ("symbols",)
    symbols: tuple[str, ...]

    def __init__(
        self,
        basis: str,
        shared: tuple[str, ...] = (),
        race_locked: bool = False,
        symbols: tuple[str, ...] = (),
    ) -> None:
        super().__init__(basis, shared, race_locked)
        object.__setattr__(self, "symbols", symbols)

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

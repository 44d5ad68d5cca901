"""ScopeIndex: find the live intents whose scopes may overlap a scope, without scanning them all.

- literal identifiers (normalized paths, entities, task ids; one table, so cross-kind equal names
  are found too) and canonical URIs: hash maps to intent ids;
- globs: bucketed by their literal directory prefix; an identifier only meets the globs stored
  under one of its ancestor directories (or itself), and a glob only meets identifiers and globs
  stored under its prefix's subtree (`_under` / `_glob_dirs`, maps from a directory to what lies
  below it) or globs stored at an ancestor of its prefix;
- opaque scopes (query, custom, unknown kinds) are conservatively overlapping with everything.
Candidates are then confirmed with `bridge.protocol.scope.overlap`, so the answer equals a
pairwise scan (property-tested).
"""

from __future__ import annotations

from collections import defaultdict

from bridge.core.normtable import NormTable
from bridge.protocol.globs import literal_prefix
from bridge.protocol.scope import DependencyOverlap, NormScope, Overlap, dependency_overlap, overlap


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts))]  # "", "a", "a/b" for "a/b/c"


def _dirs(path: str) -> list[str]:
    """The ancestors plus the path itself (a `**` suffix can match zero segments)."""
    return [*_ancestors(path), path]


class ScopeIndex:
    def __init__(self) -> None:
        self.scopes = NormTable()  # intent id -> its scope (the coordinator's `norms` too)
        # path, entity or task id -> the intent id naming it, or a set of them when several do
        # (one id, not a set, in the common case: a set of one costs 216 bytes per identifier)
        self._ids: dict[str, str | set[str]] = {}
        self._under: dict[str, set[str]] = defaultdict(
            set
        )  # dir -> identifiers below it (for globs)
        self._track_under = False  # built on the first glob query, then maintained
        self._globs: dict[str, set[str]] = defaultdict(
            set
        )  # literal prefix -> intent ids with globs
        self._glob_dirs: dict[str, set[str]] = defaultdict(
            set
        )  # dir -> glob prefixes at or below it
        self._uris: dict[str, set[str]] = defaultdict(set)
        self._impact: dict[str, set[str]] = defaultdict(
            set
        )  # file -> intents whose impact names it
        self._opaque: set[str] = set()

    def __len__(self) -> int:
        return len(self.scopes)

    def __contains__(self, intent_id: str) -> bool:
        return intent_id in self.scopes

    def add(self, intent_id: str, scope: NormScope) -> None:
        if intent_id in self.scopes:
            self.remove(intent_id)
        self.scopes[intent_id] = scope
        ids = self._ids
        for x in scope.idents:
            bucket = ids.get(x)
            if bucket is None:
                ids[x] = intent_id
                if self._track_under:
                    for d in _dirs(x):
                        self._under[d].add(x)
            elif isinstance(bucket, str):
                if bucket != intent_id:
                    ids[x] = {bucket, intent_id}
            else:
                bucket.add(intent_id)
        for g in scope.globs:
            prefix = literal_prefix(g)
            if prefix not in self._globs:
                for d in _dirs(prefix):
                    self._glob_dirs[d].add(prefix)
            self._globs[prefix].add(intent_id)
        for u in scope.uris:
            self._uris[u].add(intent_id)
        for f in scope.impact:
            self._impact[f].add(intent_id)
        if scope.opaque:
            self._opaque.add(intent_id)

    @staticmethod
    def _drop(table: dict[str, set[str]], key: str, intent_id: str) -> bool:
        bucket = table.get(key)
        if bucket is None:
            return False
        bucket.discard(intent_id)
        if not bucket:
            del table[key]
            return True
        return False

    def _drop_id(self, key: str, intent_id: str) -> bool:
        """Remove `intent_id` from the identifier's bucket; True when the identifier is gone."""
        bucket = self._ids.get(key)
        if bucket is None:
            return False
        if isinstance(bucket, str):
            if bucket != intent_id:
                return False
            del self._ids[key]
            return True
        bucket.discard(intent_id)
        if len(bucket) == 1:
            self._ids[key] = next(iter(bucket))
        elif not bucket:
            del self._ids[key]
            return True
        return False

    def _ids_of(self, key: str) -> set[str] | tuple[str, ...]:
        bucket = self._ids.get(key)
        if bucket is None:
            return ()
        return (bucket,) if isinstance(bucket, str) else bucket

    def remove(self, intent_id: str) -> None:
        scope = self.scopes.pop(intent_id)
        if scope is None:
            return
        for x in scope.idents:
            if self._drop_id(x, intent_id) and self._track_under:
                for d in _dirs(x):
                    self._drop(self._under, d, x)
        for g in scope.globs:
            prefix = literal_prefix(g)
            if self._drop(self._globs, prefix, intent_id):
                for d in _dirs(prefix):
                    self._drop(self._glob_dirs, d, prefix)
        for u in scope.uris:
            self._drop(self._uris, u, intent_id)
        for f in scope.impact:
            self._drop(self._impact, f, intent_id)
        self._opaque.discard(intent_id)

    def candidates(self, scope: NormScope) -> set[str]:
        """Intent ids that may overlap `scope` (a superset of the true answer, never a full scan
        unless `scope` itself is opaque or a glob rooted at the top)."""
        if scope.opaque:
            return set(self.scopes)
        out: set[str] = set(self._opaque)
        for x in scope.idents:
            out.update(self._ids_of(x))
            if self._globs:
                for d in _dirs(
                    x
                ):  # a glob stored under the identifier itself may match it ("a/**" vs "a")
                    out |= self._globs.get(d, set())
        if scope.globs and not self._track_under:
            self._track_under = True
            for ident in self._ids:
                for d in _dirs(ident):
                    self._under[d].add(ident)
        for g in scope.globs:
            prefix = literal_prefix(g)
            for ident in self._under.get(prefix, set()):
                out.update(self._ids_of(ident))
            for d in _ancestors(prefix):  # globs stored at an ancestor of our prefix
                out |= self._globs.get(d, set())
            for p in self._glob_dirs.get(prefix, set()):  # globs stored at or below our prefix
                out |= self._globs[p]
        for u in scope.uris:
            out |= self._uris.get(u, set())
        return out

    def overlapping(
        self, scope: NormScope, exclude: str | None = None
    ) -> list[tuple[str, Overlap]]:
        """Confirmed overlaps, in intent-id order (deterministic)."""
        hits = []
        for iid in sorted(self.candidates(scope)):
            if iid == exclude:
                continue
            ov = overlap(scope, self.scopes[iid])
            if ov is not None:
                hits.append((iid, ov))
        return hits

    def impacted(
        self, scope: NormScope, exclude: str | None = None
    ) -> list[tuple[str, DependencyOverlap]]:
        """dependency_breakage candidates: intents whose impact names our files, or whose files our
        impact names."""
        cands: set[str] = set()
        if not self._impact and not scope.impact:
            return []
        for p in scope.paths:
            cands |= self._impact.get(p, set())
        for f in scope.impact:
            cands.update(self._ids_of(f))  # confirmed below: only paths count
        hits = []
        for iid in sorted(cands):
            if iid == exclude:
                continue
            other = self.scopes[iid]
            if overlap(scope, other) is not None:
                continue
            dep = dependency_overlap(scope, other)
            if dep is not None:
                hits.append((iid, dep))
        return hits

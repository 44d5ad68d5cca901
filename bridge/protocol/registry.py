"""The session resource registry (spec §15.2.3, digest 4.6): aliases of several kinds mapped to
canonical URIs, so scopes of different kinds can be compared by what they name.

Alias values are normalized like scope entries: `file_set` values as paths, `resource_path`
values as globs (a literal `resource_path` value names a subtree, `v/**`, as in scopes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bridge.protocol.globs import glob_match, globs_intersect, is_glob
from bridge.protocol.scope import normalize_path, pattern_of


class ResourceRegistry:
    def __init__(self, mappings: Iterable[dict[str, Any]] | dict[str, Any] | None = ()) -> None:
        """From the mapping list or the whole `resource_registry` object `{"mappings": [...]}`;
        anything malformed yields fewer mappings, never an error."""
        self._exact: dict[tuple[str, str], set[str]] = {}
        self._files: dict[str, set[str]] = {}  # normalized file_set alias -> uris
        self._globs: list[tuple[str, str]] = []  # (resource_path alias glob, uri)
        if isinstance(mappings, dict):  # the whole `resource_registry` object
            mappings = mappings.get("mappings") or []
        self.mappings = (
            [m for m in mappings if isinstance(m, dict)]
            if isinstance(mappings, (list, tuple))
            else []
        )
        for m in self.mappings:
            uri = m.get("canonical_uri")
            aliases = m.get("aliases")
            if not isinstance(uri, str) or not isinstance(aliases, list):
                continue
            for alias in aliases:
                if not isinstance(alias, dict):
                    continue
                kind, value = alias.get("kind"), alias.get("value")
                if not isinstance(kind, str) or not isinstance(value, str):
                    continue
                if kind == "file_set":
                    n = normalize_path(value)
                    if is_glob(n):  # a wildcard in a file alias is a pattern, as in scopes
                        self._globs.append((n, uri))
                    elif n:
                        self._files.setdefault(n, set()).add(uri)
                elif kind == "resource_path":
                    self._globs.append((pattern_of(value), uri))
                else:
                    self._exact.setdefault((kind, value), set()).add(uri)

    def __bool__(self) -> bool:
        return bool(self._exact or self._files or self._globs)

    def uris_for(self, kind: str, value: str) -> frozenset[str]:
        """Canonical URIs of one scope entry. `file_set` values are paths (a wildcard makes them a
        glob), `resource_path` values are globs; other kinds match aliases exactly."""
        if kind in ("file_set", "resource_path"):
            n = normalize_path(value)
            if kind == "resource_path" or is_glob(n):
                return self._for_glob(pattern_of(n) if kind == "resource_path" else n)
            return self._for_path(n)
        return frozenset(self._exact.get((kind, value), ()))

    def _for_path(self, path: str) -> frozenset[str]:
        out = set(self._files.get(path, ()))
        out.update(uri for g, uri in self._globs if glob_match(g, path))
        return frozenset(out)

    def _for_glob(self, pattern: str) -> frozenset[str]:
        out = {uri for g, uri in self._globs if globs_intersect(g, pattern)}
        for path, uris in self._files.items():
            if glob_match(pattern, path):
                out |= uris
        return frozenset(out)

    def resolve(
        self, kind: str, paths: Iterable[str], globs: Iterable[str], entities: Iterable[str]
    ) -> set[str]:
        """URIs of normalized paths, globs and entities (`kind` names the entities' kind)."""
        out: set[str] = set()
        for p in paths:
            out |= self._for_path(p)
        for g in globs:
            out |= self._for_glob(g)
        ident_kind = kind if kind in ("entity_set", "task_set") else "entity_set"
        for e in entities:
            out |= self._exact.get((ident_kind, e), set())
        return out

    def to_json(self) -> dict[str, Any]:
        return {"mappings": self.mappings}

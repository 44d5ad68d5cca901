"""The session resource registry (spec §15.2.3): aliases of several kinds mapped to canonical URIs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bridge.protocol.globs import globs_intersect, is_glob


class ResourceRegistry:
    def __init__(self, mappings: Iterable[dict[str, Any]] = ()) -> None:
        self._exact: dict[tuple[str, str], set[str]] = {}
        self._globs: list[tuple[str, str]] = []
        self.mappings = list(mappings)
        for m in self.mappings:
            uri = m.get("canonical_uri")
            for alias in m.get("aliases", []) if isinstance(uri, str) else []:
                kind, value = alias.get("kind"), alias.get("value")
                if not isinstance(kind, str) or not isinstance(value, str):
                    continue
                if kind == "resource_path" and is_glob(value):
                    self._globs.append((value, uri))
                key = ("file_set" if kind == "resource_path" and not is_glob(value) else kind, value)
                self._exact.setdefault(key, set()).add(uri)

    def __bool__(self) -> bool:
        return bool(self.mappings)

    def resolve(self, kind: str, paths: Iterable[str], globs: Iterable[str], entities: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for p in paths:
            out |= self._exact.get(("file_set", p), set())
            out |= {uri for g, uri in self._globs if globs_intersect(g, p)}
        for g in globs:
            out |= self._exact.get(("resource_path", g), set())
        for e in entities:
            out |= self._exact.get(("entity_set", e), set())
        return out

    def to_json(self) -> dict[str, Any]:
        return {"mappings": self.mappings}

"""Scopes as front-ends see them: what a scope names (for display) and whether it covers files.

The front-ends never normalize scopes or compute overlaps themselves; they ask these functions
(or the `Session` queries built on them). A scope that cannot be read names nothing and covers
nothing: it is never raised to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bridge.protocol.scope import NormScope, Overlap, normalize_path, normalize_scope, overlap

__all__ = ["Overlap", "coverage", "normalize_path", "scope_items", "scope_paths"]


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
    """Only the file paths and patterns of a scope (for a file tree)."""
    norm = _norm(scope)
    return [] if norm is None else norm.files()


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

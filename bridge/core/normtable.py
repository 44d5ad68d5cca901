"""NormTable: each live intent's normalized scope, kept small and out of the collector's way.

Most scopes are a plain list of files. As a `NormScope` (a record of twelve fields and a
frozenset) such a scope costs about 340 bytes and two objects the garbage collector tracks for as
long as the intent lives; every full collection visits them (issue 17: loop stalls). The table
keeps it as a tuple of its paths instead, or as the path alone when there is one (about 50
bytes or none; a tuple of strings is dropped from the collector's tracking the first time it is
seen, a string is never tracked) and builds the `NormScope` again when asked
for it: a frozenset of a few paths, well under a microsecond. Any other scope is kept as it is.
Readers get an equal `NormScope` either way, never the stored object.
"""

from __future__ import annotations

from collections.abc import Iterator

from bridge.protocol.scope import NormScope

_Stored = NormScope | tuple[str, ...] | str


def _plain(norm: NormScope) -> bool:
    """A file list and nothing else: all a tuple of its paths has to remember."""
    return (
        type(norm) is NormScope
        and norm.kind == "file_set"
        and not norm.globs
        and not norm.entities
        and not norm.tasks
        and not norm.uris
        and not norm.opaque
        and not norm.impact
        and not norm.affects_symbols
        and not norm.depends_on_symbols
        and not norm.symbol_files
        and not norm.symbol_map
    )


def _pack(norm: NormScope) -> _Stored:
    if not _plain(norm):
        return norm
    if len(norm.paths) == 1:  # the path itself: no tuple at all (48 bytes less, issue 17)
        (path,) = norm.paths
        return path
    return tuple(norm.paths)


def _unpack(stored: _Stored) -> NormScope:
    if type(stored) is str:
        return NormScope("file_set", frozenset((stored,)))
    if type(stored) is tuple:
        return NormScope("file_set", frozenset(stored))
    assert isinstance(stored, NormScope)
    return stored


class NormTable:
    """intent id -> NormScope, with the mapping methods the coordinator uses."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: dict[str, _Stored] = {}

    def __setitem__(self, intent_id: str, norm: NormScope) -> None:
        self._rows[intent_id] = _pack(norm)

    def __getitem__(self, intent_id: str) -> NormScope:
        return _unpack(self._rows[intent_id])

    def get(self, intent_id: str) -> NormScope | None:
        stored = self._rows.get(intent_id)
        return None if stored is None else _unpack(stored)

    def pop(self, intent_id: str) -> NormScope | None:
        stored = self._rows.pop(intent_id, None)
        return None if stored is None else _unpack(stored)

    def __contains__(self, intent_id: object) -> bool:
        return intent_id in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

"""The two small containers the session state is built from.

- `Bounded`: an insertion-ordered map that forgets its oldest entries past a limit (histories of
  ended intents, committed operations, used ids: bounded memory, however long the session runs).
- `MultiIndex`: a one-to-many map (principal -> its intents, intent -> its conflicts, ...). A key
  whose last value goes is dropped, so the index never holds empty sets and `key in index` means
  "has at least one value".
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping, Set
from typing import Any, Generic, TypeVar

_NONE: frozenset[Any] = frozenset()
K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=Hashable)
T = TypeVar("T")


class Bounded(OrderedDict[str, T]):
    """An insertion-ordered map that forgets its oldest entries past `limit`."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: T) -> None:
        """Set `key` (as the newest entry, even when it was there already), then forget the oldest
        entries past the limit."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class MultiIndex(Generic[K, V]):
    """key -> the set of its values; empty sets are never kept."""

    __slots__ = ("_sets",)

    def __init__(self) -> None:
        self._sets: dict[K, set[V]] = {}

    def add(self, key: K, value: V) -> None:
        values = self._sets.get(key)
        if values is None:
            self._sets[key] = {value}
        else:
            values.add(value)

    def discard(self, key: K, value: V) -> None:
        """Remove one value (absent keys and values are ignored); the key goes with its last value."""
        values = self._sets.get(key)
        if values is None:
            return
        values.discard(value)
        if not values:
            del self._sets[key]

    def get(self, key: K) -> Set[V]:
        """The values of `key` (empty when none). A live view: copy it (`sorted`, `set`) before
        changing the index while iterating."""
        return self._sets.get(key, _NONE)

    def __contains__(self, key: object) -> bool:
        return key in self._sets

    def __iter__(self) -> Iterator[K]:
        return iter(self._sets)

    def __len__(self) -> int:
        return len(self._sets)

    def __eq__(self, other: object) -> bool:
        """Equal to another MultiIndex, or to a mapping of keys to sets, with the same content."""
        if isinstance(other, MultiIndex):
            return self._sets == other._sets
        if isinstance(other, Mapping):
            return self._sets == dict(other)
        return NotImplemented  # (defining __eq__ makes instances unhashable, as a mutable map should be)

    def __repr__(self) -> str:
        return f"MultiIndex({self._sets!r})"

"""The two small containers the session state is built from.

- `Bounded`: an insertion-ordered map that forgets its oldest entries past a limit (histories of
  ended intents, committed operations, used ids: bounded memory, however long the session runs).
- `IdHistory`: the same for keys put once, in less memory.
- `MultiIndex`: a one-to-many map (principal -> its intents, intent -> its conflicts, ...). A key
  whose last value goes is dropped, so the index never holds empty sets and `key in index` means
  "has at least one value".
"""

from __future__ import annotations

from collections import OrderedDict, deque
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


class IdHistory(dict[Hashable, T]):
    """A `Bounded` for keys that are put once (used ids, recent message ids): a dict and a deque
    of its keys, about 30 bytes an entry where an `OrderedDict` costs 66 (issue 17). Putting a
    key again moves it to the end as `Bounded` does, in time linear in the size."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self._order: deque[Hashable] = deque()

    def put(self, key: Hashable, value: T) -> None:
        if key in self:
            del self[key]
            self._order.remove(key)
        self[key] = value
        order = self._order
        order.append(key)
        while len(order) > self.limit:
            self.pop(order.popleft(), None)


class MultiIndex(Generic[K, V]):
    """key -> the set of its values (a dict of them: a third of a set's size, and in the order
    they came); empty sets are never kept."""

    __slots__ = ("_sets",)

    def __init__(self) -> None:
        self._sets: dict[K, dict[V, None]] = {}

    def add(self, key: K, value: V) -> None:
        values = self._sets.get(key)
        if values is None:
            self._sets[key] = {value: None}
        else:
            values[value] = None

    def discard(self, key: K, value: V) -> None:
        """Remove one value (absent keys and values are ignored); the key goes with its last value."""
        values = self._sets.get(key)
        if values is None:
            return
        values.pop(value, None)
        if not values:
            del self._sets[key]

    def get(self, key: K) -> Set[V]:
        """The values of `key` (empty when none). A live view: copy it (`sorted`, `set`) before
        changing the index while iterating."""
        values = self._sets.get(key)
        return _NONE if values is None else values.keys()

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
            return {k: set(v) for k, v in self._sets.items()} == dict(other)
        return NotImplemented  # (defining __eq__ makes instances unhashable, as a mutable map should be)

    def __repr__(self) -> str:
        return f"MultiIndex({self._sets!r})"

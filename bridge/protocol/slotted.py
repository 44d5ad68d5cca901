"""Small records without `dataclasses` (issue 17, start-up).

`import dataclasses` imports inspect, ast, dis and tokenize: about 25 ms of CPU, a quarter of
a Claude Code hook's start. The few records on the hook's path (scopes and their overlap, the
workspace's repo, file and runtime records) derive from these classes instead: each writes its
own `__init__`, and gets from here what `@dataclass(eq=True)` would add, namely equality field
by field with an object of the same class, a repr naming the fields, and for `Frozen`
immutability and a hash. The fields are the `__slots__` of the class and its bases, in the
order the classes annotate them (bases first).
"""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids (issue 17)
if TYPE_CHECKING:
    from typing import Any, ClassVar


class Slotted:
    """A mutable record: equal when of the same class with equal fields; unhashable."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: list[str] = []
        for klass in reversed(cls.__mro__):  # each class's slots in the order it annotates them
            slots = klass.__dict__.get("__slots__", ())
            slots = {slots} if isinstance(slots, str) else set(slots)
            own = klass.__dict__.get("__annotations__", {})  # noqa: RUF063 (inspect is what we avoid)
            names.extend(n for n in own if n in slots)
        cls._fields = tuple(names)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    # defining __eq__ without __hash__ makes the class unhashable, as a mutable record should be

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__qualname__}({inner})"


class Frozen(Slotted):
    """An immutable record (its `__init__` sets fields with `object.__setattr__`); hashable."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")

    def __hash__(self) -> int:
        return hash(self._values())

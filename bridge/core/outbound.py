"""What the core hands back to its transport: messages with recipients, and call results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class To:
    """Recipients: everyone admitted (`principals is None`) or the named principals."""

    principals: tuple[str, ...] | None = None
    ALL: ClassVar[To]  # everyone admitted (set below)

    @classmethod
    def only(cls, *principal_ids: str) -> To:
        return cls(tuple(dict.fromkeys(p for p in principal_ids if p)))

    @property
    def is_all(self) -> bool:
        return self.principals is None

    def includes(self, principal_id: str) -> bool:
        return self.principals is None or principal_id in self.principals


To.ALL = To(None)


@dataclass(frozen=True, slots=True)
class Outbound:
    message: dict[str, Any]
    to: To


@dataclass(slots=True)
class HandleResult:
    outbound: list[Outbound] = field(default_factory=list)
    accepted: bool = False
    admitted: str | None = None
    changed: bool = False
    # Messages for the originating connection when it has no admitted principal (failed HELLO, garbage).
    reply_to_socket: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class TickResult:
    outbound: list[Outbound] = field(default_factory=list)
    changed: bool = False

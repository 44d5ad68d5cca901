"""Typed, read-only records of the session as a participant sees it.

Each record is a slotted dataclass built from the `SessionView`'s state by `of(...)`: a snapshot
to read, never to change (the view changes only by folding messages). They are not `frozen`: a
frozen init costs five times as much, and the dashboard builds thousands a second. The builders
accept whatever the view holds (the compact late-join state, live messages, a reference client's
shapes): a missing or mistyped field takes its default, it never raises. Times are float Unix
seconds (an RFC 3339 string is converted), or None when unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.client.scope import scope_items, scope_paths, scope_symbols
from bridge.client.text import short
from bridge.protocol.stamps import format_ts, parse_ts

AUTHORITY = frozenset({"owner", "arbiter"})  # roles that may settle any conflict


def as_time(value: Any) -> float | None:
    """A timestamp as float seconds, from a number or an RFC 3339 string (None if unreadable)."""
    if type(value) is float:  # the common case, first
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return parse_ts(value)


def format_time(ts: float) -> str:
    """A Unix time as the protocol writes it (RFC 3339, UTC, microseconds)."""
    return format_ts(ts)


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _strs(value: Any) -> tuple[str, ...]:
    if not value or not isinstance(value, list | tuple):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(slots=True)
class Participant:
    principal_id: str
    kind: str = "agent"  # human | agent | service
    display_name: str = ""
    roles: tuple[str, ...] = ()
    # the last heartbeat status: idle, working, blocked, ...; "offline" after GOODBYE
    status: str = ""
    is_available: bool = True
    connected: bool = True
    last_seen: float | None = None

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> Participant:
        pid = _str(d.get("principal_id"))
        ptype = d.get("principal_type")
        kind = (
            ptype
            if isinstance(ptype, str) and ptype
            else (pid.split(":", 1)[0] if ":" in pid else "agent")
        )
        return cls(
            principal_id=pid,
            kind=kind,
            display_name=_str(d.get("display_name")),
            roles=_strs(d.get("roles")),
            status=_str(d.get("status")),
            is_available=d.get("is_available", True) is not False,
            connected=d.get("connected", True) is not False,
            last_seen=as_time(d.get("last_seen")),
        )

    @property
    def name(self) -> str:
        """The display name, or the id without its kind when there is none."""
        return (
            short(self.principal_id)
            if self.display_name in ("", self.principal_id)
            else self.display_name
        )

    @property
    def online(self) -> bool:
        return self.connected and self.status != "offline"

    @property
    def available(self) -> bool:
        """Connected and not marked unavailable (a human can act on its behalf otherwise)."""
        return self.is_available and self.connected

    @property
    def has_authority(self) -> bool:
        """An owner or arbiter: may be escalated to, and may decide any conflict or claim."""
        return bool(AUTHORITY & set(self.roles))


@dataclass(slots=True)
class Intent:
    intent_id: str
    principal_id: str
    objective: str = ""
    scope: Mapping[str, Any] = field(default_factory=dict)
    state: str = "ACTIVE"  # ACTIVE | SUSPENDED (only live intents are in the view)
    priority: str = "normal"
    received_at: float | None = None
    expires_at: float | None = None
    deferred_by: tuple[str, ...] = ()
    worktree: str | None = None  # the linked worktree it was announced from (None: the main one)
    branch: str | None = None

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> Intent:
        return cls(
            intent_id=_str(d.get("intent_id")),
            principal_id=_str(d.get("principal_id")),
            objective=_str(d.get("objective")),
            scope=_map(d.get("scope")),
            state=_str(d.get("state"), "ACTIVE"),
            priority=_str(d.get("priority"), "normal"),
            received_at=as_time(d.get("received_at")),
            expires_at=as_time(d.get("expires_at")),
            deferred_by=_strs(d.get("deferred_by")),
            worktree=_opt_str(d.get("worktree")),
            branch=_opt_str(d.get("branch")),
        )

    @property
    def files(self) -> list[str]:
        """What the scope covers, for display (files and patterns, else entities, tasks, URIs)."""
        return scope_items(self.scope)

    @property
    def paths(self) -> list[str]:
        """Only the file paths and patterns of the scope."""
        return scope_paths(self.scope)

    @property
    def symbols(self) -> dict[str, set[str]]:
        """The symbol names the scope claims, by file (empty for a scope of whole files)."""
        return scope_symbols(self.scope) if self.scope.get("kind") == "entity_set" else {}

    @property
    def scope_kind(self) -> str:
        return _str(self.scope.get("kind"), "?")

    @property
    def suspended(self) -> bool:
        """Its owner is unavailable: the intent can be taken over (INTENT_CLAIM)."""
        return self.state == "SUSPENDED"

    def ttl_left(self, now: float) -> float | None:
        return None if self.expires_at is None else self.expires_at - now


@dataclass(slots=True)
class Conflict:
    conflict_id: str
    category: str = ""
    severity: str = ""
    state: str = "OPEN"  # OPEN | ACKED | ESCALATED (closed conflicts leave the view)
    related_intents: tuple[str, ...] = ()
    related_ops: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    description: str = ""
    created_at: float | None = None
    escalated_to: str | None = None
    frozen: bool = False
    due_at: float | None = None  # the resolution deadline the coordinator announced, if any

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> Conflict:
        return cls(
            conflict_id=_str(d.get("conflict_id")),
            category=_str(d.get("category")),
            severity=_str(d.get("severity")),
            state=_str(d.get("state"), "OPEN"),
            related_intents=_strs(d.get("related_intents")),
            related_ops=_strs(d.get("related_ops")),
            principals=_strs(d.get("principals")),
            description=_str(d.get("description")),
            created_at=as_time(d.get("created_at")),
            escalated_to=_opt_str(d.get("escalated_to")),
            frozen=d.get("frozen") is True,
            due_at=as_time(d.get("due_at")),
        )

    @property
    def escalated(self) -> bool:
        return self.state == "ESCALATED"


@dataclass(slots=True)
class FileState:
    """The last commit to one file the session has seen."""

    path: str
    state_ref: str | None = None
    op_id: str | None = None
    principal_id: str = ""

    @classmethod
    def of(cls, path: str, d: Mapping[str, Any]) -> FileState:
        return cls(
            path=path,
            state_ref=_opt_str(d.get("state_ref")),
            op_id=_opt_str(d.get("op_id")),
            principal_id=_str(d.get("principal_id")),
        )


@dataclass(slots=True)
class Policies:
    """The session's policies a front-end shows or acts on (from SESSION_INFO)."""

    security_profile: str = ""
    compliance_profile: str = ""
    execution_model: str = ""
    resolution_timeout_sec: float | None = None
    heartbeat_interval_sec: float | None = None
    intent_claim_approval: str = "governance"
    intent_claim_grace_period_sec: float = 30.0

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> Policies:
        gov, live = _map(d.get("governance_policy")), _map(d.get("liveness_policy"))

        def positive(value: Any) -> float | None:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
            return float(value) if ok else None

        return cls(
            security_profile=_str(d.get("security_profile")),
            compliance_profile=_str(d.get("compliance_profile")),
            execution_model=_str(d.get("execution_model")),
            resolution_timeout_sec=positive(gov.get("resolution_timeout_sec")),
            heartbeat_interval_sec=positive(live.get("heartbeat_interval_sec")),
            intent_claim_approval=_str(live.get("intent_claim_approval"), "governance"),
            intent_claim_grace_period_sec=positive(live.get("intent_claim_grace_period_sec"))
            or 30.0,
        )

    @property
    def profiles(self) -> tuple[str, str, str]:
        return self.security_profile, self.compliance_profile, self.execution_model


@dataclass(slots=True)
class Counts:
    connected: int = 0  # participants
    intents: int = 0
    conflicts: int = 0


@dataclass(slots=True)
class Holding:
    """A live intent whose scope overlaps some files, and how."""

    intent: Intent
    basis: str  # file_set, symbol, resource_path, entity_set, task_set, canonical_uri, cross_kind
    shared: tuple[str, ...] = ()
    # they share a file or a symbol: a second announce on them is refused (STALE_INTENT)
    race_locked: bool = False


@dataclass(slots=True)
class SameFile:
    """A live intent on other symbols of a file we claim symbols of: no overlap, a note."""

    intent: Intent
    path: str
    symbols: tuple[str, ...] = ()  # the symbols of `path` it claims

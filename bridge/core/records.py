"""The coordinator's records. Each one round-trips through plain JSON for snapshots."""

from __future__ import annotations

from dataclasses import Field, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Self

from bridge.core.compact import Frozen, Kept, frozen_scope, pack, thaw, unpack
from bridge.core.residual import Shape, join, message_id, split

_FIELDS: dict[type, tuple[str, ...]] = {}  # record class -> its public field names


class JsonRecord:
    __slots__ = ()  # the records are slotted dataclasses: no per-instance __dict__
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # every record is a dataclass

    @classmethod
    def public_fields(cls) -> tuple[str, ...]:
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(f.name for f in fields(cls) if not f.name.startswith("_"))
        return names

    def to_json(self) -> dict[str, Any]:
        """The record's public fields as a shallow dict: its lists and dicts are the record's own,
        so encode it (or copy it) before the record changes. Records hold plain JSON values only;
        `dataclasses.asdict` deep-copied them and made a 10,000-intent snapshot take 1.5 s."""
        return {k: getattr(self, k) for k in self.public_fields()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        names = cls.public_fields()
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(slots=True)
class Participant(JsonRecord):
    principal_id: str
    principal_type: str
    display_name: str
    roles: list[str]
    capabilities: list[str]
    instance_id: str
    joined_at: float
    last_seen: float
    status: str = "idle"
    is_available: bool = True
    connected: bool = True  # False after GOODBYE or once its last connection is gone
    transient: bool = (
        False  # a one-shot observer probe (status, git guard): never shown, forgotten on leaving
    )
    backend: dict[str, Any] | None = None
    last_message_id: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "principal_id": self.principal_id,
            "principal_type": self.principal_type,
            "display_name": self.display_name,
            "roles": list(self.roles),
            "status": self.status,
            "is_available": self.is_available,
            "connected": self.connected,
            "last_seen": self.last_seen,
        }


class _Rare:
    """The fields most intents never set, apart: an `Intent` is 40 bytes smaller without their
    six slots (issue 17; 48 once rounded to the allocator's 16), and the few intents that set one
    (an update, a deferral, a linked worktree's branch) pay for this object (80 bytes)."""

    __slots__ = (
        "assumptions",
        "branch",
        "deferred_by",
        "parent_intent_id",
        "suspended_reason",
        "update",
    )

    def __init__(self) -> None:
        for name, default in _RARE.items():
            setattr(self, name, default)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _RARE)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rare) and self._values() == other._values()

    def __repr__(self) -> str:
        return f"_Rare{self._values()!r}"


_RARE: dict[str, Any] = {
    "assumptions": (),
    "parent_intent_id": None,
    "update": None,
    "deferred_by": (),
    "suspended_reason": None,
    "branch": None,
}


_RARE_DEFAULTS = tuple(_RARE.values())


def _rare_field(name: str, default: Any) -> property:
    def get(self: Intent) -> Any:
        rare = self._rare
        return default if rare is None else getattr(rare, name)

    def put(self: Intent, value: Any) -> None:
        rare = self._rare
        unset = value is default or (type(value) is type(default) and value == default)
        if rare is None:
            if unset:
                return
            rare = self._rare = _Rare()
        setattr(rare, name, value)
        if unset and rare._values() == _RARE_DEFAULTS:
            self._rare = None  # all back to their defaults: as if never set (and equal to one)

    return property(get, put)


@dataclass(slots=True)
class Intent(JsonRecord):
    intent_id: str
    principal_id: str
    if TYPE_CHECKING:  # a property over `_objective`, an init argument all the same
        objective: str
    else:
        _objective: str | tuple[str]  # a long objective is boxed (`_box`)
    scope: Frozen | dict[str, Any]  # `compact.freeze`d by the coordinator: read it with `thaw`
    state: str
    received_at: float
    expires_at: float
    ttl_sec: float
    priority: str = "normal"
    # the accepted INTENT_ANNOUNCE envelope (late-join replay, snapshots; read it with
    # `announce_envelope`): with `_shape` set, only what this record does not hold
    # (`residual.split`), else whole (`compact.pack`); decoded in snapshots
    announce: Kept | None = None
    # None while it is the announce's own id and the residual holds it: read `latest_message_id`
    last_message_id: str | None = None
    worktree: str | None = None  # the checkout the intent is about (None: the main worktree)
    _shape: Shape | None = None  # set when `announce` is a residual
    _rare: _Rare | None = None  # the fields below, once one of them is set
    if TYPE_CHECKING:  # properties over `_rare` (`_rare_field`), init arguments all the same
        # tuples, not lists, here and in `scope` (`compact.frozen_scope`): a record then holds
        # nothing the garbage collector keeps tracking but itself (issue 17: stalls)
        assumptions: tuple[str, ...] = ()
        parent_intent_id: str | None = None
        update: Kept | None = None  # the latest accepted INTENT_UPDATE, kept as `announce` is
        deferred_by: tuple[str, ...] = ()
        suspended_reason: str | None = None  # owner_left (GOODBYE transfer) or owner_unavailable
        branch: str | None = None  # the worktree's branch, as the announcer reported it

    def keep_announce(self, raw: dict[str, Any], scope_source: Any = None) -> None:
        """Keep `raw`, this record's announce: as its residual when `join` gives it back exactly,
        else whole. `scope_source`: the object this record's scope was frozen from."""
        parts = split(raw, self.intent_id, self.objective, self.scope, scope_source)
        if parts is None or self.last_message_id is None:
            self.announce, self._shape = pack(raw), None
        else:
            self._shape, self.announce = parts
            if self.last_message_id == raw["message_id"]:
                self.last_message_id = None  # the residual holds it (`latest_message_id`)

    def latest_message_id(self) -> str | None:
        """The id of the last accepted message about this intent."""
        if self.last_message_id is None and self._shape is not None:
            assert type(self.announce) is bytes
            return message_id(self.announce)
        return self.last_message_id

    def announce_envelope(self) -> dict[str, Any] | None:
        """A new copy of the kept announce (None when there is none)."""
        shape = self._shape
        if shape is None:
            return unpack(self.announce)
        assert type(self.announce) is bytes
        return join(shape, self.announce, self.intent_id, self.objective, self.scope)

    def detach_announce(self) -> None:
        """Keep the announce whole from now on: call before changing the values it shares with
        this record (objective, scope, message id)."""
        if self._shape is not None:
            self.last_message_id = self.latest_message_id()
            self.announce, self._shape = pack(self.announce_envelope() or {}), None

    def to_json(self) -> dict[str, Any]:
        data = JsonRecord.to_json(self)  # not super(): slotted dataclasses are rebuilt classes
        data["scope"] = thaw(self.scope)
        data["announce"] = self.announce_envelope()
        data["last_message_id"] = self.latest_message_id()
        data["update"] = unpack(self.update)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Intent:
        names = cls.public_fields()
        values = {k: v for k, v in data.items() if k in names}
        announce = values.pop("announce", None)  # decoded in snapshots, kept compact
        if isinstance(values.get("update"), dict):
            values["update"] = pack(values["update"])
        values["scope"] = frozen_scope(values["scope"])
        values["assumptions"] = tuple(values.get("assumptions") or ())
        values["deferred_by"] = tuple(values.get("deferred_by") or ())
        record = cls(**values)
        if isinstance(announce, dict):
            record.keep_announce(announce)
        else:
            record.announce = announce
        return record

    def public(self) -> dict[str, Any]:
        return {
            "intent_id": self.intent_id,
            "principal_id": self.principal_id,
            "objective": self.objective,
            "scope": thaw(self.scope),
            "state": self.state,
            "priority": self.priority,
            "received_at": self.received_at,
            "expires_at": self.expires_at,
            "deferred_by": list(self.deferred_by),
            "worktree": self.worktree,
            "branch": self.branch,
        }


_INTENT_FIELDS = (  # public, in the order snapshots have always listed them
    "intent_id",
    "principal_id",
    "objective",
    "scope",
    "state",
    "received_at",
    "expires_at",
    "ttl_sec",
    "priority",
    "assumptions",
    "parent_intent_id",
    "announce",
    "update",
    "last_message_id",
    "deferred_by",
    "suspended_reason",
    "worktree",
    "branch",
)
_intent_init = Intent.__init__
# An objective longer than this is kept in a one-element tuple. CPython stops tracking a tuple of
# strings at the first collection that sees it. So a full collection, which reads the header of
# every object a record points to, reads the small tuple (packed among other small objects)
# instead of the long string's, which sits on pages of its own: at 10,000 intents of 8 KiB that
# took an in-process full collection from 6.4-8.7 ms to 1.7-3.3 (issue 17: loop stalls). 48 bytes per long
# objective; short ones, allocated among the small objects anyway, stay as they are.
BOX_OVER = 256


def _box(objective: str) -> str | tuple[str]:
    return (objective,) if len(objective) > BOX_OVER else objective


def _get_objective(self: Any) -> str:
    value = self._objective
    return value if type(value) is str else value[0]


def _set_objective(self: Any, value: str) -> None:
    self._objective = _box(value)


def _init_intent(self: Intent, *args: Any, **kwargs: Any) -> None:
    if "objective" in kwargs:
        kwargs["_objective"] = _box(kwargs.pop("objective"))
    elif len(args) > 2:
        args = (*args[:2], _box(args[2]), *args[3:])
    if kwargs.keys().isdisjoint(_RARE):
        _intent_init(self, *args, **kwargs)
        return
    rare = {name: kwargs.pop(name) for name in _RARE if name in kwargs}
    _intent_init(self, *args, **kwargs)
    for name, value in rare.items():
        setattr(self, name, value)


_FIELDS[Intent] = _INTENT_FIELDS
setattr(Intent, "__init__", _init_intent)  # noqa: B010 (mypy: a method cannot be assigned)
for _name, _default in _RARE.items():
    setattr(Intent, _name, _rare_field(_name, _default))
setattr(Intent, "objective", property(_get_objective, _set_objective))  # noqa: B010


@dataclass(slots=True)
class Operation(JsonRecord):
    op_id: str
    principal_id: str
    target: str
    op_kind: str
    state: str
    intent_id: str | None = None
    state_ref_before: str | None = None
    state_ref_after: str | None = None
    batch_id: str | None = None
    authorized: bool = False
    created_at: float = 0.0
    message_id: str | None = None
    worktree: str | None = None  # its intent's worktree: the disk and history it is checked against


@dataclass(slots=True)
class Target(JsonRecord):
    """The last committed state of one target."""

    target: str
    state_ref: str | None
    op_id: str
    principal_id: str
    committed_at: float
    commit: dict[str, Any] | None = None  # the accepted commit envelope (late-join replay)
    # Writes in flight (docs/protocol.md): the commit's state_ref_before, whether its write has been
    # seen on disk (records from older snapshots count as landed), and its intent.
    base: str | None = None
    landed: bool = True
    intent_id: str | None = None
    worktree: str | None = (
        None  # a linked worktree's own record of the file (None: the main worktree)
    )


@dataclass(slots=True)
class Conflict(JsonRecord):
    conflict_id: str
    category: str
    severity: str
    state: str
    related_intents: list[str]
    related_ops: list[str]
    principals: list[str]
    created_at: float
    description: str = ""
    basis: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] | None = None
    escalated_to: str | None = None
    escalated_at: float | None = None
    resolution_id: str | None = None
    resolved_by: str | None = None
    acks: dict[str, str] = field(default_factory=dict)
    due_at: float | None = None  # next governance deadline (resolution timeout or frozen phase)
    frozen_at: float | None = None
    phase: int = 0  # 0 = not frozen; 1, 2 = frozen phases (phase 3 ends the conflict)
    partial_winner: str | None = None  # phase 2: the one higher-priority intent allowed to proceed

    def public(self) -> dict[str, Any]:
        return {
            "conflict_id": self.conflict_id,
            "category": self.category,
            "severity": self.severity,
            "state": self.state,
            "related_intents": list(self.related_intents),
            "related_ops": list(self.related_ops),
            "principals": list(self.principals),
            "created_at": self.created_at,
            "description": self.description,
            "escalated_to": self.escalated_to,
            "frozen": self.frozen_at is not None,
            "phase": self.phase,
            "due_at": self.due_at,
        }


@dataclass(slots=True)
class Deferral(JsonRecord):
    deferral_id: str
    principal_id: str
    scope: dict[str, Any]
    observed_intent_ids: list[str]
    observed_principals: list[str]
    received_at: float
    expires_at: float
    reason: str = "yielded"
    message_id: str | None = None
    # Principals whose intent ending resolves the deferral (§15.5.1 condition 3): the sender's
    # `observed_principals`, plus `observed_intent_ids` entries that name no intent (conflated fields).
    watch_principals: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "deferral_id": self.deferral_id,
            "principal_id": self.principal_id,
            "scope": self.scope,
            "observed_intent_ids": list(self.observed_intent_ids),
            "observed_principals": list(self.observed_principals),
            "expires_at": self.expires_at,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Claim(JsonRecord):
    claim_id: str
    claimer: str
    original_intent_id: str
    new_intent_id: str
    objective: str
    scope: dict[str, Any]
    received_at: float
    message_id: str | None = None
    approve_at: float | None = (
        None  # core profile: automatic approval time; None = wait for approval
    )
    worktree: str | None = None  # the claimer's checkout, for the replacement intent
    branch: str | None = None

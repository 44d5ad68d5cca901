"""The dashboard's pure view-model: rows for each table, what a message touches, file annotations.

Everything here is a function of the client's typed `Session`, a message and `now` (float Unix
seconds, passed in), so the widgets stay thin and the snapshots are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.client import (
    EXT,
    Conflict,
    Intent,
    Participant,
    Session,
    as_time,
    duration,
    scope_items,
    short,
)

INTENT_COLUMNS = ("Owner", "Objective", "Files", "State", "TTL", "Deferred by")
PARTICIPANT_COLUMNS = ("Name", "Kind", "Roles", "Status", "Last seen", "Available")
CONFLICT_COLUMNS = ("Category", "Severity", "State", "Parties", "Age", "Timeout in")
Row = tuple[str, ...]


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (messages are read defensively)."""
    return value if isinstance(value, dict) else {}


def hms(ts: float) -> str:
    """UTC time of day, HH:MM:SS."""
    s = int(ts) % 86400
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}:{s % 60:02d}"


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def intent_row(intent: Intent, now: float) -> Row:
    files = intent.files
    shown = ", ".join(files[:2]) + (f" +{len(files) - 2}" if len(files) > 2 else "")
    return (
        short(intent.principal_id),
        clip(intent.objective, 40),
        clip(shown, 36),
        intent.state,
        duration(intent.ttl_left(now)),
        ", ".join(short(p) for p in intent.deferred_by) or "-",
    )


def participant_row(
    p: Participant, now: float, seen: float | None = None, status: str | None = None
) -> Row:
    last = max(filter(None, (p.last_seen, seen)), default=None)
    return (
        p.name,
        p.kind,
        ", ".join(p.roles) or "-",
        (status or p.status) if p.connected else "offline",
        "-" if last is None else duration(now - last) + " ago",
        "yes" if p.available else "no",
    )


def conflict_row(c: Conflict, now: float, session: Session) -> Row:
    due = session.due(c)
    return (
        c.category,
        c.severity,
        c.state + (" (frozen)" if c.frozen else ""),
        " vs ".join(short(p) for p in c.principals) or "-",
        "-" if c.created_at is None else duration(now - c.created_at),
        "-" if due is None else duration(due - now),
    )


@dataclass
class Affected:
    """Which rows one message may change; `None` means all of that kind."""

    participants: set[str] | None = field(default_factory=set)
    intents: set[str] | None = field(default_factory=set)
    conflicts: set[str] | None = field(default_factory=set)
    header: bool = True
    owners: set[str] = field(default_factory=set)  # every intent of these principals is touched

    @classmethod
    def everything(cls) -> Affected:
        return cls(None, None, None, True)


def affected(msg: dict[str, Any], session: Session) -> Affected:
    """The rows a message touches, so tables update only those (never a wholesale rebuild)."""
    t = msg.get("message_type")
    p = as_dict(msg.get("payload"))
    sender = as_dict(msg.get("sender")).get("principal_id")
    if t in ("SESSION_INFO", "_CONNECTION", "COORDINATOR_STATUS"):
        return Affected.everything()
    out = Affected(participants={sender} if isinstance(sender, str) else set())
    intents: set[str] = set()
    all_intents = False
    if t == "GOODBYE" and isinstance(sender, str):
        out.owners.add(sender)  # a goodbye may withdraw or transfer all of its intents
    if t == "RESOLUTION":  # an outcome names the intents it accepts, rejects or merges
        outcome = as_dict(p.get("outcome"))
        for key in ("accepted", "rejected", "merged"):
            intents.update(i for i in outcome.get(key) or [] if isinstance(i, str))
    for key in ("intent_id", "original_intent_id", "new_intent_id"):
        if isinstance(p.get(key), str):
            intents.add(p[key])
    if t == "INTENT_DEFERRED":
        if p.get("status"):  # resolved: the view dropped the deferral, its ids are gone with it
            all_intents = True
        intents.update(i for i in p.get("observed_intent_ids") or [] if isinstance(i, str))
    if isinstance(p.get("conflict_id"), str):
        cid = p["conflict_id"]
        out.conflicts = {cid}
        known = session.conflict(cid)
        related = [
            *(known.related_intents if known else ()),
            p.get("intent_a"),
            p.get("intent_b"),
            *(p.get("related_intents") or []),
        ]
        intents.update(i for i in related if isinstance(i, str))
    if t == "PROTOCOL_ERROR":
        ext = as_dict(as_dict(p.get("extensions")).get(EXT))
        if isinstance(ext.get("principal_id"), str):
            out.participants = {ext["principal_id"]}
            out.owners.add(ext["principal_id"])  # unavailability suspends that principal's intents
    out.intents = None if all_intents else intents
    return out


def file_label(path: str, intents: list[Intent], in_conflict: bool) -> str:
    """The Rich markup label of one file node: name, then who holds it and for what."""
    name = path.rsplit("/", 1)[-1]
    if not intents:
        return name
    holders = "; ".join(f"{short(i.principal_id)}: {clip(i.objective, 30)}" for i in intents)
    style = "bold red" if in_conflict else "bold yellow"
    mark = "!" if in_conflict else "●"
    return f"[{style}]{mark} {escape(name)}[/] [dim]({escape(holders)})[/]"


def symbol_label(name: str, intents: list[Intent], in_conflict: bool) -> str:
    """The Rich markup label of a held symbol under its file: name, then who holds it and for what."""
    holders = "; ".join(f"{short(i.principal_id)}: {clip(i.objective, 30)}" for i in intents)
    style = "bold red" if in_conflict else "yellow"
    return f"[{style}]◆ {escape(name)}[/] [dim]({escape(holders)})[/]"


def escape(text: str) -> str:
    return text.replace("[", r"\[")


@dataclass(frozen=True)
class LogEntry:
    ts: float
    sender: str
    mtype: str
    text: str


def describe(msg: dict[str, Any], now: float) -> LogEntry:
    """One line of the event log for an inbound message."""
    t = str(msg.get("message_type", "?"))
    p = as_dict(msg.get("payload"))
    sender = as_dict(msg.get("sender")).get("principal_id", "")
    ts = as_time(msg.get("ts")) or now
    if t == "_CONNECTION":
        return LogEntry(ts, "dashboard", t, f"connection {p.get('state')}")
    parts: list[str] = []
    for key in (
        "intent_id",
        "objective",
        "op_id",
        "target",
        "conflict_id",
        "category",
        "decision",
        "ack_type",
        "escalate_to",
        "error_code",
        "description",
        "status",
        "reason",
        "display_name",
    ):
        v = p.get(key)
        if isinstance(v, str | int | float) and v != "":
            parts.append(f"{key}={clip(str(v), 60)}")
    if isinstance(p.get("scope"), dict):
        parts.append("files=" + ",".join(scope_items(p["scope"])[:3]))
    return LogEntry(ts, sender, t, " ".join(parts))


@dataclass
class LogFilter:
    participant: str = ""
    message_type: str = ""
    text: str = ""

    def matches(self, e: LogEntry) -> bool:
        return (
            (not self.participant or self.participant.lower() in e.sender.lower())
            and (not self.message_type or self.message_type.upper() in e.mtype.upper())
            and (not self.text or self.text.lower() in e.text.lower())
        )

    def label(self) -> str:
        bits = [
            f"{k}={v}"
            for k, v in (
                ("who", self.participant),
                ("type", self.message_type),
                ("text", self.text),
            )
            if v
        ]
        return " ".join(bits) or "none"

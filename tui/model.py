"""The dashboard's pure view-model: rows for each table, what a message touches, file annotations.

Everything here is a function of the client's `SessionView`, a message and `now` (float Unix
seconds, passed in), so the widgets stay thin and the snapshots are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.client import SessionView
from bridge.protocol.envelope import parse_ts
from bridge.protocol.scope import normalize_scope

INTENT_COLUMNS = ("Owner", "Objective", "Files", "State", "TTL", "Deferred by")
PARTICIPANT_COLUMNS = ("Name", "Kind", "Roles", "Status", "Last seen", "Available")
CONFLICT_COLUMNS = ("Category", "Severity", "State", "Parties", "Age", "Timeout in")
Row = tuple[str, ...]


def when(value: Any) -> float | None:
    """A timestamp as float seconds, from a float or an RFC 3339 string (None if unreadable)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_ts(value)
    return None


def duration(seconds: float | None) -> str:
    """A short human duration: 45s, 4m05s, 2h03m; '-' when unknown."""
    if seconds is None:
        return "-"
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def hms(ts: float) -> str:
    """UTC time of day, HH:MM:SS."""
    s = int(ts) % 86400
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}:{s % 60:02d}"


def short(pid: str) -> str:
    """`agent:alice` -> `alice` (the kind is shown in its own column)."""
    return pid.split(":", 1)[1] if ":" in pid else pid


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def scope_items(scope: Any) -> list[str]:
    """What a scope covers, for display: files and patterns, else entities, tasks or URIs."""
    if not isinstance(scope, dict):
        return []
    try:
        norm = normalize_scope(scope)
    except Exception:  # a scope we cannot read is shown as empty, never raised
        return []
    return norm.files() or sorted(norm.entities) or sorted(norm.tasks) or sorted(norm.uris)


def scope_paths(scope: Any) -> list[str]:
    """Only the file paths and patterns of a scope (for the file tree)."""
    if not isinstance(scope, dict):
        return []
    try:
        return normalize_scope(scope).files()
    except Exception:
        return []


def intent_files(intent: dict[str, Any]) -> list[str]:
    return scope_items(intent.get("scope"))


def ttl_left(intent: dict[str, Any], now: float) -> float | None:
    expires = when(intent.get("expires_at"))
    return None if expires is None else expires - now


def intent_row(intent: dict[str, Any], now: float) -> Row:
    files = intent_files(intent)
    shown = ", ".join(files[:2]) + (f" +{len(files) - 2}" if len(files) > 2 else "")
    return (
        short(str(intent.get("principal_id", ""))),
        clip(str(intent.get("objective", "")), 40),
        clip(shown, 36),
        str(intent.get("state", "")),
        duration(ttl_left(intent, now)),
        ", ".join(short(p) for p in intent.get("deferred_by") or []) or "-",
    )


def participant_row(p: dict[str, Any], now: float, seen: float | None = None, status: str | None = None) -> Row:
    last = max(filter(None, (when(p.get("last_seen")), seen)), default=None)
    connected = p.get("connected", True)
    pid = str(p.get("principal_id", ""))
    name = str(p.get("display_name") or "")
    return (
        short(pid) if name in ("", pid) else name,
        str(p.get("principal_type") or str(p.get("principal_id", "")).split(":", 1)[0]),
        ", ".join(p.get("roles") or []) or "-",
        (status or str(p.get("status", ""))) if connected else "offline",
        "-" if last is None else duration(now - last) + " ago",
        "yes" if p.get("is_available", True) and connected else "no",
    )


def conflict_due(c: dict[str, Any], view: SessionView) -> float | None:
    due = when(c.get("due_at"))
    if due is not None:
        return due
    timeout = (view.policies.get("governance_policy") or {}).get("resolution_timeout_sec")
    created = when(c.get("created_at"))
    if isinstance(timeout, int | float) and timeout > 0 and created is not None:
        return created + float(timeout)
    return None


def conflict_row(c: dict[str, Any], now: float, view: SessionView) -> Row:
    created = when(c.get("created_at"))
    due = conflict_due(c, view)
    return (
        str(c.get("category", "")),
        str(c.get("severity", "")),
        str(c.get("state", "")) + (" (frozen)" if c.get("frozen") else ""),
        " vs ".join(short(p) for p in c.get("principals") or []) or "-",
        "-" if created is None else duration(now - created),
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


def affected(msg: dict[str, Any], view: SessionView) -> Affected:
    """The rows a message touches, so tables update only those (never a wholesale rebuild)."""
    t = msg.get("message_type")
    p = msg.get("payload") if isinstance(msg.get("payload"), dict) else {}
    sender = (msg.get("sender") or {}).get("principal_id") if isinstance(msg.get("sender"), dict) else None
    if t in ("SESSION_INFO", "_CONNECTION", "COORDINATOR_STATUS"):
        return Affected.everything()
    out = Affected(participants={sender} if isinstance(sender, str) else set())
    intents: set[str] = set()
    all_intents = False
    if t == "GOODBYE" and isinstance(sender, str):
        out.owners.add(sender)  # a goodbye may withdraw or transfer all of its intents
    if t == "RESOLUTION":  # an outcome names the intents it accepts, rejects or merges
        outcome = p.get("outcome") if isinstance(p.get("outcome"), dict) else {}
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
        related = (view.conflicts.get(cid) or {}).get("related_intents") or []
        related = [*related, p.get("intent_a"), p.get("intent_b"), *(p.get("related_intents") or [])]
        intents.update(i for i in related if isinstance(i, str))
    if t == "PROTOCOL_ERROR":
        ext = p.get("extensions") if isinstance(p.get("extensions"), dict) else {}
        ext = ext.get("mpac-bridge") if isinstance(ext.get("mpac-bridge"), dict) else {}
        if isinstance(ext.get("principal_id"), str):
            out.participants = {ext["principal_id"]}
            out.owners.add(ext["principal_id"])  # unavailability suspends that principal's intents
    out.intents = None if all_intents else intents
    return out


def covering(view: SessionView) -> dict[str, list[dict[str, Any]]]:
    """Each file or pattern named by a live intent -> the intents that name it."""
    out: dict[str, list[dict[str, Any]]] = {}
    for intent in view.intents.values():
        for f in scope_paths(intent.get("scope")):
            out.setdefault(f, []).append(intent)
    return out


def conflicted_intents(view: SessionView) -> set[str]:
    return {i for c in view.conflicts.values() for i in c.get("related_intents") or []}


def file_label(path: str, intents: list[dict[str, Any]], in_conflict: bool) -> str:
    """The Rich markup label of one file node: name, then who holds it and for what."""
    name = path.rsplit("/", 1)[-1]
    if not intents:
        return name
    holders = "; ".join(f"{short(str(i.get('principal_id', '')))}: {clip(str(i.get('objective', '')), 30)}" for i in intents)
    style = "bold red" if in_conflict else "bold yellow"
    mark = "!" if in_conflict else "●"
    return f"[{style}]{mark} {escape(name)}[/] [dim]({escape(holders)})[/]"


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
    p = msg.get("payload") if isinstance(msg.get("payload"), dict) else {}
    sender = (msg.get("sender") or {}).get("principal_id", "") if isinstance(msg.get("sender"), dict) else ""
    ts = when(msg.get("ts")) or now
    if t == "_CONNECTION":
        return LogEntry(ts, "dashboard", t, f"connection {p.get('state')}")
    parts: list[str] = []
    for key in ("intent_id", "objective", "op_id", "target", "conflict_id", "category", "decision", "ack_type",
                "escalate_to", "error_code", "description", "status", "reason", "display_name"):
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
        bits = [f"{k}={v}" for k, v in (("who", self.participant), ("type", self.message_type), ("text", self.text)) if v]
        return " ".join(bits) or "none"


def may_act(view: SessionView, me: str, conflict: dict[str, Any], action: str) -> bool:
    """Whether the granted roles let this principal ack, escalate or resolve the conflict (the
    coordinator decides for real; this only hides keys that could never work)."""
    roles = set(view.granted_roles)
    authority = bool(roles & {"owner", "arbiter"})
    related = me in (conflict.get("principals") or [])
    if action in ("ack", "escalate"):
        return authority or related
    if action == "resolve":
        if conflict.get("state") == "ESCALATED":
            return conflict.get("escalated_to") == me or "arbiter" in roles
        return authority or related
    return False

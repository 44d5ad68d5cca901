"""Session: the typed queries every front-end asks of the session, as one participant sees it.

A `Session` is a thin, read-only lens over a `SessionView` (which folds the messages) and the
principal id of the participant looking at it. Nothing is copied: each query builds its records
from the view's current state, so a `Session` never goes stale; `SessionClient.session` gives one
for the client's live view, `Session(view, me)` one for a fixed view.

Front-ends use these queries and the records in `bridge.client.records`; they never read the view
as dicts, normalize scopes or compute overlaps themselves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from bridge.client.records import (
    AUTHORITY,
    Conflict,
    Counts,
    FileState,
    Holding,
    Intent,
    Participant,
    Policies,
    SameFile,
)
from bridge.client.scope import (
    GRANULARITIES,
    coverage,
    file_probe,
    probe,
    same_file_as,
    scope_symbols,
)
from bridge.client.view import SessionView
from bridge.protocol.globs import glob_match, is_glob


class Session:
    __slots__ = ("me", "view")

    def __init__(self, view: SessionView, me: str) -> None:
        self.view, self.me = view, me

    # --- the session itself ------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self.view.session_id

    @property
    def granted_roles(self) -> tuple[str, ...]:
        return tuple(self.view.granted_roles)

    @property
    def policies(self) -> Policies:
        return Policies.of(self.view.policies)

    @property
    def granularity(self) -> str:
        """The session's unit of coordination: `symbol` (intents may claim functions and classes)
        or `file`. A coordinator that does not say (a reference one, an older bridge) is `file`:
        it would not apply the symbol rules."""
        g = self.view.granularity
        return g if g in GRANULARITIES else "file"

    @property
    def has_authority(self) -> bool:
        """We were granted owner or arbiter: we may settle any conflict."""
        return bool(AUTHORITY & set(self.view.granted_roles))

    @property
    def read_only(self) -> bool:
        """We were granted no role that may announce intents (observer only)."""
        return set(self.view.granted_roles) <= {"observer"}

    # --- records -----------------------------------------------------------------------------

    def participant_ids(self) -> list[str]:
        return list(self.view.participants)

    def counts(self) -> Counts:
        """How many participants are connected, and how many intents and conflicts are live."""
        v = self.view
        connected = sum(1 for p in v.participants.values() if p.get("connected", True) is not False)
        return Counts(connected, len(v.intents), len(v.conflicts))

    def participants(self) -> list[Participant]:
        """Everyone the session knows, by principal id (offline participants included)."""
        return [Participant.of(p) for _, p in sorted(self.view.participants.items())]

    def participant(self, principal_id: str) -> Participant | None:
        p = self.view.participants.get(principal_id)
        return None if p is None else Participant.of(p)

    def name_of(self, principal_id: str) -> str:
        """The display name a participant chose, else its principal id."""
        p = self.view.participants.get(principal_id)
        name = p.get("display_name") if p is not None else None
        return name if isinstance(name, str) and name else principal_id

    def intent_ids(self, owners: Collection[str] | None = None) -> list[str]:
        """Ids of the live intents (of these principals only, with `owners`)."""
        if owners is None:
            return list(self.view.intents)
        return [iid for iid, i in self.view.intents.items() if i.get("principal_id") in owners]

    def intents(self) -> list[Intent]:
        """Live intents (ACTIVE or SUSPENDED), oldest first."""
        return [Intent.of(i) for i in self.view.live_intents()]

    def intent(self, intent_id: str) -> Intent | None:
        i = self.view.intents.get(intent_id)
        return None if i is None else Intent.of(i)

    def conflict_ids(self) -> list[str]:
        return list(self.view.conflicts)

    def conflicts(self) -> list[Conflict]:
        """Open conflicts (OPEN, ACKED or ESCALATED), in the order they were reported."""
        return [Conflict.of(c) for c in self.view.conflicts.values()]

    def conflict(self, conflict_id: str) -> Conflict | None:
        c = self.view.conflicts.get(conflict_id)
        return None if c is None else Conflict.of(c)

    def _targets(self, worktree: str | None) -> dict[str, dict[str, Any]]:
        return self.view.targets if not worktree else self.view.worktree_targets.get(worktree, {})

    def files(self, worktree: str | None = None) -> dict[str, FileState]:
        """The last commit seen for each file of a worktree (None: the main one), by path."""
        return {path: FileState.of(path, t) for path, t in self._targets(worktree).items()}

    def file(self, path: str, worktree: str | None = None) -> FileState | None:
        """The last commit seen to one file of a worktree (None: the main one)."""
        t = self._targets(worktree).get(path)
        return None if t is None else FileState.of(path, t)

    # --- who holds what ----------------------------------------------------------------------

    def covering(self, files: Iterable[str], symbols: Iterable[str] = ()) -> list[Holding]:
        """Every live intent (ours included) whose scope overlaps these files, or these symbols
        (`path::name`) and files, oldest first. A file overlaps every symbol in it."""
        mine = probe(files, symbols)
        out = []
        for raw in self.view.live_intents():
            ov = coverage(mine, raw.get("scope"))
            if ov is not None:
                out.append(Holding(Intent.of(raw), ov.basis, ov.shared, ov.race_locked))
        return out

    def holders(
        self,
        files: Iterable[str],
        *,
        symbols: Iterable[str] = (),
        exclude: Collection[str] | None = None,
    ) -> list[Holding]:
        """Other participants' live intents overlapping these files (and symbols); `exclude`
        names the principals left out (default: ourselves)."""
        skip = (self.me,) if exclude is None else exclude
        return [h for h in self.covering(files, symbols) if h.intent.principal_id not in skip]

    def mine(self, files: Iterable[str] | None = None, symbols: Iterable[str] = ()) -> list[Intent]:
        """Our live intents, oldest first; with `files` (and `symbols`), only those overlapping them."""
        if files is None:
            return [i for i in self.intents() if i.principal_id == self.me]
        return [h.intent for h in self.covering(files, symbols) if h.intent.principal_id == self.me]

    def same_file(
        self,
        files: Iterable[str],
        symbols: Iterable[str],
        *,
        exclude: Collection[str] | None = None,
    ) -> list[SameFile]:
        """Other participants' live intents on other symbols of the files these symbols are in:
        no overlap (both may work), but worth a note. One record per intent and file."""
        skip = (self.me,) if exclude is None else exclude
        mine = probe(files, symbols)
        if not mine.symbol_files:
            return []
        out: list[SameFile] = []
        for raw in self.view.live_intents():
            if raw.get("principal_id") in skip:
                continue
            shared = same_file_as(mine, raw.get("scope"))
            if shared:
                intent = Intent.of(raw)
                held = scope_symbols(intent.scope)
                out.extend(
                    SameFile(intent, path, tuple(sorted(held.get(path, ())))) for path in shared
                )
        return out

    def held_symbols(self, path: str) -> dict[str, list[Intent]]:
        """The symbols of one file that live intents claim, by name (`*`: the whole file inside
        a symbol scope) -> the intents claiming it. Empty when nobody claims a symbol of it."""
        out: dict[str, list[Intent]] = {}
        for raw in self.view.live_intents():
            names = scope_symbols(raw.get("scope")).get(path)
            if names:
                intent = Intent.of(raw)
                for name in sorted(names):
                    out.setdefault(name, []).append(intent)
        return out

    def claimed_symbols(self, path: str, *intent_ids: str) -> set[str] | None:
        """The symbol names of `path` these intents claim together; None when one of them claims
        the whole file (a `file_set`, a pattern, `path::*`) or none claims a symbol of it."""
        names: set[str] = set()
        whole = file_probe([path])
        for iid in intent_ids:
            raw = self.view.intents.get(iid)
            if raw is None:
                continue
            held = scope_symbols(raw.get("scope")).get(path)
            if held:
                if "*" in held:
                    return None
                names |= held
            elif coverage(whole, raw.get("scope")) is not None:
                return None
        return names or None

    def held_files(self, paths: Iterable[str]) -> dict[str, list[Intent]]:
        """Each of `paths`, and each file a live intent names literally -> the live intents that
        name it, exactly or by a pattern (a file tree's labels). Files nobody holds are left out."""
        named: dict[str, list[Intent]] = {}
        patterns: dict[str, list[Intent]] = {}
        for raw in self.view.intents.values():
            intent = Intent.of(raw)
            for path in intent.paths:
                (patterns if is_glob(path) else named).setdefault(path, []).append(intent)
        out = {path: list(intents) for path, intents in named.items()}
        for path in paths:
            for pattern, intents in patterns.items():
                if glob_match(pattern, path):
                    out.setdefault(path, []).extend(intents)
        return out

    def arbiters(
        self, *, exclude: Collection[str] = (), available: bool = False
    ) -> list[Participant]:
        """Connected owners and arbiters (who can take an escalation or decide a claim), by id;
        `available` keeps only those not marked unavailable."""
        return [
            p
            for p in self.participants()
            if p.has_authority
            and p.connected
            and p.principal_id not in exclude
            and (p.available or not available)
        ]

    # --- conflicts ---------------------------------------------------------------------------

    def conflicts_of(self, intent_id: str) -> list[Conflict]:
        return [c for c in self.conflicts() if intent_id in c.related_intents]

    def conflicts_on(self, path: str) -> list[Conflict]:
        """Open conflicts involving a file: a related live intent covers it, or a related
        operation is the file's last commit. By conflict id."""
        covering = {h.intent.intent_id for h in self.covering([path])}
        last = self.view.targets.get(path, {}).get("op_id")
        out = [
            c
            for c in self.conflicts()
            if covering.intersection(c.related_intents) or (last and last in c.related_ops)
        ]
        return sorted(out, key=lambda c: c.conflict_id)

    def conflicted_intent_ids(self) -> set[str]:
        return {i for c in self.conflicts() for i in c.related_intents}

    def due(self, conflict: Conflict) -> float | None:
        """When the conflict's resolution times out: the announced deadline, else its creation
        plus the governance policy's resolution timeout; None when there is none."""
        if conflict.due_at is not None:
            return conflict.due_at
        timeout = self.policies.resolution_timeout_sec
        return (
            None
            if timeout is None or conflict.created_at is None
            else conflict.created_at + timeout
        )

    def may(self, action: str, conflict: Conflict) -> bool:
        """Whether our granted roles let us ack, escalate or resolve this conflict. The coordinator
        decides for real; this only hides what could never work."""
        roles = set(self.view.granted_roles)
        authority = bool(roles & AUTHORITY)
        related = self.me in conflict.principals
        if action in ("ack", "escalate"):
            return authority or related
        if action == "resolve":
            if conflict.escalated:
                return conflict.escalated_to == self.me or "arbiter" in roles
            return authority or related
        return False

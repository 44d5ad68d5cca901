"""The checks an operation passes before it is accepted: its intent (live, ACTIVE, the sender's,
covering the target), its op_id (never used before, A23), and optimistic concurrency on state
refs against the committing worktree's history and disk. Each failing check raises Refusal."""

from __future__ import annotations

from collections.abc import Callable

from bridge.core.landing import Landing
from bridge.core.refusal import Refusal
from bridge.core.state import SessionState
from bridge.core.symbols import symbol_target
from bridge.protocol.codes import ErrorCode
from bridge.protocol.constants import EXT
from bridge.protocol.enums import IntentState
from bridge.protocol.scope import normalize_scope, overlap
from bridge.protocol.worktree import ref_key

StateRefLookup = Callable[[str], "str | None"]


class CommitChecks:
    def __init__(
        self, state: SessionState, landing: Landing, lookup: StateRefLookup | None
    ) -> None:
        self.state = state
        self.landing = landing
        self.lookup = lookup
        # disk lookups of the current call (one read per target)
        self._disk: dict[str, str | None] = {}

    def forget_disk(self) -> None:
        """A new call: the disk may have changed since the last one."""
        self._disk = {}

    def disk_ref(self, target: str) -> str | None:
        """What the injected lookup says the target is now (None when unknown or not injected).
        Read once per target and call: the check and the commit it lets through see one disk."""
        if self.lookup is None:
            return None
        if target in self._disk:
            return self._disk[target]
        try:
            value = self.lookup(target)
        except Exception:
            value = None
        self._disk[target] = value
        return value

    def intent_worktree(self, intent_id: str | None) -> str | None:
        intent = self.state.intents.get(intent_id or "")
        return intent.worktree if intent is not None else None

    def check_intent(self, pid: str, intent_id: str | None, target: str) -> None:
        """The operation must name a live, ACTIVE intent of the sender whose scope covers the target."""
        st = self.state
        if not intent_id:
            raise Refusal(
                ErrorCode.MALFORMED_MESSAGE,
                "intent_id is required: announce an intent covering the target first",
            )
        intent = st.intents.get(intent_id)
        if intent is None:
            state = st.intent_state(intent_id)
            why = f"is {state}" if state else "does not exist"
            raise Refusal(
                ErrorCode.INVALID_REFERENCE, f"intent {intent_id!r} {why}; announce a new intent"
            )
        if intent.principal_id != pid:
            raise Refusal(
                ErrorCode.AUTHORIZATION_FAILED,
                f"intent {intent_id!r} belongs to {intent.principal_id}",
            )
        if intent.state != IntentState.ACTIVE:
            raise Refusal(
                ErrorCode.INVALID_REFERENCE,
                f"intent {intent_id!r} is {intent.state}; operations on it are refused",
            )
        norm = st.norms[intent_id]
        t = normalize_scope({"kind": "file_set", "resources": [target]})
        in_symbols = symbol_target(norm, t)  # symbol scopes: only the files their symbols are in
        if in_symbols is not None:
            if in_symbols:
                return
            raise Refusal(
                ErrorCode.AUTHORIZATION_FAILED,
                f"target {target!r} is not a file of the symbols of intent {intent_id!r}; update the intent first",
            )
        if not (t.paths & norm.paths) and (norm.opaque or norm.entities or norm.tasks or norm.uris):
            return  # non-path scopes cannot be checked against a path; accepted (see docs/protocol.md)
        ov = overlap(t, norm)
        if ov is None or ov.basis not in ("file_set", "resource_path"):
            raise Refusal(
                ErrorCode.AUTHORIZATION_FAILED,
                f"target {target!r} is outside the scope of intent {intent_id!r}; update the intent first",
            )

    def check_ref(
        self,
        target: str,
        before: str | None,
        pending: dict[str, str | None] | None = None,
        after: str | None = None,
        worktree: str | None = None,
    ) -> None:
        """Optimistic concurrency: `before` must be the last committed ref, and the file on disk (when
        the lookup can see it) must be either `before` or, if the write already landed, `after`.
        Both are those of the committing intent's worktree (its own history and its own disk).
        `pending`: the refs earlier entries of the same batch leave (ref key -> state_ref_after)."""
        key = ref_key(target, worktree)
        if pending is not None and key in pending:  # an earlier entry of the same batch
            current = pending[key]
            if current is not None and before != current:
                raise self.stale(target, before, current)
            return
        last = self.state.targets.get(key)
        disk = self.disk_ref(key)
        if last is not None:
            self.landing.saw_disk(last, disk)
        # A file changed outside coordination (a human's editor) is current as the disk shows it,
        # unless the disk shows the base of a commit whose write is still to come (issue 13.1).
        if last is not None and last.state_ref is not None and before != last.state_ref:
            if disk is None or disk != before:
                raise self.stale(target, before, disk or last.state_ref, on_disk=disk is not None)
            refusal = self.landing.in_flight_refusal(target, before, last)
            if refusal is not None:
                raise Refusal(ErrorCode.STALE_STATE_REF, *refusal)
        if disk is not None and disk != before and disk != after:
            raise self.stale(target, before, disk, on_disk=True)

    @staticmethod
    def stale(target: str, before: str | None, current: str, on_disk: bool = False) -> Refusal:
        where = "on disk" if on_disk else "since your read"
        return Refusal(
            ErrorCode.STALE_STATE_REF,
            f"{target} changed {where}: state_ref_before {before!r} does not match the current {current!r}; re-read the file and retry",
            {EXT: {"target": target, "current_state_ref": current}},
        )

    def check_new_op_id(self, op_id: str, pid: str | None = None) -> None:
        if self.state.id_taken("op", op_id) is not None or op_id in self.state.ops:
            raise self.reused_op_id(op_id, pid)

    def reused_op_id(self, op_id: str, pid: str | None) -> Refusal:
        """A23 refusal. When its sender committed that op_id, the refusal also says so: an agent
        that lost its connection mid-commit resends the same op_id to settle the outcome."""
        st = self.state
        rec = st.committed.get(op_id)
        if pid is None or rec is None or rec.get("principal_id") != pid:
            return Refusal(
                ErrorCode.INVALID_REFERENCE, f"op_id {op_id!r} was already used; choose a new id"
            )
        last = st.targets.get(ref_key(rec["target"], rec.get("worktree")))
        info = {
            "op_id": op_id,
            "state": rec["state"],
            "target": rec["target"],
            "state_ref_before": rec.get("state_ref_before"),
            "state_ref_after": rec.get("state_ref_after"),
            "current": last is not None and last.op_id == op_id,
            "current_state_ref": last.state_ref if last is not None else None,
        }
        text = f"op_id {op_id!r} was already used: it is your commit of {rec['target']}, recorded ({rec['state']})"
        return Refusal(ErrorCode.INVALID_REFERENCE, text, {EXT: {"committed": info}})

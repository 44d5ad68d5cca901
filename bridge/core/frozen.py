"""Frozen scope enforcement (spec §18.6, docs/protocol.md A12): what the governance layer froze,
announces and writes are checked against here. Read-only over the state: the governance layer
freezes and unfreezes, the intent and operation layers ask."""

from __future__ import annotations

from bridge.core.emit import Emitter
from bridge.core.records import Conflict
from bridge.core.refusal import Refusal
from bridge.core.state import SessionState
from bridge.protocol.codes import ErrorCode
from bridge.protocol.read import WireMessage
from bridge.protocol.scope import NormScope, contains, normalize_scope, overlap


class FrozenScopes:
    def __init__(self, state: SessionState, emitter: Emitter) -> None:
        self.state = state
        self.emitter = emitter

    def norms(self) -> list[tuple[Conflict, NormScope]]:
        """The scopes of the intents of every frozen conflict (only frozen conflicts are looked at)."""
        st = self.state
        out = []
        for cid in sorted(st.frozen):
            c = st.conflicts[cid]
            for iid in c.related_intents:
                norm = st.norms.get(iid)
                if norm is not None:
                    out.append((c, norm))
        return out

    def check_announce(self, norm: NormScope, msg: WireMessage) -> bool | None:
        """An announce inside a frozen scope is refused (False, SCOPE_FROZEN sent); one partly
        inside is accepted with a warning (True); None when nothing is frozen."""
        if not self.state.frozen:
            return None
        partial = None
        for c, frozen in self.norms():
            if contains(frozen, norm):
                self.emitter.error(
                    ErrorCode.SCOPE_FROZEN,
                    f"this scope is frozen by unresolved conflict {c.conflict_id}",
                    msg.message_id,
                    msg.sender_id,
                )
                return False
            if overlap(frozen, norm) is not None:
                partial = c
        if partial is not None:
            self.emitter.error(
                ErrorCode.SCOPE_FROZEN,
                f"warning: part of this scope is frozen by conflict {partial.conflict_id}; writes to the frozen part will be refused",
                msg.message_id,
                msg.sender_id,
            )
        return True

    def check_target(self, target: str, intent_id: str | None = None) -> None:
        """Raises Refusal when a write to `target` falls in a frozen scope (the phase-2 winner's
        intent excepted)."""
        if not self.state.frozen:
            return
        probe = normalize_scope({"kind": "file_set", "resources": [target]})
        for c, frozen in self.norms():
            if c.partial_winner is not None and intent_id == c.partial_winner:
                continue
            if overlap(frozen, probe) is not None:
                raise Refusal(
                    ErrorCode.SCOPE_FROZEN,
                    f"{target} is frozen by unresolved conflict {c.conflict_id}; wait for its resolution",
                )

"""Commits whose write has not landed yet (issue 13.1, docs/protocol.md "Writes in flight").

A commit X->Y is accepted before its write reaches the disk in two flows: the MCP bridge commits,
then writes with a compare-and-swap, and a pre_commit completion may arrive ahead of its write.
Meanwhile the disk still shows X, and the A25 exception for outside edits ("the disk shows
state_ref_before") would let a second commit from X through. Such a commit is therefore refused
while the first is *in flight*: its write has not been seen, its author is still there, its intent
is still live, and the landing grace period has not passed.

Pure: the disk is only seen through the injected lookup, time only through the state's `now`.
"""

from __future__ import annotations

from typing import Any

from bridge.core.records import Target
from bridge.core.state import SessionState
from bridge.protocol.constants import EXT


class Landing:
    def __init__(self, state: SessionState) -> None:
        self.state = state

    @staticmethod
    def saw_disk(last: Target, disk: str | None) -> None:
        """The disk shows the last commit's result: its write has landed."""
        if not last.landed and disk is not None and disk == last.state_ref:
            last.landed = True

    def in_flight(self, last: Target) -> bool:
        """True while the last commit's write may still land (so its base is not current)."""
        st = self.state
        if last.landed or last.base is None or last.state_ref is None:
            return False
        author = st.participants.get(last.principal_id)
        if author is None or not author.is_available:
            return False  # its author left (GOODBYE) or went silent: the write will not come
        # A dropped connection alone (or a coordinator restart) does not end it: the author may be
        # reconnecting to finish its write (docs/protocol.md "Unknown outcomes"); the grace period bounds it.
        if last.intent_id is not None and last.intent_id not in st.intents:
            return False  # its author withdrew (or the intent ended otherwise)
        start = max(last.committed_at, st.recovered_at)  # a restart gives the author a new period
        return st.now < start + st.config.commit_landing_grace_sec

    def in_flight_refusal(
        self, target: str, before: str | None, last: Target
    ) -> tuple[str, dict[str, Any]] | None:
        """(description, extensions) refusing a commit from the base of a commit whose write is
        still to come, or None when the commit may go on."""
        if before is None or before != last.base or not self.in_flight(last):
            return None
        text = (
            f"{target}: commit {last.op_id} by {last.principal_id} from this same base {before!r} was accepted "
            f"and its write has not landed yet; the current state is {last.state_ref!r}: re-read the file and retry"
        )
        return text, {
            EXT: {
                "target": target,
                "current_state_ref": last.state_ref,
                "pending_op_id": last.op_id,
            }
        }

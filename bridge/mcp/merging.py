"""submit_change's merge of a stale write (issue 19): when the file changed since the agent read
it, merge the agent's content three ways (base: what it read, found by its `state_ref_before` in
the base store; current: the file now; ours: its content) and decide whether the merge may be
committed on its behalf (`bridge.workspace.merge_decide`). Called with the file lock held.

A merge is never silent: the tool result says `merged` with the hunks applied, and the OP_COMMIT
carries `extensions["mpac-bridge"].merge` (docs/protocol.md, "Symbol scopes (issue 19)")."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bridge.client import EXT
from bridge.mcp.models import MergeInfo
from bridge.workspace import Repo
from bridge.workspace.bases import BaseStore, read_small
from bridge.workspace.merge import MergeError
from bridge.workspace.merge_decide import MergeDecision, decide_merge
from bridge.workspace.state import ABSENT_STATE_REF, state_ref_of_bytes


@dataclass
class Merge:
    """What the merge step found. `text` is set when the merged content may be committed."""

    info: MergeInfo
    text: str | None = None
    merged_state_ref: str | None = None
    hunks: int = 0

    @property
    def ok(self) -> bool:
        return self.merged() is not None

    def merged(self) -> tuple[str, str] | None:
        """(merged text, its state_ref) when the merge may be committed, else None."""
        if self.text is None or self.merged_state_ref is None:
            return None
        return self.text, self.merged_state_ref


def _info(decision: MergeDecision) -> MergeInfo:
    d = decision.to_json()
    return MergeInfo.model_validate(
        {
            k: d[k]
            for k in (
                "outcome",
                "reason",
                "base_state_ref",
                "current_state_ref",
                "applied",
                "conflicts",
                "outside",
            )
        }
    )


def _no_base(base_ref: str, current_ref: str, why: str) -> Merge:
    return Merge(
        MergeInfo(
            outcome="no_base", reason=why, base_state_ref=base_ref, current_state_ref=current_ref
        )
    )


def merge_stale(
    repo: Repo,
    store: BaseStore,
    rel: str,
    base_ref: str,
    current_ref: str,
    content: str,
    claimed: Collection[str] | None,
) -> Merge:
    """Merge `content` (written over `base_ref`) into the file as it is now (`current_ref`).
    `claimed` are the intent's symbol names in `rel` (None: the whole file). Blocking (git, disk)."""
    base = store.get_text(base_ref)
    if base is None:
        return _no_base(
            base_ref,
            current_ref,
            "the version you read is not in the base store (read it with "
            "get_file_state before editing, so it can be merged)",
        )
    if current_ref == ABSENT_STATE_REF:
        return _no_base(base_ref, current_ref, "the file was deleted since you read it")
    data = read_small(repo.root / rel, rel, store.max_file_bytes)
    if data is None:
        return _no_base(base_ref, current_ref, "the current file is too large or cannot be read")
    if state_ref_of_bytes(data) != current_ref:  # an editor wrote between our check and this read
        return _no_base(base_ref, current_ref, "the file is changing on disk right now")
    try:
        current = data.decode("utf-8")
    except UnicodeDecodeError:
        return _no_base(base_ref, current_ref, "the current file is not UTF-8 text")
    try:
        decision = decide_merge(rel, base, current, content, claimed)
    except MergeError as exc:
        return _no_base(base_ref, current_ref, f"the merge could not run: {exc}")
    if decision.outcome != "merged" or decision.text is None:
        return Merge(_info(decision))
    store.put(decision.text)  # the agent's next base, like any content it writes
    return Merge(_info(decision), decision.text, decision.merged_state_ref, len(decision.applied))


def merge_extension(
    worktree_ext: dict[str, Any] | None,
    merge: Merge,
    base_ref: str,
    ours_ref: str,
    claimed: Collection[str] | None,
) -> dict[str, Any]:
    """The OP_COMMIT `extensions` of a merged write: the worktree's, plus what was merged from which base."""
    ext = dict(worktree_ext or {})
    ours = dict(ext.get(EXT) or {})
    ours["merge"] = {
        "base_state_ref": base_ref,
        "ours_state_ref": ours_ref,
        "hunks": merge.hunks,
        "symbols": sorted(claimed) if claimed else [],
    }
    ext[EXT] = ours
    return ext


def stale_message(info: MergeInfo) -> str:
    """What a refused merge tells the agent to do."""
    if info.outcome == "conflict":
        return (
            f"the file changed since you read it and {info.reason}: call get_file_state, look at merge.conflicts "
            "(what the other change made of each region), and redo your change on the current file"
        )
    if info.outcome == "out_of_scope":
        return (
            f"the file changed since you read it, and your change could not be merged: {info.reason}. Claim those "
            "symbols (update_task or begin_task), or claim the whole file, then redo your change on the current file"
        )
    return f"the file changed since you read it and could not be merged ({info.reason}); call get_file_state and redo your change"


def keep_base(repo: Repo | None, content: str, state_ref: str) -> None:
    """Keep content an agent read or wrote as the base of a later merge (never fails the tool)."""
    if repo is None:
        return
    data = content.encode("utf-8")
    if state_ref_of_bytes(data) == state_ref:
        with contextlib.suppress(OSError):
            BaseStore.for_repo(repo).put(data)

"""submit_change: record a change with the coordinator and write it to disk under the file lock.
A stale write is merged three ways (`bridge.mcp.merging`); a lost answer is settled by op_id
(`bridge.mcp.settle`), never reported as a refusal."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from pydantic import Field

from bridge.client import Session
from bridge.mcp.context import ToolContext
from bridge.mcp.merging import Merge, keep_base, merge_extension, merge_stale, stale_message
from bridge.mcp.models import SubmitResult
from bridge.mcp.params import IntentId, RepoPath
from bridge.mcp.settle import Settled, commit_settled
from bridge.workspace import (
    PathRefused,
    StaleWrite,
    file_lock_async,
    resolve_in_repo,
    state_ref_of_bytes,
    write_if_matches,
)
from bridge.workspace.bases import BaseStore
from bridge.workspace.state import state_ref_of

Recovered = Literal["recorded", "resent"] | None
HOW: dict[str, str] = {
    "recorded": " (the connection was lost after the coordinator recorded the commit; the write was finished after reconnecting)",
    "resent": " (the connection was lost before the coordinator recorded the commit; it was sent again and recorded once)",
}


async def submit_change(
    ctx: ToolContext,
    intent_id: IntentId,
    target: Annotated[
        str, Field(description="the file to change, relative to the repository root")
    ],
    state_ref_before: Annotated[
        str, Field(description="the state_ref get_file_state gave you before your change")
    ],
    content: Annotated[
        str | None,
        Field(description="the complete new file content; omit it if you already edited the file"),
    ] = None,
    repo_path: RepoPath = None,
    op_id: Annotated[
        str | None,
        Field(
            description="only to repeat a call whose outcome was unknown (status error after a lost "
            "connection): the op_id it returned; the change is then done exactly once"
        ),
    ] = None,
) -> SubmitResult:
    """Record a change and (with content) write it to disk. If the file changed since you read it, your content is
    merged three ways into the current file (status merged, with the hunks applied) when the changes do not overlap and
    stay inside the symbols you claimed; otherwise status stale, with the conflicting hunks."""
    # Commit, then write. A lost connection is settled by op_id (bridge/mcp/settle.py), never
    # reported as a refusal; `op_id` repeats an earlier call whose outcome was unknown.
    repo = ctx.check_repo(repo_path)
    try:
        rel = resolve_in_repo(repo, target)
    except PathRefused as exc:
        return SubmitResult(status="error", target=target, message=str(exc))
    client = await ctx.connected()
    merge: Merge | None = None
    before, ext = state_ref_before, ctx.worktree_extension()
    # the lock is held across check → commit → write against our own writers
    async with file_lock_async(repo, rel):
        on_disk = state_ref_of(repo, rel)
        if content is None:  # the agent already edited the file: record what is on disk now
            after = on_disk
        else:
            after = state_ref_of_bytes(content.encode("utf-8"))
            if on_disk != state_ref_before and not (op_id and on_disk == after):
                # stale: merge three ways (base: what the agent read; current: the file now; ours: its content)
                claimed = _claimed(client.session, intent_id, rel, ctx.worktree)
                store = BaseStore.for_repo(repo)
                merge = await asyncio.to_thread(
                    merge_stale, repo, store, rel, state_ref_before, on_disk, content, claimed
                )
                merged = merge.merged()
                if merged is None:
                    return SubmitResult(
                        status="stale",
                        target=rel,
                        current_state_ref=on_disk,
                        merge=merge.info,
                        message=stale_message(merge.info),
                    )
                if merged[1] == on_disk:  # every change of ours is in the file already
                    return SubmitResult(
                        status="success",
                        target=rel,
                        state_ref_after=on_disk,
                        merge=merge.info,
                        message="your changes are already in the file; nothing was committed or written",
                    )
                ext = merge_extension(ext, merge, state_ref_before, after, claimed)
                content, before, after = merged[0], on_disk, merged[1]
        op_id = op_id or client.new_id("op")
        merged_note = "three-way merge over changes made since the agent read the file"
        summary = merged_note if merge is not None else None
        settled = await commit_settled(
            ctx, client, intent_id, rel, before, after, op_id, ext, summary=summary
        )
        recovered: Recovered = (
            ("recorded" if settled.recorded is not None else "resent") if settled.lost else None
        )
        failed = _not_committed(settled, rel, before, after, op_id, recovered)
        if failed is not None:
            return failed
        if content is not None:
            try:
                write_if_matches(repo, rel, before, content, locked=True)
            except StaleWrite as exc:  # only a writer that ignores the lock (an editor) gets here
                if exc.current_state_ref != after:  # (the same content already there is this write)
                    return SubmitResult(
                        status="error",
                        op_id=op_id,
                        target=rel,
                        current_state_ref=exc.current_state_ref,
                        recovered=recovered,
                        message="the commit was recorded but the file changed on disk "
                        "before the write; re-read it and submit again",
                    )
            # the base of this agent's next write
            await asyncio.to_thread(keep_base, ctx.repo, content, after)
    return _committed(rel, op_id, after, content is not None, recovered, merge)


def _claimed(session: Session, intent_id: str, rel: str, worktree: str | None) -> set[str] | None:
    """The symbols of `rel` this agent claims (through this intent and its other live intents in this
    checkout); None when it claims the whole file. A merged write must stay inside them."""
    mine = [
        i.intent_id
        for i in session.mine()
        if i.state == "ACTIVE" and i.worktree == worktree and i.intent_id != intent_id
    ]
    return session.claimed_symbols(rel, intent_id, *mine)


def _not_this_change(rec: dict[str, Any], rel: str, before: str, after: str) -> str:
    """Why an op_id the coordinator recorded cannot be finished as this change ('' when it can)."""
    if (rec.get("target"), rec.get("state_ref_before"), rec.get("state_ref_after")) != (
        rel,
        before,
        after,
    ):
        return (
            f"op_id {rec.get('op_id')!r} is your recorded commit of {rec.get('target')} from {rec.get('state_ref_before')} "
            f"to {rec.get('state_ref_after')}, not this change; leave op_id out to submit a new change"
        )
    if not rec.get("current"):
        return (
            f"your commit {rec.get('op_id')} was recorded, but a later commit has replaced it "
            f"({rec.get('current_state_ref')}); nothing was written. Call get_file_state and redo your change"
        )
    return ""


def _not_committed(
    settled: Settled, rel: str, before: str, after: str, op_id: str, recovered: Recovered
) -> SubmitResult | None:
    """The result when the settled commit is not this change recorded (None when it is): the
    outcome is unknown, a recorded op_id is another change, or the coordinator refused."""
    reply = settled.reply
    if reply is None:
        return SubmitResult(
            status="error",
            op_id=op_id,
            target=rel,
            message=f"the connection to the coordinator was lost while committing {op_id}, and whether it was "
            f"recorded cannot be told ({settled.why}); nothing was written. Next step: call submit_change "
            f"again with the same arguments and op_id={op_id!r}: it finishes this change if it was "
            "recorded, or commits it now, exactly once",
        )
    if settled.recorded is not None:
        problem = _not_this_change(settled.recorded, rel, before, after)
        if not problem:
            return None
        return SubmitResult(
            status="error",
            op_id=op_id,
            target=rel,
            recovered=recovered,
            current_state_ref=settled.recorded.get("current_state_ref"),
            message=problem,
        )
    if reply.ok:
        return None
    lost = (
        "nothing was committed: the connection was lost and the retry was refused: "
        if settled.lost
        else ""
    )
    if reply.error_code == "STALE_STATE_REF":
        return SubmitResult(
            status="stale",
            target=rel,
            current_state_ref=reply.extensions.get("current_state_ref"),
            message=lost + reply.description,
        )
    return SubmitResult(
        status="rejected", target=rel, message=f"{lost}{reply.error_code}: {reply.description}"
    )


def _committed(
    rel: str, op_id: str, after: str, wrote: bool, recovered: Recovered, merge: Merge | None
) -> SubmitResult:
    """The result of a change committed (and, with content, written): success, or merged when it
    was merged into a file that had changed since the agent read it."""
    if merge is not None:
        message = (
            f"the file had changed since you read it: your {len(merge.info.applied)} change(s) were "
            "merged into it (merge.applied says where), committed and written. Call get_file_state "
            "before changing it again"
        )
    else:
        message = "committed" + (" and written to disk" if wrote else " (file already edited)")
    return SubmitResult(
        status="success" if merge is None else "merged",
        op_id=op_id,
        target=rel,
        state_ref_after=after,
        written=wrote,
        recovered=recovered,
        merge=None if merge is None else merge.info,
        message=message + HOW.get(recovered or "", ""),
    )

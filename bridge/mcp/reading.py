"""The reading tools: who is working, what overlaps a planned change, a file's state on disk, and
your own tasks. They only read the client's typed Session (and the file); nothing is sent."""

from __future__ import annotations

import asyncio
from typing import Annotated

from pydantic import Field

from bridge.client import Intent
from bridge.client.scope import is_symbol_id, split_symbol
from bridge.mcp.context import ToolContext
from bridge.mcp.merging import keep_base
from bridge.mcp.models import (
    FileStateResult,
    Overlap,
    OverlapResult,
    ParticipantInfo,
    TaskList,
    WhoResult,
)
from bridge.mcp.params import RepoPath
from bridge.mcp.results import conflict_info, holders_here, intent_info, same_file_notes
from bridge.workspace import PathRefused, read_file_state


async def who_is_working(ctx: ToolContext, repo_path: RepoPath = None) -> WhoResult:
    """Everyone in the session: participants, their live intents (ACTIVE or SUSPENDED) and open conflicts."""
    ctx.same_repository(repo_path)
    client = await ctx.connected()
    s = client.session
    parts = [
        ParticipantInfo(
            principal_id=p.principal_id,
            display_name=p.display_name or p.principal_id,
            roles=list(p.roles),
            status=p.status,
            available=p.available,
        )
        for p in s.participants()
    ]
    return WhoResult(
        status="ok",
        session_id=s.session_id,
        you=client.principal_id,
        participants=parts,
        intents=[intent_info(i) for i in s.intents()],
        conflicts=[conflict_info(c) for c in s.conflicts()],
    )


async def check_overlap(
    ctx: ToolContext,
    files: Annotated[
        list[str], Field(description="files you are considering, relative to the repository root")
    ],
    repo_path: RepoPath = None,
    symbols: Annotated[
        list[str] | None, Field(description="symbols you are considering (path::Qualified.name)")
    ] = None,
) -> OverlapResult:
    """Read-only: which other principals' intents touch these files (or symbols)."""
    ctx.same_repository(repo_path)
    rels = await ctx.resolve(files)
    client = await ctx.connected()
    try:
        ids = [f"{p}::{n}" for p, n in (split_symbol(s) for s in symbols or [] if is_symbol_id(s))]
    except ValueError as exc:
        return OverlapResult(status="error", message=str(exc))

    def kind(i: Intent, race_locked: bool, basis: str) -> str:
        if not race_locked:
            return basis
        if i.worktree != ctx.worktree:
            return "worktree"
        return "symbol" if basis == "symbol" else "file"

    overlaps = [
        Overlap(
            principal_id=h.intent.principal_id,
            intent_id=h.intent.intent_id,
            objective=h.intent.objective,
            shared=list(h.shared),
            kind=kind(h.intent, h.race_locked, h.basis),
            worktree=h.intent.worktree,
            branch=h.intent.branch,
        )
        for h in client.session.holders(rels, symbols=ids)
    ]
    return OverlapResult(
        status="ok",
        has_overlap=bool(overlaps),
        overlaps=overlaps,
        same_file=same_file_notes(client.session, rels, ids, ctx.worktree) if ids else [],
    )


async def get_file_state(
    ctx: ToolContext,
    path: Annotated[str, Field(description="file path relative to the repository root")],
    repo_path: RepoPath = None,
    include_content: Annotated[
        bool, Field(description="include the text content (large files are truncated)")
    ] = True,
) -> FileStateResult:
    """The file as it is on disk now: its state_ref (pass it to submit_change), size, content and who holds it."""
    repo = ctx.check_repo(repo_path)
    try:
        state = await asyncio.to_thread(
            read_file_state, repo, path, include_content=include_content
        )
    except PathRefused as exc:
        return FileStateResult(status="refused", path=path, message=str(exc))
    if state.content is not None and not state.truncated and state.is_text:
        # the base of a later merge
        await asyncio.to_thread(keep_base, ctx.repo, state.content, state.state_ref)
    client = await ctx.connected()
    held = holders_here(client.session, [state.path], ctx.worktree)
    last_commit = client.session.file(state.path, ctx.worktree)
    last = last_commit.principal_id or None if last_commit is not None else None
    return FileStateResult(
        status="ok",
        path=state.path,
        exists=state.exists,
        state_ref=state.state_ref,
        size=state.size,
        content=state.content,
        truncated=state.truncated,
        last_commit_by=last,
        held_by=held,
        message=_file_note(state.is_text, state.truncated, len(state.content or "")),
    )


def _file_note(is_text: bool, truncated: bool, shown: int) -> str:
    if not is_text:
        return "binary file: content not shown"
    if truncated:
        return (
            f"content truncated: only the first {shown:,} characters are shown. Do not submit it as the whole file; "
            "edit the file on disk and call submit_change without content"
        )
    return ""


async def list_my_tasks(ctx: ToolContext) -> TaskList:
    """Your live intents."""
    client = await ctx.connected()
    return TaskList(status="ok", tasks=[intent_info(i) for i in client.session.mine()])

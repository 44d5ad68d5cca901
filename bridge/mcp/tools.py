"""The tools, as plain async functions of a ToolContext. Each function's signature is the tool's
one declaration (its parameters, with `bridge.mcp.params` descriptions, become the input schema;
its docstring is the description agents read); `bridge.mcp.server` only registers the functions in
TOOLS and calls them by keyword. Tests call them directly against a real sidecar.

Everything read comes from the client's typed Session and everything sent goes through the
client's request helpers: no tool builds a protocol message or reads the view as dicts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import Field

from bridge.client import Conflict, Intent, Reply, Session, format_time
from bridge.client.scope import announce_scope, is_symbol_id, split_symbol
from bridge.mcp.claims import resolve_claim
from bridge.mcp.context import ToolContext
from bridge.mcp.merging import Merge, merge_extension, merge_stale, stale_message
from bridge.mcp.models import (
    BeginResult,
    ClaimResult,
    ConflictInfo,
    FileStateResult,
    Holder,
    IntentInfo,
    Overlap,
    OverlapResult,
    ParticipantInfo,
    Released,
    SameFileNote,
    SimpleResult,
    SubmitResult,
    TaskList,
    WaitResult,
    WhoResult,
)
from bridge.mcp.params import ConflictId, IntentId, Objective, RepoPath, Symbols, Why
from bridge.mcp.settle import commit_settled
from bridge.workspace import (
    PathRefused,
    StaleWrite,
    file_lock_async,
    read_file_state,
    resolve_in_repo,
    state_ref_of_bytes,
    write_if_matches,
)
from bridge.workspace.bases import BaseStore
from bridge.workspace.state import state_ref_of

DEFAULT_TTL_SEC = (
    1800  # begin_task's claim lasts this long without updates unless ttl_sec says otherwise
)


def _intent(i: Intent) -> IntentInfo:
    return IntentInfo(
        intent_id=i.intent_id,
        principal_id=i.principal_id,
        objective=i.objective,
        files=i.files,
        state=i.state,
        expires_in_sec=None if i.expires_at is None else round(i.expires_at - time.time(), 1),
        deferred_by=list(i.deferred_by),
        worktree=i.worktree,
        branch=i.branch,
    )


def _conflict(c: Conflict) -> ConflictInfo:
    return ConflictInfo.model_validate(c, from_attributes=True)  # its fields are the record's


def _holder(i: Intent, shared: list[str] | None = None) -> Holder:
    # Unix seconds in the view; agents get RFC 3339, as in a blocked begin_task
    exp = i.expires_at
    shared = shared or i.files
    files = [f for f in shared if not is_symbol_id(f)] or sorted(
        {f.split("::", 1)[0] for f in shared}
    )
    return Holder(
        principal_id=i.principal_id,
        intent_id=i.intent_id,
        objective=i.objective,
        files=files,
        symbols=[f for f in shared if is_symbol_id(f)],
        expires_at=format_time(exp) if exp is not None and exp > 0 else None,
    )


def _holders(
    session: Session, files: list[str], worktree: str | None, symbols: Sequence[str] = ()
) -> list[Holder]:
    """Who holds these files (or symbols) in our checkout (another worktree's intent on a path does
    not hold our copy of it: docs/protocol.md "Worktrees")."""
    return [
        _holder(h.intent, list(h.shared))
        for h in session.holders(files, symbols=symbols)
        if h.race_locked and h.intent.state == "ACTIVE" and h.intent.worktree == worktree
    ]


def _same_file(
    session: Session, files: list[str], symbols: list[str], worktree: str | None
) -> list[SameFileNote]:
    return [
        SameFileNote(
            principal_id=n.intent.principal_id,
            intent_id=n.intent.intent_id,
            objective=n.intent.objective,
            file=n.path,
            symbols=list(n.symbols),
        )
        for n in session.same_file(files, symbols)
        if n.intent.worktree == worktree
    ]


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
        intents=[_intent(i) for i in s.intents()],
        conflicts=[_conflict(c) for c in s.conflicts()],
    )


async def begin_task(
    ctx: ToolContext,
    objective: Objective,
    files: Annotated[
        list[str], Field(description="every file you will edit, relative to the repository root")
    ],
    repo_path: RepoPath = None,
    ttl_sec: Annotated[
        float | None,
        Field(
            description=f"how long the claim lasts without updates (default {DEFAULT_TTL_SEC} s)"
        ),
    ] = None,
    symbols: Symbols = None,
) -> BeginResult:
    """Announce what you will edit before editing. Returns ok with an intent_id, or blocked with who holds the files.
    Name functions or classes as symbols (path::Qualified.name) to claim only those: others may then change other
    functions of the same file at the same time, and non-overlapping changes are merged."""
    ctx.same_repository(repo_path)
    if not files and not symbols:
        return BeginResult(
            status="error",
            message="list the files you will edit (at least one), or the symbols (path::name)",
        )
    rels = await ctx.resolve(files or [])
    client = await ctx.connected()
    granularity = client.session.granularity
    try:
        claim = await resolve_claim(ctx, rels, symbols or [], granularity)
    except ValueError as exc:
        return BeginResult(
            status="error",
            files=rels,
            message=str(exc),
            next_step="Name symbols as path::Qualified.name.",
        )
    claimed = claim.symbols if granularity == "symbol" else []
    every = list(dict.fromkeys([*rels, *claim.files]))
    intent_id = client.new_id("intent")
    mine = _own_overlapping(
        client.session, rels, claimed, ctx.worktree
    )  # the coordinator supersedes these (A4)
    reply = await client.announce(
        objective,
        rels,
        symbols=[*claim.symbols, *claim.hints],
        intent_id=intent_id,
        ttl_sec=ttl_sec or DEFAULT_TTL_SEC,
        extensions=ctx.worktree_extension(),
    )
    notes = " ".join(claim.notes)
    if reply.ok:
        conflicts = [_conflict(c) for c in client.session.conflicts_of(intent_id)]
        same = _same_file(client.session, rels, claimed, ctx.worktree)
        step = "Edit the files, then call submit_change for each; call yield_task when done."
        if conflicts:
            step = (
                "Registered, with advisory overlaps: coordinate with the other principals (ack_conflict) before large edits. "
                + step
            )
        if same:
            step = (
                "Others work on other symbols of the same file (same_file): change only the symbols you claimed; "
                "if the file changed when you submit, your change is merged. "
            ) + step
        released = _released(mine, every)
        if released:
            gone = [f for r in released for f in r.files]
            notes = (
                f"This replaced your earlier intent(s) {', '.join(r.intent_id for r in released)}: an agent claims a file "
                f"through one intent only, so they ended. No longer claimed by you: {', '.join(gone) or 'nothing'}. "
                + notes
            ).strip()
            if gone:
                step = (
                    f"If you still need those files, call update_task({intent_id!r}, files=<all the files you need>). "
                    + step
                )
        return BeginResult(
            status="ok",
            intent_id=intent_id,
            files=every,
            symbols=claimed,
            granularity=granularity,
            same_file=same,
            conflicts=conflicts,
            released=released,
            next_step=step,
            message=notes,
        )
    if reply.error_code == "STALE_INTENT":
        holders = [
            Holder.model_validate(
                {
                    k: h.get(k)
                    for k in ("principal_id", "intent_id", "objective", "files", "expires_at")
                }
                | {"symbols": [x for x in h.get("symbols") or [] if isinstance(x, str)]}
            )
            for h in reply.holders
        ]
        return BeginResult(
            status="blocked",
            files=every,
            symbols=claimed,
            granularity=granularity,
            holders=holders,
            message=(reply.description + " " + notes).strip(),
            next_step="Do not edit these files. Either call defer_task and work on something else, or call "
            "wait_for_files (with the same files and symbols) to wait until they are free, then "
            "begin_task again.",
        )
    return BeginResult(
        status="error",
        files=every,
        message=f"{reply.error_code}: {reply.description}",
        next_step="Fix the request as the message says, or call who_is_working to see the session.",
    )


def _own_overlapping(
    session: Session, rels: list[str], symbols: list[str], worktree: str | None
) -> list[Intent]:
    """Our ACTIVE intents in this worktree that share a file (or symbol) with this claim: a new
    intent supersedes them (the coordinator's rule, A4)."""
    if not any(i.state == "ACTIVE" for i in session.mine()):
        return []  # the common case, and no need to normalize a long list
    return [
        h.intent
        for h in session.holders(rels, symbols=symbols, exclude=())
        if h.intent.principal_id == session.me
        and h.race_locked
        and h.intent.state == "ACTIVE"
        and h.intent.worktree == worktree
    ]


def _released(superseded: list[Intent], rels: list[str]) -> list[Released]:
    kept = set(rels)
    return [
        Released(
            intent_id=i.intent_id,
            objective=i.objective,
            files=[f for f in i.files if f not in kept],
        )
        for i in superseded
    ]


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
        same_file=_same_file(client.session, rels, ids, ctx.worktree) if ids else [],
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
        await asyncio.to_thread(
            _keep, ctx, state.content, state.state_ref
        )  # the base of a later merge
    client = await ctx.connected()
    held = _holders(client.session, [state.path], ctx.worktree)
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


def _keep(ctx: ToolContext, content: str, state_ref: str) -> None:
    """Keep content an agent read or wrote as the base of a later merge (never fails the tool)."""
    if ctx.repo is None:
        return
    data = content.encode("utf-8")
    if state_ref_of_bytes(data) == state_ref:
        with contextlib.suppress(OSError):
            BaseStore.for_repo(ctx.repo).put(data)


def _file_note(is_text: bool, truncated: bool, shown: int) -> str:
    if not is_text:
        return "binary file: content not shown"
    if truncated:
        return (
            f"content truncated: only the first {shown:,} characters are shown. Do not submit it as the whole file; "
            "edit the file on disk and call submit_change without content"
        )
    return ""


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
    async with file_lock_async(
        repo, rel
    ):  # held across check → commit → write against our own writers
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
        summary = (
            "three-way merge over changes made since the agent read the file"
            if merge is not None
            else None
        )
        settled = await commit_settled(
            ctx, client, intent_id, rel, before, after, op_id, ext, summary=summary
        )
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
        recovered: Literal["recorded", "resent"] | None = (
            ("recorded" if settled.recorded is not None else "resent") if settled.lost else None
        )
        if settled.recorded is not None:
            problem = _not_this_change(settled.recorded, rel, before, after)
            if problem:
                return SubmitResult(
                    status="error",
                    op_id=op_id,
                    target=rel,
                    recovered=recovered,
                    current_state_ref=settled.recorded.get("current_state_ref"),
                    message=problem,
                )
        elif not reply.ok:
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
                status="rejected",
                target=rel,
                message=f"{lost}{reply.error_code}: {reply.description}",
            )
        if content is not None:
            try:
                write_if_matches(repo, rel, before, content, locked=True)
            except (
                StaleWrite
            ) as exc:  # only a writer that ignores the lock (an editor) can get here
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
            await asyncio.to_thread(
                _keep, ctx, content, after
            )  # the base of this agent's next write
    how = {
        "recorded": " (the connection was lost after the coordinator recorded the commit; the write was finished after reconnecting)",
        "resent": " (the connection was lost before the coordinator recorded the commit; it was sent again and recorded once)",
    }
    if merge is not None:
        n = len(merge.info.applied)
        return SubmitResult(
            status="merged",
            op_id=op_id,
            target=rel,
            state_ref_after=after,
            written=True,
            recovered=recovered,
            merge=merge.info,
            message=f"the file had changed since you read it: your {n} change(s) were merged into it "
            "(merge.applied says where), committed and written. Call get_file_state before changing it again"
            + how.get(recovered or "", ""),
        )
    return SubmitResult(
        status="success",
        op_id=op_id,
        target=rel,
        state_ref_after=after,
        written=content is not None,
        recovered=recovered,
        message="committed"
        + (" and written to disk" if content is not None else " (file already edited)")
        + how.get(recovered or "", ""),
    )


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


LOCAL = frozenset(
    {"TIMEOUT", "NOT_CONNECTED", "CONNECTION_LOST"}
)  # no answer: an error, not a refusal


def _answer(reply: Reply, done: str, hint: Callable[[], str] | None = None) -> SimpleResult:
    """The coordinator's answer as a tool result. On a refusal, `hint` adds what the agent can use
    instead (the coordinator decides; the hint only reads the view)."""
    if reply.ok:
        return SimpleResult(status="ok", message=done, details={"message_id": reply.request_id})
    status: Literal["error", "rejected"] = "error" if reply.error_code in LOCAL else "rejected"
    extra = f"; {hint()}" if hint is not None and status == "rejected" else ""
    return SimpleResult(status=status, message=f"{reply.failure}{extra}")


def _my_intents(session: Session) -> Callable[[], str]:
    return lambda: (
        f"your live intents: {[i.intent_id for i in session.mine()] or 'none'} (list_my_tasks)"
    )


def _open_conflicts(session: Session) -> Callable[[], str]:
    return lambda: f"open conflicts: {sorted(session.conflict_ids()) or 'none'} (who_is_working)"


async def yield_task(
    ctx: ToolContext,
    intent_id: Annotated[str, Field(description="the intent to end")],
    reason: Why = None,
) -> SimpleResult:
    """Release your claim on the files when you are done (or giving up)."""
    client = await ctx.connected()
    reply = await client.withdraw(intent_id, reason)
    return _answer(reply, "INTENT_WITHDRAW accepted", _my_intents(client.session))


async def update_task(
    ctx: ToolContext,
    intent_id: IntentId,
    objective: Annotated[str | None, Field(description="a new objective")] = None,
    files: Annotated[
        list[str] | None,
        Field(
            description="the new complete list of files (blocked if another principal holds one)"
        ),
    ] = None,
    ttl_sec: Annotated[
        float | None, Field(description="extend the claim by this many seconds from now")
    ] = None,
    symbols: Annotated[
        list[str] | None,
        Field(
            description="the new complete list of symbols (path::Qualified.name), "
            "with files: what the intent claims from now on"
        ),
    ] = None,
) -> SimpleResult:
    """Change your intent's objective, files (or symbols) or lifetime."""
    client = await ctx.connected()
    rels = await ctx.resolve(files) if files else None
    scope = None
    if symbols:
        try:
            claim = await resolve_claim(ctx, rels or [], symbols, client.session.granularity)
            scope = announce_scope(
                rels or [],
                [*claim.symbols, *claim.hints],
                namespace=client.session.session_id,
                granularity=client.session.granularity,
            )
        except ValueError as exc:
            return SimpleResult(status="error", message=str(exc))
    reply = await client.update(
        intent_id,
        objective=objective or None,
        files=None if scope else rels,
        scope=scope,
        ttl_sec=ttl_sec or None,
    )
    return _answer(reply, "INTENT_UPDATE accepted", _my_intents(client.session))


async def defer_task(
    ctx: ToolContext,
    files: Annotated[
        list[str], Field(description="the files you wanted but will leave to their holder")
    ],
    reason: Annotated[
        str | None, Field(description="why (default yielded_to_active_editor)")
    ] = None,
    observed_intent_ids: Annotated[
        list[str] | None, Field(description="the holders' intent ids (default: found for you)")
    ] = None,
) -> SimpleResult:
    """Tell everyone you are yielding these files to their current holder; you will be told when they are free."""
    client = await ctx.connected()
    rels = await ctx.resolve(files)
    observed = observed_intent_ids or [
        h.intent_id for h in _holders(client.session, rels, ctx.worktree)
    ]
    reply = await client.defer(
        rels, reason=reason or "yielded_to_active_editor", observed_intent_ids=observed
    )
    return _answer(reply, "INTENT_DEFERRED accepted")


async def list_my_tasks(ctx: ToolContext) -> TaskList:
    """Your live intents."""
    client = await ctx.connected()
    return TaskList(status="ok", tasks=[_intent(i) for i in client.session.mine()])


async def wait_for_files(
    ctx: ToolContext,
    files: Annotated[list[str], Field(description="files you are waiting for")],
    timeout_sec: Annotated[
        float, Field(description="give up after this many seconds (max 3600)")
    ] = 60.0,
    symbols: Annotated[
        list[str] | None,
        Field(
            description="symbols you are waiting for (path::Qualified.name), "
            "as you passed them to begin_task"
        ),
    ] = None,
) -> WaitResult:
    """Wait until no other principal holds these files (or symbols); returns as soon as they are free."""
    client = await ctx.connected()
    rels = await ctx.resolve(files) if files else []
    try:
        ids = [f"{p}::{n}" for p, n in (split_symbol(s) for s in symbols or [] if is_symbol_id(s))]
    except ValueError as exc:
        return WaitResult(status="error", files=rels, message=str(exc))
    start = time.monotonic()
    free = await client.wait_until(
        lambda _v: not _holders(client.session, rels, ctx.worktree, ids),
        max(0.0, min(timeout_sec, 3600)),
    )
    waited = round(time.monotonic() - start, 3)
    if free:
        return WaitResult(
            status="free",
            files=rels,
            waited_sec=waited,
            message="the files are free: call begin_task now",
        )
    return WaitResult(
        status="timeout",
        files=rels,
        holders=_holders(client.session, rels, ctx.worktree, ids),
        waited_sec=waited,
        message="still held; call defer_task and work on something else, or wait again",
    )


async def ack_conflict(
    ctx: ToolContext,
    conflict_id: ConflictId,
    ack_type: Annotated[str, Field(description="seen, accepted or disputed")] = "seen",
) -> SimpleResult:
    """Acknowledge a conflict you are part of."""
    client = await ctx.connected()
    return _answer(
        await client.ack(conflict_id, ack_type),
        "CONFLICT_ACK accepted",
        _open_conflicts(client.session),
    )


async def escalate_conflict(
    ctx: ToolContext,
    conflict_id: ConflictId,
    reason: Annotated[str, Field(description="why it needs a decision")],
    escalate_to: Annotated[
        str | None,
        Field(description="principal id of an owner or arbiter (default: the first one present)"),
    ] = None,
    context: Annotated[str | None, Field(description="anything the decider should know")] = None,
) -> SimpleResult:
    """Hand a conflict to a human owner or arbiter."""
    client = await ctx.connected()
    reply = await client.escalate(conflict_id, escalate_to, reason, context)
    if reply.error_code == "NO_ARBITER":
        return SimpleResult(
            status="error",
            message="no owner or arbiter is in the session; name one with escalate_to",
        )
    return _answer(reply, "CONFLICT_ESCALATE accepted", _open_conflicts(client.session))


async def resolve_conflict(
    ctx: ToolContext,
    conflict_id: ConflictId,
    decision: Annotated[
        str,
        Field(
            description="approved, rejected, dismissed, human_override, policy_override or merged"
        ),
    ],
    rationale: Annotated[str, Field(description="why")] = "",
    outcome: Annotated[
        dict[str, Any] | None,
        Field(
            description='{"accepted": [ids], "rejected": [ids], "merged": [ids], "rollback": ...}'
        ),
    ] = None,
) -> SimpleResult:
    """Settle a conflict (needs authority: owner or arbiter; after escalation, the escalation target)."""
    client = await ctx.connected()
    reply = await client.resolve(conflict_id, decision, rationale or decision, outcome or None)
    return _answer(reply, "RESOLUTION accepted", _open_conflicts(client.session))


async def take_over_task(
    ctx: ToolContext,
    original_intent_id: Annotated[
        str, Field(description="the SUSPENDED intent of a participant who left or crashed")
    ],
    new_objective: Annotated[
        str | None, Field(description="your objective (default: the original's)")
    ] = None,
    files: Annotated[
        list[str] | None,
        Field(description="the files you take (default: all of the original's; may only narrow)"),
    ] = None,
    original_principal_id: Annotated[
        str | None, Field(description="its owner (default: looked up)")
    ] = None,
    justification: Annotated[str | None, Field(description="why you take it over")] = None,
) -> ClaimResult:
    """Claim a suspended task. approved: it is yours; pending: an owner or arbiter decides, or the crashed owner has a grace period to return (see message)."""
    client = await ctx.connected()
    rels = await ctx.resolve(files) if files else None
    took = await client.take_over(
        original_intent_id,
        objective=new_objective,
        files=rels,
        justification=justification,
        original_principal_id=original_principal_id,
        extensions=ctx.worktree_extension(),
        wait=False,
    )
    if took.error_code == "NO_SUCH_INTENT":
        return ClaimResult(
            status="error", message=f"no live intent {original_intent_id!r}; call who_is_working"
        )
    if took.error_code == "NOT_SUSPENDED":
        return ClaimResult(
            status="rejected",
            message=took.description.replace("suspended intent", "suspended task"),
        )
    if took.pending:
        return ClaimResult(
            status="pending",
            new_intent_id=took.new_intent_id,
            claim_id=took.claim_id,
            message=_pending_claim(client.session, took.original_principal_id, took.new_intent_id),
        )
    if took.ok:
        return ClaimResult(
            status="approved",
            new_intent_id=took.new_intent_id,
            claim_id=took.claim_id,
            message=f"{original_intent_id} is yours as {took.new_intent_id}",
        )
    if took.decision:  # decided against at once
        return ClaimResult(status="rejected", message=took.description or took.decision)
    return ClaimResult(status="rejected", message=took.failure)


def _pending_claim(session: Session, owner: str, new_id: str) -> str:
    """Why a claim is pending: a human decides, or the grace for the owner's return (A8)."""
    policies = session.policies
    deciders = [p.principal_id for p in session.arbiters(exclude=(session.me,), available=True)]
    mode = policies.intent_claim_approval
    if mode == "auto" or (mode == "arbiter_or_auto" and not deciders):
        return (
            f"approved automatically about {policies.intent_claim_grace_period_sec:g} s after the claim unless {owner} "
            f"comes back first; list_my_tasks shows {new_id} once it is yours"
        )
    who = ", ".join(deciders) or "an owner or arbiter"
    return (
        f"waiting for {who} to approve the takeover; list_my_tasks shows {new_id} once it is yours"
    )


TOOLS: tuple[Callable[..., Any], ...] = (
    who_is_working,
    begin_task,
    check_overlap,
    get_file_state,
    submit_change,
    yield_task,
    update_task,
    defer_task,
    list_my_tasks,
    wait_for_files,
    ack_conflict,
    escalate_conflict,
    resolve_conflict,
    take_over_task,
)

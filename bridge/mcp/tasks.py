"""The task lifecycle tools: begin a task (claim its files or symbols), change it, yield it, defer
files to their holder, wait for them, and take over a suspended task. Each sends through the
client's request helpers and turns the coordinator's answer into a tool result."""

from __future__ import annotations

import time
from typing import Annotated

from pydantic import Field

from bridge.client import Intent, Session
from bridge.client.scope import announce_scope, is_symbol_id, split_symbol
from bridge.mcp.claims import resolve_claim
from bridge.mcp.context import ToolContext
from bridge.mcp.models import BeginResult, ClaimResult, Holder, Released, SimpleResult, WaitResult
from bridge.mcp.params import IntentId, Objective, RepoPath, Symbols, Why
from bridge.mcp.results import answer, conflict_info, holders_here, my_intents_hint, same_file_notes

# begin_task's claim lasts this long without updates unless ttl_sec says otherwise
DEFAULT_TTL_SEC = 1800


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
    # the coordinator supersedes these (A4)
    mine = _own_overlapping(client.session, rels, claimed, ctx.worktree)
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
        conflicts = [conflict_info(c) for c in client.session.conflicts_of(intent_id)]
        same = same_file_notes(client.session, rels, claimed, ctx.worktree)
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


async def yield_task(
    ctx: ToolContext,
    intent_id: Annotated[str, Field(description="the intent to end")],
    reason: Why = None,
) -> SimpleResult:
    """Release your claim on the files when you are done (or giving up)."""
    client = await ctx.connected()
    reply = await client.withdraw(intent_id, reason)
    return answer(reply, "INTENT_WITHDRAW accepted", my_intents_hint(client.session))


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
    return answer(reply, "INTENT_UPDATE accepted", my_intents_hint(client.session))


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
        h.intent_id for h in holders_here(client.session, rels, ctx.worktree)
    ]
    reply = await client.defer(
        rels, reason=reason or "yielded_to_active_editor", observed_intent_ids=observed
    )
    return answer(reply, "INTENT_DEFERRED accepted")


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
        lambda _v: not holders_here(client.session, rels, ctx.worktree, ids),
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
        holders=holders_here(client.session, rels, ctx.worktree, ids),
        waited_sec=waited,
        message="still held; call defer_task and work on something else, or wait again",
    )


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

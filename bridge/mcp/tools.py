"""The tools, as plain async functions of a ToolContext. The MCP layer (server.py) only registers
them; tests call them directly against a real sidecar."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bridge.client import SessionClient
from bridge.mcp.context import ToolContext
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
    SimpleResult,
    SubmitResult,
    TaskList,
    WaitResult,
    WhoResult,
)
from bridge.mcp.settle import commit_settled
from bridge.protocol.envelope import format_ts
from bridge.workspace import (
    PathRefused,
    StaleWrite,
    file_lock_async,
    read_file_state,
    resolve_in_repo,
    state_ref_of_bytes,
    write_if_matches,
)
from bridge.workspace.state import state_ref_of

DEFAULT_TTL_SEC = 1800  # begin_task's claim lasts this long without updates unless ttl_sec says otherwise


def _files_of(scope: dict[str, Any]) -> list[str]:
    if scope.get("kind") == "file_set":
        return list(scope.get("resources") or [])
    if scope.get("kind") == "resource_path":
        return [str(scope.get("pattern", ""))]
    return [f"{scope.get('kind')}:{','.join(scope.get('entities') or scope.get('task_ids') or [])}"]


def _intent(i: dict[str, Any]) -> IntentInfo:
    exp = i.get("expires_at")
    return IntentInfo(intent_id=i["intent_id"], principal_id=i["principal_id"], objective=i.get("objective", ""),
                      files=_files_of(i.get("scope") or {}), state=i.get("state", "ACTIVE"),
                      expires_in_sec=round(exp - time.time(), 1) if isinstance(exp, (int, float)) else None,
                      deferred_by=list(i.get("deferred_by") or []), worktree=i.get("worktree"), branch=i.get("branch"))


def _conflict(c: dict[str, Any]) -> ConflictInfo:
    return ConflictInfo(conflict_id=c["conflict_id"], category=c.get("category") or "", severity=c.get("severity") or "",
                        state=c.get("state", "OPEN"), principals=list(c.get("principals") or []),
                        related_intents=list(c.get("related_intents") or []), description=c.get("description", ""))


def _holder(i: dict[str, Any], shared: list[str] | None = None) -> Holder:
    exp = i.get("expires_at")  # the view keeps Unix seconds; agents get RFC 3339 as in a blocked begin_task
    return Holder(principal_id=i["principal_id"], intent_id=i["intent_id"], objective=i.get("objective", ""),
                  files=shared or _files_of(i.get("scope") or {}),
                  expires_at=format_ts(exp) if isinstance(exp, (int, float)) and exp > 0 else None)


def _holders(client: SessionClient, files: list[str], worktree: str | None) -> list[Holder]:
    """Who holds these files in our checkout (another worktree's intent on a path does not hold
    our copy of it: docs/protocol.md "Worktrees")."""
    out = []
    for intent, ov in client.view.overlapping(files, exclude_principal=client.principal_id):
        if ov.race_locked and intent.get("state") == "ACTIVE" and intent.get("worktree") == worktree:
            out.append(_holder(intent, list(ov.shared)))
    return out


async def who_is_working(ctx: ToolContext, repo_path: str | None = None) -> WhoResult:
    ctx.check_repo(repo_path) if ctx.url is None else None
    client = await ctx.connected()
    v = client.view
    parts = [ParticipantInfo(principal_id=p["principal_id"], display_name=p.get("display_name", p["principal_id"]),
                             roles=list(p.get("roles") or []), status=p.get("status", ""),
                             available=bool(p.get("is_available", True) and p.get("connected", True)))
             for p in sorted(v.participants.values(), key=lambda p: p["principal_id"])]
    return WhoResult(status="ok", session_id=v.session_id, you=client.principal_id, participants=parts,
                     intents=[_intent(i) for i in v.live_intents()], conflicts=[_conflict(c) for c in v.conflicts.values()])


async def begin_task(ctx: ToolContext, objective: str, files: list[str], repo_path: str | None = None,
                     ttl_sec: float | None = None, symbols: list[str] | None = None) -> BeginResult:
    ctx.check_repo(repo_path) if ctx.url is None else None
    if not files:
        return BeginResult(status="error", message="list the files you will edit (at least one)")
    rels = await ctx.resolve(files)
    client = await ctx.connected()
    scope: dict[str, Any] = {"kind": "file_set", "resources": rels}
    if symbols:
        scope["extensions"] = {"affects_symbols": list(symbols)}
    intent_id = client.new_id("intent")
    where = ctx.worktree_extension()
    mine = _own_overlapping(client, rels, ctx.worktree)  # the coordinator supersedes these (A4): say what that releases
    reply = await client.announce(objective, scope=scope, intent_id=intent_id, ttl_sec=ttl_sec or DEFAULT_TTL_SEC,
                                  **({"extensions": where} if where else {}))
    if reply.ok:
        conflicts = [_conflict(c) for c in client.view.conflicts_of(intent_id)]
        step = "Edit the files, then call submit_change for each; call yield_task when done."
        if conflicts:
            step = "Registered, with advisory overlaps: coordinate with the other principals (ack_conflict) before large edits. " + step
        released = _released(mine, rels)
        note = ""
        if released:
            files = [f for r in released for f in r.files]
            note = (f"This replaced your earlier intent(s) {', '.join(r.intent_id for r in released)}: an agent claims a file "
                    f"through one intent only, so they ended. No longer claimed by you: {', '.join(files) or 'nothing'}.")
            if files:
                step = f"If you still need those files, call update_task({intent_id!r}, files=<all the files you need>). " + step
        return BeginResult(status="ok", intent_id=intent_id, files=rels, conflicts=conflicts, released=released,
                           next_step=step, message=note)
    if reply.error_code == "STALE_INTENT":
        holders = [Holder(**{k: h.get(k) for k in ("principal_id", "intent_id", "objective", "files", "expires_at")})
                   for h in reply.extensions.get("holders", [])]
        return BeginResult(status="blocked", files=rels, holders=holders, message=reply.description,
                           next_step="Do not edit these files. Either call defer_task and work on something else, or call "
                                     "wait_for_files to wait until they are free, then begin_task again.")
    return BeginResult(status="error", files=rels, message=f"{reply.error_code}: {reply.description}",
                       next_step="Fix the request as the message says, or call who_is_working to see the session.")


def _own_overlapping(client: SessionClient, rels: list[str], worktree: str | None) -> list[dict[str, Any]]:
    """Our ACTIVE intents in this worktree that share a file with `rels`: a new intent on these files
    supersedes them (the coordinator's rule, A4)."""
    if not any(i.get("state") == "ACTIVE" for i in client.view.intents_of(client.principal_id)):
        return []  # the common case, and no need to normalize a long list
    return [i for i, ov in client.view.overlapping(rels) if i["principal_id"] == client.principal_id and ov.race_locked
            and i.get("state") == "ACTIVE" and i.get("worktree") == worktree]


def _released(superseded: list[dict[str, Any]], rels: list[str]) -> list[Released]:
    kept = set(rels)
    return [Released(intent_id=i["intent_id"], objective=i.get("objective", ""),
                     files=[f for f in _files_of(i.get("scope") or {}) if f not in kept]) for i in superseded]


async def check_overlap(ctx: ToolContext, files: list[str], repo_path: str | None = None) -> OverlapResult:
    ctx.check_repo(repo_path) if ctx.url is None else None
    rels = await ctx.resolve(files)
    client = await ctx.connected()
    def kind(i: dict[str, Any], ov: Any) -> str:
        if not ov.race_locked:
            return str(ov.basis)
        return "file" if i.get("worktree") == ctx.worktree else "worktree"

    overlaps = [Overlap(principal_id=i["principal_id"], intent_id=i["intent_id"], objective=i.get("objective", ""),
                        shared=list(ov.shared), kind=kind(i, ov), worktree=i.get("worktree"), branch=i.get("branch"))
                for i, ov in client.view.overlapping(rels, exclude_principal=client.principal_id)]
    return OverlapResult(status="ok", has_overlap=bool(overlaps), overlaps=overlaps)


async def get_file_state(ctx: ToolContext, path: str, repo_path: str | None = None, include_content: bool = True) -> FileStateResult:
    repo = ctx.check_repo(repo_path)
    try:
        state = await asyncio.to_thread(read_file_state, repo, path, include_content=include_content)
    except PathRefused as exc:
        return FileStateResult(status="refused", path=path, message=str(exc))
    client = await ctx.connected()
    held = _holders(client, [state.path], ctx.worktree)
    last = (client.view.targets_of(ctx.worktree).get(state.path) or {}).get("principal_id")
    return FileStateResult(status="ok", path=state.path, exists=state.exists, state_ref=state.state_ref, size=state.size,
                           content=state.content, truncated=state.truncated, last_commit_by=last, held_by=held,
                           message=_file_note(state.is_text, state.truncated, len(state.content or "")))


def _file_note(is_text: bool, truncated: bool, shown: int) -> str:
    if not is_text:
        return "binary file: content not shown"
    if truncated:
        return (f"content truncated: only the first {shown:,} characters are shown. Do not submit it as the whole file; "
                "edit the file on disk and call submit_change without content")
    return ""


async def submit_change(ctx: ToolContext, intent_id: str, target: str, state_ref_before: str,
                        content: str | None = None, repo_path: str | None = None, op_id: str | None = None) -> SubmitResult:
    """Commit, then write. A lost connection is settled by op_id (bridge/mcp/settle.py), never
    reported as a refusal; `op_id` repeats an earlier call whose outcome was unknown."""
    repo = ctx.check_repo(repo_path)
    try:
        rel = resolve_in_repo(repo, target)
    except PathRefused as exc:
        return SubmitResult(status="error", target=target, message=str(exc))
    client = await ctx.connected()
    async with file_lock_async(repo, rel):  # held across check → commit → write against our own writers
        on_disk = state_ref_of(repo, rel)
        if content is None:  # the agent already edited the file: record what is on disk now
            after = on_disk
        else:
            after = state_ref_of_bytes(content.encode("utf-8"))
            if on_disk != state_ref_before and not (op_id and on_disk == after):
                return SubmitResult(status="stale", target=rel, current_state_ref=on_disk,
                                    message="the file changed since you read it; call get_file_state and redo your change")
        op_id = op_id or client.new_id("op")
        settled = await commit_settled(ctx, client, intent_id, rel, state_ref_before, after, op_id, ctx.worktree_extension())
        reply = settled.reply
        if reply is None:
            return SubmitResult(status="error", op_id=op_id, target=rel,
                                message=f"the connection to the coordinator was lost while committing {op_id}, and whether it was "
                                        f"recorded cannot be told ({settled.why}); nothing was written. Next step: call submit_change "
                                        f"again with the same arguments and op_id={op_id!r}: it finishes this change if it was "
                                        "recorded, or commits it now, exactly once")
        recovered = ("recorded" if settled.recorded is not None else "resent") if settled.lost else None
        if settled.recorded is not None:
            problem = _not_this_change(settled.recorded, rel, state_ref_before, after)
            if problem:
                return SubmitResult(status="error", op_id=op_id, target=rel, recovered=recovered,
                                    current_state_ref=settled.recorded.get("current_state_ref"), message=problem)
        elif not reply.ok:
            lost = "nothing was committed: the connection was lost and the retry was refused: " if settled.lost else ""
            if reply.error_code == "STALE_STATE_REF":
                return SubmitResult(status="stale", target=rel, current_state_ref=reply.extensions.get("current_state_ref"),
                                    message=lost + reply.description)
            return SubmitResult(status="rejected", target=rel, message=f"{lost}{reply.error_code}: {reply.description}")
        if content is not None:
            try:
                write_if_matches(repo, rel, state_ref_before, content, locked=True)
            except StaleWrite as exc:  # only a writer that ignores the lock (an editor) can get here
                if exc.current_state_ref != after:  # (the same content already there is this write)
                    return SubmitResult(status="error", op_id=op_id, target=rel, current_state_ref=exc.current_state_ref,
                                        recovered=recovered, message="the commit was recorded but the file changed on disk "
                                                                     "before the write; re-read it and submit again")
    how = {"recorded": " (the connection was lost after the coordinator recorded the commit; the write was finished after reconnecting)",
           "resent": " (the connection was lost before the coordinator recorded the commit; it was sent again and recorded once)"}
    return SubmitResult(status="success", op_id=op_id, target=rel, state_ref_after=after, written=content is not None,
                        recovered=recovered, message="committed" + (" and written to disk" if content is not None else " (file already edited)")
                        + how.get(recovered or "", ""))


def _not_this_change(rec: dict[str, Any], rel: str, before: str, after: str) -> str:
    """Why an op_id the coordinator recorded cannot be finished as this change ('' when it can)."""
    if (rec.get("target"), rec.get("state_ref_before"), rec.get("state_ref_after")) != (rel, before, after):
        return (f"op_id {rec.get('op_id')!r} is your recorded commit of {rec.get('target')} from {rec.get('state_ref_before')} "
                f"to {rec.get('state_ref_after')}, not this change; leave op_id out to submit a new change")
    if not rec.get("current"):
        return (f"your commit {rec.get('op_id')} was recorded, but a later commit has replaced it "
                f"({rec.get('current_state_ref')}); nothing was written. Call get_file_state and redo your change")
    return ""


async def _simple(client: SessionClient, mtype: str, payload: dict[str, Any],
                  hint: Callable[[], str] | None = None) -> SimpleResult:
    """Send and report the coordinator's answer. On a refusal, `hint` adds what the agent can use
    instead (the coordinator decides; the hint only reads the view)."""
    reply = await client.request(mtype, payload)
    if reply.ok:
        return SimpleResult(status="ok", message=f"{mtype} accepted", details={"message_id": reply.request_id})
    status = "error" if reply.error_code in ("TIMEOUT", "NOT_CONNECTED", "CONNECTION_LOST") else "rejected"
    extra = f"; {hint()}" if hint is not None and status == "rejected" else ""
    return SimpleResult(status=status, message=f"{reply.error_code}: {reply.description}{extra}")


def _my_intents(client: SessionClient) -> Callable[[], str]:
    return lambda: f"your live intents: {[i['intent_id'] for i in client.view.intents_of(client.principal_id)] or 'none'} (list_my_tasks)"


def _open_conflicts(client: SessionClient) -> Callable[[], str]:
    return lambda: f"open conflicts: {sorted(client.view.conflicts) or 'none'} (who_is_working)"


async def yield_task(ctx: ToolContext, intent_id: str, reason: str | None = None) -> SimpleResult:
    client = await ctx.connected()
    payload = {"intent_id": intent_id, **({"reason": reason} if reason else {})}
    return await _simple(client, "INTENT_WITHDRAW", payload, _my_intents(client))


async def update_task(ctx: ToolContext, intent_id: str, objective: str | None = None, files: list[str] | None = None,
                      ttl_sec: float | None = None) -> SimpleResult:
    client = await ctx.connected()
    payload: dict[str, Any] = {"intent_id": intent_id}
    if objective:
        payload["objective"] = objective
    if files:
        payload["scope"] = {"kind": "file_set", "resources": await ctx.resolve(files)}
    if ttl_sec:
        payload["ttl_sec"] = ttl_sec
    return await _simple(client, "INTENT_UPDATE", payload, _my_intents(client))


async def defer_task(ctx: ToolContext, files: list[str], reason: str | None = None, observed_intent_ids: list[str] | None = None) -> SimpleResult:
    client = await ctx.connected()
    rels = await ctx.resolve(files)
    observed = observed_intent_ids or [h.intent_id for h in _holders(client, rels, ctx.worktree)]
    return await _simple(client, "INTENT_DEFERRED", {"deferral_id": client.new_id("defer"), "scope": {"kind": "file_set", "resources": rels},
                                                     "reason": reason or "yielded_to_active_editor", "observed_intent_ids": observed})


async def list_my_tasks(ctx: ToolContext) -> TaskList:
    client = await ctx.connected()
    return TaskList(status="ok", tasks=[_intent(i) for i in client.view.intents_of(client.principal_id)])


async def wait_for_files(ctx: ToolContext, files: list[str], timeout_sec: float = 60.0) -> WaitResult:
    client = await ctx.connected()
    rels = await ctx.resolve(files)
    start = time.monotonic()
    free = await client.wait_until(lambda _v: not _holders(client, rels, ctx.worktree), max(0.0, min(timeout_sec, 3600)))
    waited = round(time.monotonic() - start, 3)
    if free:
        return WaitResult(status="free", files=rels, waited_sec=waited, message="the files are free: call begin_task now")
    return WaitResult(status="timeout", files=rels, holders=_holders(client, rels, ctx.worktree), waited_sec=waited,
                      message="still held; call defer_task and work on something else, or wait again")


async def ack_conflict(ctx: ToolContext, conflict_id: str, ack_type: str = "seen") -> SimpleResult:
    client = await ctx.connected()
    return await _simple(client, "CONFLICT_ACK", {"conflict_id": conflict_id, "ack_type": ack_type}, _open_conflicts(client))


async def escalate_conflict(ctx: ToolContext, conflict_id: str, reason: str, escalate_to: str | None = None,
                            context: str | None = None) -> SimpleResult:
    client = await ctx.connected()
    target = escalate_to
    if target is None:
        arbiters = [p for p, q in sorted(client.view.participants.items()) if {"arbiter", "owner"} & set(q.get("roles") or [])
                    and q.get("connected", True)]
        if not arbiters:
            return SimpleResult(status="error", message="no owner or arbiter is in the session; name one with escalate_to")
        target = arbiters[0]
    payload = {"conflict_id": conflict_id, "escalate_to": target, "reason": reason, **({"context": context} if context else {})}
    return await _simple(client, "CONFLICT_ESCALATE", payload, _open_conflicts(client))


async def resolve_conflict(ctx: ToolContext, conflict_id: str, decision: str, rationale: str = "",
                           outcome: dict[str, Any] | None = None) -> SimpleResult:
    client = await ctx.connected()
    payload: dict[str, Any] = {"conflict_id": conflict_id, "decision": decision, "rationale": rationale or decision}
    if outcome:
        payload["outcome"] = outcome
    return await _simple(client, "RESOLUTION", payload, _open_conflicts(client))


async def take_over_task(ctx: ToolContext, original_intent_id: str, new_objective: str | None = None,
                         files: list[str] | None = None, original_principal_id: str | None = None,
                         justification: str | None = None) -> ClaimResult:
    client = await ctx.connected()
    original = client.view.intents.get(original_intent_id)
    if original is None:
        return ClaimResult(status="error", message=f"no live intent {original_intent_id!r}; call who_is_working")
    if original.get("state") != "SUSPENDED":
        return ClaimResult(status="rejected", message=f"{original_intent_id} is {original.get('state')}: only suspended tasks can be taken over")
    new_id = client.new_id("intent")
    scope = {"kind": "file_set", "resources": files} if files else original.get("scope") or {}
    claim = {"claim_id": client.new_id("claim"), "original_intent_id": original_intent_id,
             "original_principal_id": original_principal_id or original["principal_id"], "new_intent_id": new_id,
             "objective": new_objective or original.get("objective", ""), "scope": scope,
             **({"justification": justification} if justification else {}),
             **({"extensions": ctx.worktree_extension()} if ctx.repo is not None else {})}
    status_watch = client.wait_for(lambda m: m.get("message_type") == "INTENT_CLAIM_STATUS" and m["payload"].get("claim_id") == claim["claim_id"], 10)
    reply = await client.request("INTENT_CLAIM", claim)
    if not reply.ok:
        status_watch.cancel()
        return ClaimResult(status="rejected", message=f"{reply.error_code}: {reply.description}")
    if reply.message and reply.message.get("message_type") == "INTENT_CLAIM":
        status_watch.cancel()
        return ClaimResult(status="pending", new_intent_id=new_id, claim_id=claim["claim_id"],
                           message=_pending_claim(client, claim["original_principal_id"], new_id))
    decision = reply.payload.get("decision")
    if decision == "approved":
        status_watch.cancel()
        return ClaimResult(status="approved", new_intent_id=new_id, claim_id=claim["claim_id"], message=f"{original_intent_id} is yours as {new_id}")
    status_watch.cancel()
    return ClaimResult(status="rejected", message=str(reply.payload.get("reason", decision)))



def _pending_claim(client: Any, owner: str, new_id: str) -> str:
    """Why a claim is pending: a human decides, or the grace for the owner's return (A8)."""
    liveness = client.view.policies.get("liveness_policy") or {}
    mode = liveness.get("intent_claim_approval", "governance")
    deciders = [p for p, q in sorted(client.view.participants.items()) if p != client.principal_id
                and {"owner", "arbiter"} & set(q.get("roles") or []) and q.get("connected", True) and q.get("is_available", True)]
    if mode == "auto" or (mode == "arbiter_or_auto" and not deciders):
        grace = liveness.get("intent_claim_grace_period_sec", 30)
        return (f"approved automatically about {grace:g} s after the claim unless {owner} comes back first; "
                f"list_my_tasks shows {new_id} once it is yours")
    who = ", ".join(deciders) or "an owner or arbiter"
    return f"waiting for {who} to approve the takeover; list_my_tasks shows {new_id} once it is yours"

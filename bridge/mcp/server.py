"""The MCP layer: registers the tool functions on an mcp 2.x MCPServer. No logic lives here."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from bridge import __version__
from bridge.mcp import tools
from bridge.mcp.context import ToolContext, ToolFailure
from bridge.mcp.limits import check_arguments
from bridge.mcp.models import (
    BeginResult,
    ClaimResult,
    FileStateResult,
    OverlapResult,
    SimpleResult,
    SubmitResult,
    TaskList,
    WaitResult,
    WhoResult,
)
from bridge.mcp.notify import STATE_URI, StateNotifier
from bridge.protocol.parse import MAX_FRAME_BYTES
from bridge.workspace import PathRefused

INSTRUCTIONS = """\
You share this git repository with other agents and humans. mpac-bridge keeps you from overwriting each
other's work. Follow this workflow for every change:

1. check   - who_is_working (the whole session) or check_overlap(files) before you plan.
2. begin   - begin_task(objective, files) BEFORE editing, with every file of the task. status "ok"
             gives you an intent_id. A begin_task naming a file an earlier intent of yours holds
             replaces that intent: "released" lists its files you no longer hold (update_task to add them).
             status "blocked" means another principal holds a file: do NOT edit it. Either call
             defer_task(files) and work on something else, or call wait_for_files(files, timeout_sec)
             and then begin_task again.
3. edit    - get_file_state(path) gives the content and its state_ref. Make your change.
4. submit  - submit_change(intent_id, target, state_ref_before=<the state_ref you read>, content=<new text>)
             writes the file and records the change. status "stale" means the file changed since you
             read it: call get_file_state again, redo your change on the new content, submit again.
             If you edited the file yourself, call submit_change without content to record it.
             status "error" after a lost connection gives an op_id: call submit_change again with the
             same arguments and that op_id; it finishes the change or redoes it, exactly once.
5. yield   - yield_task(intent_id) as soon as you are done, so others can proceed.

Conflicts: overlaps that are not exact file collisions (patterns, entities) are reported as conflicts.
Acknowledge with ack_conflict. If you cannot agree with the other principal, escalate_conflict to a human
owner or arbiter; only they can resolve_conflict once it is escalated. If an agent crashed, its tasks
become SUSPENDED: take_over_task can claim them (a human may need to approve).
Never edit a file another principal holds, and never bypass a "stale" or "blocked" answer.
"""

T = TypeVar("T")
log = logging.getLogger("mpac.mcp")


_REFUSAL: contextvars.ContextVar[str | None] = contextvars.ContextVar("mpac_tool_refusal", default=None)


async def _run(call: Coroutine[Any, Any, T]) -> T:
    refusal = _REFUSAL.get()
    if refusal is not None:  # the arguments failed check_limits: the tool does not run
        call.close()
        raise ToolError(refusal)
    try:
        return await call
    except (ToolFailure, PathRefused) as exc:
        raise ToolError(str(exc)) from None
    except Exception as exc:  # a bug or an OS error nobody foresaw: still say what happened
        log.exception("tool failed")
        raise ToolError(f"the tool failed ({type(exc).__name__}: {exc}); the MCP server's log (stderr) has the details") from None


def _client_name(rctx: Any) -> str | None:
    """The MCP client's name: from `initialize` (handshake era) or the session's client info."""
    with contextlib.suppress(Exception):
        if rctx.method == "initialize":
            return str((rctx.params or {})["clientInfo"]["name"])
    with contextlib.suppress(Exception):
        return str(rctx.session.client_params.client_info.name)
    return None


def build_server(ctx: ToolContext, *, connect_early: bool = True) -> MCPServer:
    """The MCPServer for `ctx`. With `connect_early`, the participant joins in the background right
    after the MCP client introduced itself, so the first tool call does not pay for it."""
    background: list[asyncio.Task[Any]] = []

    @contextlib.asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[None]:
        try:
            yield
        finally:  # GOODBYE with the configured disposition, on the loop the client lives on
            notifier.stop()
            for task in background:
                task.cancel()
            with contextlib.suppress(Exception):
                await ctx.close()

    mcp = MCPServer("mpac-bridge", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan)
    notifier = StateNotifier(mcp)
    ctx.on_connect.append(notifier.attach)

    async def introduce(rctx: Any, call_next: Any) -> Any:
        result = await call_next(rctx)
        if ctx.client is None and not background:
            ctx.adopt_client_name(_client_name(rctx))
            if connect_early:
                background.append(asyncio.get_running_loop().create_task(_connect_quietly(ctx)))
        return result

    async def check_limits(rctx: Any, call_next: Any) -> Any:
        """Check a tools/call's arguments before the tool runs (limits.check_arguments); a problem
        is handed to `_run`, which turns it into the tool's error through the normal result path."""
        params = rctx.params if rctx.method == "tools/call" else None
        if not (isinstance(params, Mapping) and isinstance(params.get("arguments"), Mapping)):
            return await call_next(rctx)
        limit = ctx.client.frame_limit if ctx.client is not None else MAX_FRAME_BYTES
        token = _REFUSAL.set(check_arguments(str(params.get("name")), dict(params["arguments"]), limit))
        try:
            return await call_next(rctx)
        finally:
            _REFUSAL.reset(token)

    mcp._lowlevel_server.middleware.append(introduce)
    mcp._lowlevel_server.middleware.append(check_limits)

    @mcp.tool()
    async def who_is_working(repo_path: str | None = Field(None, description="repository path; default: the server's repository")) -> WhoResult:
        """Everyone in the session: participants, their live intents (ACTIVE or SUSPENDED) and open conflicts."""
        return await _run(tools.who_is_working(ctx, repo_path))

    @mcp.tool()
    async def begin_task(
        objective: str = Field(description="what you are about to do, in one sentence"),
        files: list[str] = Field(description="every file you will edit, relative to the repository root"),
        repo_path: str | None = Field(None, description="repository path; default: the server's repository"),
        ttl_sec: float | None = Field(None, description=f"how long the claim lasts without updates (default {tools.DEFAULT_TTL_SEC} s)"),
        symbols: list[str] | None = Field(None, description="functions or classes you will change (improves conflict detection)"),
    ) -> BeginResult:
        """Announce what you will edit before editing. Returns ok with an intent_id, or blocked with who holds the files."""
        return await _run(tools.begin_task(ctx, objective, files, repo_path, ttl_sec, symbols))

    @mcp.tool()
    async def check_overlap(
        files: list[str] = Field(description="files you are considering, relative to the repository root"),
        repo_path: str | None = Field(None, description="repository path; default: the server's repository"),
    ) -> OverlapResult:
        """Read-only: which other principals' intents touch these files."""
        return await _run(tools.check_overlap(ctx, files, repo_path))

    @mcp.tool()
    async def get_file_state(
        path: str = Field(description="file path relative to the repository root"),
        repo_path: str | None = Field(None, description="repository path; default: the server's repository"),
        include_content: bool = Field(True, description="include the text content (large files are truncated)"),
    ) -> FileStateResult:
        """The file as it is on disk now: its state_ref (pass it to submit_change), size, content and who holds it."""
        return await _run(tools.get_file_state(ctx, path, repo_path, include_content))

    @mcp.tool()
    async def submit_change(
        intent_id: str = Field(description="the intent_id begin_task returned"),
        target: str = Field(description="the file to change, relative to the repository root"),
        state_ref_before: str = Field(description="the state_ref get_file_state gave you before your change"),
        content: str | None = Field(None, description="the complete new file content; omit it if you already edited the file"),
        repo_path: str | None = Field(None, description="repository path; default: the server's repository"),
        op_id: str | None = Field(None, description="only to repeat a call whose outcome was unknown (status error after a "
                                                    "lost connection): the op_id it returned; the change is then done exactly once"),
    ) -> SubmitResult:
        """Record a change and (with content) write it to disk, only if nobody changed the file since you read it."""
        return await _run(tools.submit_change(ctx, intent_id, target, state_ref_before, content, repo_path, op_id))

    @mcp.tool()
    async def yield_task(
        intent_id: str = Field(description="the intent to end"),
        reason: str | None = Field(None, description="why, for the others (optional)"),
    ) -> SimpleResult:
        """Release your claim on the files when you are done (or giving up)."""
        return await _run(tools.yield_task(ctx, intent_id, reason))

    @mcp.tool()
    async def update_task(
        intent_id: str = Field(description="your intent"),
        objective: str | None = Field(None, description="a new objective"),
        files: list[str] | None = Field(None, description="the new complete list of files (blocked if another principal holds one)"),
        ttl_sec: float | None = Field(None, description="extend the claim by this many seconds from now"),
    ) -> SimpleResult:
        """Change your intent's objective, files or lifetime."""
        return await _run(tools.update_task(ctx, intent_id, objective, files, ttl_sec))

    @mcp.tool()
    async def defer_task(
        files: list[str] = Field(description="the files you wanted but will leave to their holder"),
        reason: str | None = Field(None, description="why (default yielded_to_active_editor)"),
        observed_intent_ids: list[str] | None = Field(None, description="the holders' intent ids (default: found for you)"),
    ) -> SimpleResult:
        """Tell everyone you are yielding these files to their current holder; you will be told when they are free."""
        return await _run(tools.defer_task(ctx, files, reason, observed_intent_ids))

    @mcp.tool()
    async def list_my_tasks() -> TaskList:
        """Your live intents."""
        return await _run(tools.list_my_tasks(ctx))

    @mcp.tool()
    async def wait_for_files(
        files: list[str] = Field(description="files you are waiting for"),
        timeout_sec: float = Field(60.0, description="give up after this many seconds (max 3600)"),
    ) -> WaitResult:
        """Wait until no other principal holds these files (returns as soon as they are free)."""
        return await _run(tools.wait_for_files(ctx, files, timeout_sec))

    @mcp.tool()
    async def ack_conflict(
        conflict_id: str = Field(description="the conflict"),
        ack_type: str = Field("seen", description="seen, accepted or disputed"),
    ) -> SimpleResult:
        """Acknowledge a conflict you are part of."""
        return await _run(tools.ack_conflict(ctx, conflict_id, ack_type))

    @mcp.tool()
    async def escalate_conflict(
        conflict_id: str = Field(description="the conflict"),
        reason: str = Field(description="why it needs a decision"),
        escalate_to: str | None = Field(None, description="principal id of an owner or arbiter (default: the first one present)"),
        context: str | None = Field(None, description="anything the decider should know"),
    ) -> SimpleResult:
        """Hand a conflict to a human owner or arbiter."""
        return await _run(tools.escalate_conflict(ctx, conflict_id, reason, escalate_to, context))

    @mcp.tool()
    async def resolve_conflict(
        conflict_id: str = Field(description="the conflict"),
        decision: str = Field(description="approved, rejected, dismissed, human_override, policy_override or merged"),
        rationale: str = Field("", description="why"),
        outcome: dict[str, Any] | None = Field(None, description='{"accepted": [ids], "rejected": [ids], "merged": [ids], "rollback": ...}'),
    ) -> SimpleResult:
        """Settle a conflict (needs authority: owner or arbiter; after escalation, the escalation target)."""
        return await _run(tools.resolve_conflict(ctx, conflict_id, decision, rationale, outcome))

    @mcp.tool()
    async def take_over_task(
        original_intent_id: str = Field(description="the SUSPENDED intent of a participant who left or crashed"),
        new_objective: str | None = Field(None, description="your objective (default: the original's)"),
        files: list[str] | None = Field(None, description="the files you take (default: all of the original's; may only narrow)"),
        original_principal_id: str | None = Field(None, description="its owner (default: looked up)"),
        justification: str | None = Field(None, description="why you take it over"),
    ) -> ClaimResult:
        """Claim a suspended task. approved: it is yours; pending: an owner or arbiter decides, or the crashed owner has a grace period to return (see message)."""
        return await _run(tools.take_over_task(ctx, original_intent_id, new_objective, files, original_principal_id, justification))

    @mcp.resource(STATE_URI, mime_type="application/json")
    async def session_state() -> str:
        """The live session state (participants, intents, conflicts, committed targets)."""
        client = await ctx.connected()
        return json.dumps(client.view.summary(), default=str)

    mcp.notifier = notifier  # type: ignore[attr-defined]  # for tests and the bench
    return mcp


async def _connect_quietly(ctx: ToolContext) -> None:
    try:
        await ctx.connected()
    except Exception as exc:  # the first tool call reports it properly
        log.info("early connect failed: %s", exc)
